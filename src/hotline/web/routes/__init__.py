"""hotline.web.routes.console."""
