"""The clinic administrator's windows: staff accounts and the audit log."""
