"""hotline.services.line.service."""
