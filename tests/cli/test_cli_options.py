"""Every command names its node with the one shared ``--dir`` option (``cli/common.py``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import typer

from hotline.cli.main import app

#: The two commands whose ``--dir`` is not a node that must exist: ``notice check`` may
#: use a node's rules, ``demo`` makes two nodes in a working folder.
OTHER_DIR = {"notice check", "demo"}


def commands(group: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    for name, command in group.commands.items():
        where = f"{path} {name}".strip()
        if hasattr(command, "commands"):
            yield from commands(command, where)
        else:
            yield where, command


def test_every_dir_option_is_the_shared_one() -> None:
    seen = {}
    for where, command in commands(typer.main.get_command(app)):
        for param in command.params:
            if "--dir" in getattr(param, "opts", ()):
                seen[where] = (param.envvar, param.help, param.required)
    shared = ("HOTLINE_DIR", "The node's folder.", True)
    assert {w for w, found in seen.items() if found != shared} == OTHER_DIR
    assert len(seen) > 50  # every command that works on a node
