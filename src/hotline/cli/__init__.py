"""hotline.cli.main."""
