"""Device emulators: fake monitors on real transports (pty serial ports, bumble BLE)."""
