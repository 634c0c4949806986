"""The console script's entry point: ``hotline = "hotline.cli.main:main"``.

The application is built in :mod:`hotline.cli.app`; ``app`` is here too for the tests and
tools that import it from this module.
"""

from __future__ import annotations

import os

from hotline.cli.app import app

__all__ = ["app", "main"]

#: Every file the command creates is its owner's only (database, side files, token, card).
UMASK = 0o077


def main() -> None:
    os.umask(UMASK)
    app()
