"""The ``hotline`` command line: one module per command group (see :mod:`hotline.cli.app`)."""
