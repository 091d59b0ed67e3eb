"""Readings stored at their real size: blocks of one channel's samples (``codec.py``),
written on the recorder's thread (``writer.py``), read back one way (``reader.py``)."""
