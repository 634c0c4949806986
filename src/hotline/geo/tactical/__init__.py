"""hotline.geo.tactical.engine."""
