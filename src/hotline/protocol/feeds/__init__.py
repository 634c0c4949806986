"""Track feeds in: decoders of ADS-B (SBS-1, Beast), AIS (NMEA 0183) and Cursor-on-Target.

Pure: each decoder takes the bytes a source delivered and gives back track reports; the
sockets, reconnects and health are in :mod:`hotline.services.feeds`.
"""
