"""hotline.geo.strategic.engine."""
