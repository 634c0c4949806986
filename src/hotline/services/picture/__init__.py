"""hotline.services.picture."""
