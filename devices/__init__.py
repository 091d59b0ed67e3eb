"""Supported monitors: the device catalog, frame encoders, emulators and the emulated patient."""
