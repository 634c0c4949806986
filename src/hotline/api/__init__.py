"""The operator HTTP API (JSON, authenticated)."""
