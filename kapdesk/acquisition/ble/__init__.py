"""Bluetooth LE monitors: an asyncio thread for bleak, the transport, and a bumble backend."""
