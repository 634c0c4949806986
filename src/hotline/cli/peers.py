"""``hotline peer add`` and ``hotline peer list``: the peers this node trusts.

Both work on the node's folder (the node need not run).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from hotline.cli.common import (
    DirOpt,
    JsonOpt,
    err,
    friendly,
    opened_node,
    out,
    print_json,
    read_json_file,
    spoken_fingerprint,
)
from hotline.errors import ValidationError

peer_app = typer.Typer(help="Pin and list peers (the only keys this node trusts).")


@peer_app.command("add")
@friendly
def peer_add(
    card_file: Annotated[Path, typer.Argument(help="The peer's card (JSON)")],
    directory: DirOpt,
    yes: Annotated[bool, typer.Option("--yes", help="Pin without asking")] = False,
    replace: Annotated[
        bool, typer.Option("--replace", help="Allow replacing a pinned key (a key rotation)")
    ] = False,
) -> None:
    """Pin a peer's key from its card, after comparing its fingerprint out of band."""
    from hotline.protocol.envelope import open_card

    data = read_json_file(card_file, "card file")
    peer_card, _ = open_card(data)
    with opened_node(directory) as node:
        pinned = {row["party"]: row for row in node.peer_list()}.get(peer_card.party)
        out.print(
            Text.assemble(
                "Peer ",
                (peer_card.party, "bold"),
                f" ({peer_card.name_en} / {peer_card.name_ru})",
            )
        )
        out.print(f"Fingerprint: [bold]{spoken_fingerprint(peer_card.fingerprint)}[/]")
        out.print(
            Text(f"TLS pin: {peer_card.tls_pin or '(none: plain HTTP only)'}"), soft_wrap=True
        )
        tls_changed = (
            pinned is not None
            and pinned["fingerprint"] == peer_card.fingerprint
            and pinned.get("tls_pin") != peer_card.tls_pin
        )
        if tls_changed:
            assert pinned is not None
            err.print(
                Text.assemble(
                    ("TLS CERTIFICATE CHANGE:", "bold red"),
                    f" {peer_card.party} is pinned with TLS pin {pinned.get('tls_pin')}; this "
                    f"card carries {peer_card.tls_pin}. Pinning it replaces the old "
                    "certificate: connections with the old one are refused from now on.",
                ),
                soft_wrap=True,
            )
            if not replace:
                raise ValidationError(
                    f"{peer_card.party} is already pinned with another TLS certificate; "
                    "not replaced",
                    hint="confirm the rotation with the peer out of band, then add --replace",
                )
        if pinned is not None and pinned["fingerprint"] != peer_card.fingerprint:
            err.print(
                f"[bold red]KEY CHANGE:[/] {peer_card.party} is pinned with key "
                f"{spoken_fingerprint(pinned['fingerprint'])}; this card carries another key. "
                "Pinning it replaces the old key: envelopes signed with the old key will be "
                "refused from now on.",
                soft_wrap=True,
            )
            if not replace:
                raise ValidationError(
                    f"{peer_card.party} is already pinned with another key; not replaced",
                    hint="confirm the rotation with the peer out of band, then add --replace",
                )
        if not yes and not typer.confirm("Does it match what the peer read to you?", default=False):
            err.print("not pinned: the fingerprint was not confirmed")
            raise typer.Exit(1)
        _, changed = node.add_peer(data)
    if pinned is None:
        out.print("pinned")
    elif changed:
        out.print(f"key replaced: {peer_card.party} is now pinned with the new key")
    elif tls_changed:
        out.print(f"TLS certificate replaced: {peer_card.party} is now pinned with the new one")
    else:
        out.print("already pinned with this key; card updated")


@peer_app.command("list")
@friendly
def peer_list(directory: DirOpt, json_: JsonOpt = False) -> None:
    """List pinned peers, with their whole fingerprints (to compare out of band)."""
    with opened_node(directory) as node:
        rows = node.peer_list()
    if json_:
        print_json(rows)
        return
    table = Table("party", "name", "fingerprint", "endpoints")
    table.columns[2].no_wrap = True
    table.columns[2].min_width = 39
    for row in rows:
        groups = spoken_fingerprint(row["fingerprint"]).split(" ")
        halves = " ".join(groups[:8]) + "\n" + " ".join(groups[8:])  # read aloud in two breaths
        table.add_row(
            Text(row["party"]),
            Text(f"{row['name_en']} / {row['name_ru']}", overflow="fold"),
            Text(halves),
            Text("\n".join(row["endpoints"]), overflow="fold"),
        )
    out.print(table)
