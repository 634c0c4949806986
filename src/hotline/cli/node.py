"""``hotline init``, ``serve``, ``card``, ``login``, ``tls`` and ``demo``: a node itself.

``init``, ``card`` and ``tls`` work on the node's folder; ``serve`` runs it (two
listeners: federation and operator); ``login`` keeps a token of the running node for the
commands that talk to it; ``demo`` plays two nodes.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from hotline.cli.common import (
    DemoDirOpt,
    DirOpt,
    JsonOpt,
    SafeConsole,
    UrlOpt,
    UserOpt,
    err,
    friendly,
    out,
    plain,
    print_json,
    spoken_fingerprint,
    write_text_file,
)
from hotline.client import NodeClient, operator_target, save_token

#: Said on every start (and by ``hotline card``) of a node with plain HTTP endpoints.
PLAIN_HTTP_WARNING = "PLAIN HTTP: traffic readable on the wire; development only"

tls_app = typer.Typer(help="The node's TLS certificate: make one, rotate it.")


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
    allow_plain_http: Annotated[
        bool,
        typer.Option(
            "--allow-plain-http", help="Allow http:// endpoints on loopback (development only)"
        ),
    ] = False,
) -> None:
    """Create a node: settings, Ed25519 signing key and TLS key (mode 0600), certificate,
    database."""
    from hotline.node import init_node

    node = init_node(
        directory,
        party=party,
        name_en=name,
        name_ru=name_ru,
        lang=lang,
        endpoints=endpoint,
        database_url=database_url,
        allow_plain_http=allow_plain_http,
    )
    out.print(
        Text.assemble("Created node ", plain(party, "bold"), f" in {node.settings.directory}")
    )
    out.print(f"Key fingerprint: {spoken_fingerprint(node.identity.fingerprint)}")
    out.print(Text(f"TLS pin: {node.identity.tls_pin}"), soft_wrap=True)
    if node.identity.plain_http:
        err.print(f"[bold red]{PLAIN_HTTP_WARNING}[/]")
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
    federation_listen: Annotated[
        str | None,
        typer.Option(help="host:port of the federation listener (default: federation_listen)"),
    ] = None,
    operator_listen: Annotated[
        str | None,
        typer.Option(help="host:port of the operator listener (default: operator_listen)"),
    ] = None,
) -> None:
    """Run the node: the federation listener (mutual TLS, for peers), the operator
    listener (API and console, TLS) and the delivery workers."""
    from hotline.app import listeners
    from hotline.config import load_settings
    from hotline.node import Node, ensure_tls_files
    from hotline.server import Limits, Listener, run

    settings = load_settings(directory)
    changes = {
        name: value
        for name, value in (
            ("federation_listen", federation_listen),
            ("operator_listen", operator_listen),
        )
        if value is not None
    }
    if changes:
        try:
            settings = settings.replace(**changes)
        except ValueError as exc:
            raise _option_error(exc) from None
    if ensure_tls_files(settings):
        err.print(
            f"this node had no TLS certificate: made {settings.directory / 'tls.crt'}; "
            "give peers its new card (`hotline card --out FILE`)",
            soft_wrap=True,
        )
    node = Node(settings)
    try:
        node.db.migrate()
        if node.identity.plain_http:
            import logging

            logging.getLogger("hotline").warning(PLAIN_HTTP_WARNING)
            err.print(f"[bold red]{PLAIN_HTTP_WARNING}[/]")
        specs = listeners(node)
        for name, host, port, _app, context in specs:
            scheme = "https" if context is not None else "http"
            err.print(f"node {node.identity.party} {name} listener on {scheme}://{host}:{port}")
        run(
            [Listener(name, host, port, app, context) for name, host, port, app, context in specs],
            Limits.from_settings(node.settings),
        )
    finally:
        node.db.dispose()


def _option_error(exc: ValueError) -> Exception:
    from hotline.errors import ConfigError

    return ConfigError(f"a --*-listen option is not host:port: {exc}")


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
    table.add_row("fingerprint", spoken_fingerprint(identity.fingerprint))  # from the key
    out.print(table)
    pin = data.get("tls_pin", "(none: plain HTTP only)")
    out.print(Text(f"TLS pin      {pin}"), soft_wrap=True)
    if identity.plain_http:
        err.print(f"[bold red]{PLAIN_HTTP_WARNING}[/]: this card names http:// endpoints")
    if out_file:
        out.print(f"written to {out_file}")


@friendly
def login(
    directory: DirOpt,
    user: UserOpt = None,
    url: UrlOpt = None,
    ca_file: Annotated[
        Path | None,
        typer.Option(
            "--ca-file",
            envvar="HOTLINE_CA_FILE",
            help="Trust this certificate file for --url (default: the node's own certificate)",
        ),
    ] = None,
) -> None:
    """Log in to the running node and keep the token for later commands (mode 0600)."""
    from hotline.config import load_settings

    settings = load_settings(directory)
    name = user or typer.prompt("User")
    password = os.environ.get("HOTLINE_PASSWORD") or typer.prompt("Password", hide_input=True)
    base, verify = operator_target(settings, url, ca_file)
    with NodeClient(base, verify=verify) as client:
        token = client.login(name, password)
    path = save_token(settings.directory, base, name, token)
    out.print(f"logged in as {name}; token saved in {path}")


@tls_app.command("init")
@friendly
def tls_init(directory: DirOpt) -> None:
    """Make the node's TLS key (mode 0600) and certificate, if it has none."""
    from hotline.config import load_settings
    from hotline.errors import ConfigError
    from hotline.node import ensure_tls_files
    from hotline.protocol import tls

    settings = load_settings(directory)
    if not ensure_tls_files(settings):
        raise ConfigError(
            f"{settings.directory} already has a TLS certificate",
            hint="to replace it, use `hotline tls rotate`",
        )
    pin = tls.pin(tls.load_cert_der(tls.cert_path(settings.directory)))
    out.print(Text(f"TLS certificate made; pin {pin}"), soft_wrap=True)
    out.print("Give peers the new card: `hotline card --out FILE`.")


@tls_app.command("rotate")
@friendly
def tls_rotate(directory: DirOpt) -> None:
    """Replace the node's TLS key and certificate; the node's card then carries the new one."""
    from hotline.config import load_settings
    from hotline.node import tls_hosts
    from hotline.protocol import tls

    settings = load_settings(directory)
    old = (
        tls.pin(tls.load_cert_der(tls.cert_path(settings.directory)))
        if tls.has_files(settings.directory)
        else None
    )
    pin = tls.write_files(settings.directory, tls_hosts(settings), settings.party)
    out.print(Text(f"TLS certificate replaced: pin {old or '(none)'} -> {pin}"), soft_wrap=True)
    out.print(
        "Give each peer the new card (`hotline card --out FILE`); they pin it with "
        "`hotline peer add FILE --replace`. Until they do, deliveries between you wait "
        "(nothing is lost). A running node uses the new certificate from its next connection."
    )


@friendly
def demo(
    directory: DemoDirOpt = Path("hotline-demo"),
    once: Annotated[bool, typer.Option("--once", help="Play the scenario, then exit")] = False,
) -> None:
    """Two nodes (us, ru) on loopback: exchange cards, send both ways, acknowledge."""
    from hotline.demo import run_demo

    code = run_demo(directory, once=once, console=SafeConsole(markup=True))  # its own lines
    raise typer.Exit(code)
