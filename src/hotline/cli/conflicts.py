"""``hotline conflicts``: the deconfliction engines on files, offline.

Each command reads its input files, runs one engine and prints a table, or JSON only
with ``--json``. A bad file is one line on stderr naming the file, feature or row and the
field, with exit status 2.
"""

from __future__ import annotations

import typer

from hotline.cli.conflicts_tracks import incursions_command, tracks_command
from hotline.cli.conflicts_volumes import volumes_command

conflicts_app = typer.Typer(
    help="Detect conflicts in files: volumes (strategic), tracks (tactical), incursions.",
    no_args_is_help=True,
)
conflicts_app.command("volumes")(volumes_command)
conflicts_app.command("tracks")(tracks_command)
conflicts_app.command("incursions")(incursions_command)
