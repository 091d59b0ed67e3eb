"""kapdesk: session timeline, live vitals and integration journaling for KAP clinics."""

__version__ = "0.1.0"
