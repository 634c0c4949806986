"""hotline.storage.tables.core."""
