"""hotline.services.calls.service."""
