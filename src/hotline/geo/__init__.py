"""Deconfliction geometry: 4D volumes, tracks, strategic and tactical detection, incursions.

Pure functions over NumPy arrays and domain objects: no database, no network.
"""
