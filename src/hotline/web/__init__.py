"""The operator console (server-rendered pages)."""
