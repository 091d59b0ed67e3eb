"""Frame builders for each monitor protocol, used by the emulators and round-trip tests.

They are written from the protocol descriptions independently of the parsers (no shared
code), so a round trip checks one reading of the spec against the other.
"""
