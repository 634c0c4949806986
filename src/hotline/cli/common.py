"""What every ``hotline`` command module shares: the common options, error printing,
JSON output and a logged-in client for the running node.

``hotline.cli.main`` registers the sub-command modules (``calls_cli``, ``evidence_cli``, …),
so they cannot import from it; they and it import from here instead.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.text import Text

from hotline.client import NodeClient, connect
from hotline.config import load_settings
from hotline.errors import HotlineError

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)

F = TypeVar("F", bound=Callable[..., Any])

DirOpt = Annotated[
    Path, typer.Option("--dir", envvar="HOTLINE_DIR", help="The node's folder.", show_default=True)
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON only.")]
UserOpt = Annotated[
    str | None, typer.Option("--user", envvar="HOTLINE_USER", help="Operator name.")
]
UrlOpt = Annotated[
    str | None,
    typer.Option("--url", envvar="HOTLINE_URL", help="The node's API URL (default: its card)."),
]


def friendly(func: F) -> F:
    """Turn hotline errors into one clear line (and a hint) on stderr and exit status 1."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except HotlineError as exc:
            # messages quote people's input (titles, ids, names): never read as markup
            err.print(Text.assemble(("error:", "bold red"), f" {exc.message}"), soft_wrap=True)
            if exc.hint:
                err.print(Text(f"hint: {exc.hint}", style="dim"), soft_wrap=True)
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


def node_client(directory: Path, url: str | None, user: str | None) -> NodeClient:
    """A client of the running node in ``directory``, logged in (see ``hotline.client``)."""
    settings = load_settings(directory)
    base = url or settings.endpoints[0]
    return connect(settings.directory, base, user, os.environ.get("HOTLINE_PASSWORD"))
