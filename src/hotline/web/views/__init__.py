"""hotline.web.views.messages."""
