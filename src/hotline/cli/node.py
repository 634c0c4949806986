"""``hotline init``, ``serve``, ``card``, ``login`` and ``demo``: a node itself.

``init`` and ``card`` work on the node's folder; ``serve`` runs it; ``login`` keeps a
token of the running node for the commands that talk to it; ``demo`` plays two nodes.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

import typer
from rich.table import Table

from hotline.cli.common import (
    DemoDirOpt,
    DirOpt,
    JsonOpt,
    UrlOpt,
    UserOpt,
    err,
    friendly,
    opened_node,
    out,
    print_json,
    spoken_fingerprint,
    write_text_file,
)
from hotline.client import NodeClient, save_token


@friendly
def init(
    party: Annotated[str, typer.Option(help="Party id, e.g. us")],
    name: Annotated[str, typer.Option(help="Display name in English")],
    directory: DirOpt,
    name_ru: Annotated[str | None, typer.Option(help="Display name in Russian")] = None,
    lang: Annotated[str, typer.Option(help="Language this node writes in: en or ru")] = "en",
    endpoint: Annotated[
        list[str] | None, typer.Option(help="URL peers use to reach this node (repeatable)")
    ] = None,
    database_url: Annotated[str, typer.Option(help="SQLAlchemy URL (default SQLite)")] = "",
) -> None:
    """Create a node: settings file, Ed25519 signing key (mode 0600) and database."""
    from hotline.node import init_node

    node = init_node(
        directory,
        party=party,
        name_en=name,
        name_ru=name_ru,
        lang=lang,
        endpoints=endpoint,
        database_url=database_url,
    )
    out.print(f"Created node [bold]{party}[/] in {node.settings.directory}")
    out.print(f"Key fingerprint: {spoken_fingerprint(node.identity.fingerprint)}")
    if not name_ru:
        err.print(
            "note: no --name-ru given, so the card shows the English name in Russian too "
            "(set name_ru in hotline.toml before giving the card to the peer)",
            soft_wrap=True,
        )
    out.print("Next: `hotline user add NAME --password-stdin`, then `hotline serve`.")
    node.db.dispose()


@friendly
def serve(
    directory: DirOpt,
    host: Annotated[str | None, typer.Option(help="Address to bind (default: the card's)")] = None,
    port: Annotated[int | None, typer.Option(help="Port to bind (default: the card's)")] = None,
) -> None:
    """Run the node: operator API, federation API and delivery workers."""
    from hotline.app import create_app
    from hotline.server import Limits, Listener, run

    with opened_node(directory) as node:
        first = urlsplit(node.settings.endpoints[0]) if node.settings.endpoints else None
        bind_host = host or (first.hostname if first and first.hostname else "127.0.0.1")
        bind_port = port or (first.port if first and first.port else 8400)
        err.print(f"node {node.identity.party} serving on http://{bind_host}:{bind_port}")
        listener = Listener("node", bind_host, bind_port, create_app(node))
        run([listener], Limits.from_settings(node.settings))


@friendly
def card(
    directory: DirOpt,
    json_: JsonOpt = False,
    out_file: Annotated[Path | None, typer.Option("--out", help="Write the card here")] = None,
) -> None:
    """Print this node's peer card (give it to the peer, out of band)."""
    from hotline.config import load_settings
    from hotline.services.line.identity import Identity

    identity = Identity.from_settings(load_settings(directory))
    data = identity.card().wire()
    if out_file:
        text = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
        write_text_file(out_file, text, "card file")
    if json_:
        print_json(data)
        return
    table = Table(show_header=False, box=None)
    for key in ("party", "name_en", "name_ru", "lang", "endpoints", "public_key"):
        table.add_row(key, ", ".join(data[key]) if key == "endpoints" else str(data[key]))
    table.add_row("fingerprint", spoken_fingerprint(data["fingerprint"]))
    out.print(table)
    if out_file:
        out.print(f"written to {out_file}")


@friendly
def login(directory: DirOpt, user: UserOpt = None, url: UrlOpt = None) -> None:
    """Log in to the running node and keep the token for later commands (mode 0600)."""
    from hotline.config import load_settings

    settings = load_settings(directory)
    name = user or typer.prompt("User")
    password = os.environ.get("HOTLINE_PASSWORD") or typer.prompt("Password", hide_input=True)
    base = url or settings.endpoints[0]
    with NodeClient(base) as client:
        token = client.login(name, password)
    path = save_token(settings.directory, base, name, token)
    out.print(f"logged in as {name}; token saved in {path}")


@friendly
def demo(
    directory: DemoDirOpt = Path("hotline-demo"),
    once: Annotated[bool, typer.Option("--once", help="Play the scenario, then exit")] = False,
) -> None:
    """Two nodes (us, ru) on loopback: exchange cards, send both ways, acknowledge."""
    from hotline.demo import run_demo

    code = run_demo(directory, once=once, console=out)
    raise typer.Exit(code)
