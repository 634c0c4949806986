"""Use cases, one module per capability. Each takes its storage and clock as arguments."""
