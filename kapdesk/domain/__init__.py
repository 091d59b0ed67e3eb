"""Plain-Python core of kapdesk: no Qt, no SQL, no I/O (enforced by tests/test_layers.py)."""
