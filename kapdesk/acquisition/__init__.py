"""From monitors to readings: transports, parsers, the device catalog and the ingest hub."""
