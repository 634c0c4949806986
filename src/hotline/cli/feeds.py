"""``hotline feed add|list|remove``: the track feeds the node reads (ADS-B, AIS, CoT).

They work on the node's folder (its database); a running node's active process picks a
change up within a couple of seconds. ``list`` shows each source's health as the active
process last recorded it (see ``docs/feeds.md``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from hotline import seclog
from hotline.cli.common import DirOpt, JsonOpt, friendly, opened_node, out, plain, print_json
from hotline.errors import ValidationError

feed_app = typer.Typer(
    help="Track feeds: ADS-B (SBS-1, Beast), AIS and Cursor-on-Target in; Cursor-on-Target out."
)


@feed_app.command("add")
@friendly
def feed_add(
    name: Annotated[str, typer.Argument(help="A name for the source (e.g. adsb-north)")],
    directory: DirOpt,
    kind: Annotated[str, typer.Option(help="sbs1 | beast | ais | cot (in), cot-out (out)")],
    party: Annotated[
        str | None,
        typer.Option(help="Whose tracks it carries: own, or a party id (peer, third)"),
    ] = None,
    connect: Annotated[
        str | None, typer.Option(help="HOST:PORT to connect to (dump1090: 30003 or 30005)")
    ] = None,
    listen: Annotated[
        str | None, typer.Option(help="[HOST:]PORT to listen on (default host 127.0.0.1)")
    ] = None,
    udp: Annotated[bool, typer.Option("--udp", help="Listen for UDP datagrams")] = False,
    stale_s: Annotated[
        int, typer.Option("--stale-s", help="Raise feed_stale after this many quiet seconds")
    ] = 60,
    reference: Annotated[
        str | None,
        typer.Option(help="LAT,LON of a Beast receiver (positions from single frames)"),
    ] = None,
    tls_ca: Annotated[
        Path | None, typer.Option(help="TLS: the TAK server's CA certificate (PEM)")
    ] = None,
    tls_cert: Annotated[
        Path | None, typer.Option(help="TLS: this node's client certificate (PEM)")
    ] = None,
    tls_key: Annotated[
        Path | None, typer.Option(help="TLS: the client certificate's key (PEM, no password)")
    ] = None,
    tls_server_name: Annotated[
        str | None, typer.Option(help="TLS: the name in the server's certificate, if not HOST")
    ] = None,
    json_: JsonOpt = False,
) -> None:
    """Add a source; the running node starts reading (or, cot-out, writing) it within a
    few seconds."""
    from hotline.services.feeds.tls import settings

    if party is None and kind != "cot-out":
        raise ValidationError(
            "--party is required for a source of tracks", hint="own, or a party id"
        )
    tls = settings(
        None if tls_ca is None else str(tls_ca),
        None if tls_cert is None else str(tls_cert),
        None if tls_key is None else str(tls_key),
        tls_server_name,
    )
    with opened_node(directory) as node:
        row = node.feeds.add(
            name,
            kind=kind,
            connect=connect,
            listen=listen,
            udp=udp,
            party=party or "own",
            stale_s=stale_s,
            reference=reference,
            tls=tls,
        )
        seclog.event("feed_added", feed=name, kind=kind, party=row["party"])
    if json_:
        print_json(row)
        return
    out.print(plain(f"Feed {name} added: {_where(row)}", one_line=True))


@feed_app.command("list")
@friendly
def feed_list(directory: DirOpt, json_: JsonOpt = False) -> None:
    """List the sources with their health."""
    with opened_node(directory) as node:
        rows = node.feeds.listing()
    if json_:
        print_json(rows)
        return
    table = Table("name", "source", "party", "state", "messages", "errors", "last message")
    for row in rows:
        h = row["health"] or {}
        state = "not running" if not h else ("connected" if h["connected"] else "waiting")
        if h.get("stale"):
            state += ", STALE"
        table.add_row(
            plain(row["name"], one_line=True),
            plain(_where(row), one_line=True),
            plain(row["party"], one_line=True),
            state,
            str(h.get("messages", "")),
            str(h.get("errors", "")),
            plain(h.get("last_message_at") or "", one_line=True),
        )
    out.print(table)


@feed_app.command("remove")
@friendly
def feed_remove(
    name: Annotated[str, typer.Argument(help="The source's name")], directory: DirOpt
) -> None:
    """Remove a source; the running node stops reading it within a few seconds."""
    with opened_node(directory) as node:
        node.feeds.remove(name)
        seclog.event("feed_removed", feed=name)
    out.print(plain(f"Feed {name} removed", one_line=True))


def _where(row: dict[str, object]) -> str:
    proto = "udp" if row["udp"] else ("tls" if row.get("tls") else "tcp")
    return f"{row['kind']} {row['mode']} {proto} {row['host']}:{row['port']}"
