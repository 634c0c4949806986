"""The peer HTTP API: what one node exposes to another."""
