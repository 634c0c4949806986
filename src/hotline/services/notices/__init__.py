"""hotline.services.notices.service."""
