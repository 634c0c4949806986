"""hotline.services.evidence.service."""
