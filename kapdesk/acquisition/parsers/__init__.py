"""Monitor protocol parsers: bytes in, ``Reading``s out, nothing else.

Packet protocols (one BLE notification = one frame) expose ``parse(frame)`` functions that
raise only ``ParseError``; stream protocols (serial byte streams) expose a ``Decoder`` whose
``feed`` never raises and resynchronises after garbage. ``registry.PROTOCOLS`` names them all.
"""

from kapdesk.acquisition.parsers.errors import ParseError

__all__ = ["ParseError"]
