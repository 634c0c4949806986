"""hotline.services.runtime."""
