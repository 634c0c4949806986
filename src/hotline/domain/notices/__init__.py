"""hotline.domain.notices.models."""
