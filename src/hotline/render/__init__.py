"""Texts for people: English and Russian renderings, date-time groups, coordinates, units."""
