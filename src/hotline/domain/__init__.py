"""The vocabulary: pure data and validation (pydantic models), no I/O."""
