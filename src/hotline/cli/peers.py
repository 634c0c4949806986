"""``hotline peer add | list | show | confirm-key``: the peers this node trusts, their key
histories, and a peer's key revocation confirmed out of band.

Both work on the node's folder (the node need not run). A card is the peer's own text,
signed by the peer: a hostile peer's card verifies. So every fingerprint printed here is
computed from the public key (the card's checked key, or the pinned one), never copied
from a card's text, and names and endpoints print on their own lines with every hidden
character made visible (``hotline.cli.common.safe``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from hotline import seclog
from hotline.cli.common import (
    DirOpt,
    JsonOpt,
    err,
    friendly,
    opened_node,
    out,
    plain,
    print_json,
    read_json_file,
    spoken_fingerprint,
)
from hotline.errors import ValidationError

if TYPE_CHECKING:
    from hotline.node import Node


def key_fingerprint(public_key_b64: str) -> str:
    """The fingerprint of a public key (base64 of its 32 raw bytes), computed here."""
    from hotline.protocol import keys

    return keys.fingerprint(keys.public_from_b64(public_key_b64))


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
    from hotline.protocol import keys
    from hotline.protocol.envelope import open_card

    data = read_json_file(card_file, "card file")
    peer_card, public = open_card(data)
    fingerprint = keys.fingerprint(public)  # of the key the card was verified with
    with opened_node(directory) as node:
        pinned = _pinned_fingerprints(node).get(peer_card.party)
        pinned_pin = {row["party"]: row for row in node.peer_list()}.get(peer_card.party, {}).get(
            "tls_pin"
        )
        out.print(Text.assemble("Peer ", plain(peer_card.party, "bold", one_line=True)))
        for label, value in (("name (en)", peer_card.name_en), ("name (ru)", peer_card.name_ru)):
            out.print(Text.assemble(f"  {label}: ", plain(value, one_line=True)))
        for endpoint in peer_card.endpoints:
            out.print(Text.assemble("  endpoint: ", plain(endpoint, one_line=True)))
        out.print(Text.assemble("Fingerprint: ", (spoken_fingerprint(fingerprint), "bold")))
        out.print(
            Text(f"TLS pin: {peer_card.tls_pin or '(none: plain HTTP only)'}"), soft_wrap=True
        )
        tls_changed = (
            pinned is not None and pinned == fingerprint and pinned_pin != peer_card.tls_pin
        )
        if tls_changed:
            err.print(
                Text.assemble(
                    ("TLS CERTIFICATE CHANGE:", "bold red"),
                    f" {peer_card.party} is pinned with TLS pin {pinned_pin}; this "
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
        if pinned is not None and pinned != fingerprint:
            err.print(
                Text.assemble(
                    ("KEY CHANGE:", "bold red"),
                    f" {peer_card.party} is pinned with key {spoken_fingerprint(pinned)}; this "
                    "card carries another key. Pinning it replaces the old key: envelopes "
                    "signed with the old key will be refused from now on.",
                ),
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
            what = "peer_pinned"
        elif changed:
            what = "peer_key_changed"
        else:
            what = "peer_tls_changed" if tls_changed else "peer_card_updated"
        seclog.event(
            what,
            peer=peer_card.party,
            key=fingerprint,
            old_key=pinned,
            tls_pin=peer_card.tls_pin,
            old_tls_pin=pinned_pin,
            source="cli",
        )
    if pinned is None:
        out.print("pinned")
    elif changed:
        out.print(Text(f"key replaced: {peer_card.party} is now pinned with the new key"))
    elif tls_changed:
        out.print(
            Text(f"TLS certificate replaced: {peer_card.party} is now pinned with the new one")
        )
    else:
        out.print("already pinned with this key; card updated")


@peer_app.command("list")
@friendly
def peer_list(directory: DirOpt, json_: JsonOpt = False) -> None:
    """List pinned peers, with their whole fingerprints (to compare out of band)."""
    from hotline.services.line.keys import peer_history

    with opened_node(directory) as node:
        rows = node.peer_list()
        fingerprints = _pinned_fingerprints(node)
        for row in rows:  # what the pinned key's bytes say, whatever the stored text says
            row["fingerprint"] = fingerprints.get(row["party"], row["fingerprint"])
            row["keys"] = peer_history(node.line, row["party"])  # after key changes
    if json_:
        print_json(rows)
        return
    table = Table("party", "name", "fingerprint", "endpoints")
    table.columns[2].no_wrap = True
    table.columns[2].min_width = 39
    for row in rows:
        groups = spoken_fingerprint(row["fingerprint"]).split(" ")
        halves = " ".join(groups[:8]) + "\n" + " ".join(groups[8:])  # read aloud in two breaths
        name = plain(row["name_en"], one_line=True) + " / " + plain(row["name_ru"], one_line=True)
        name.overflow = "fold"
        endpoints = Text("\n").join(plain(e, one_line=True) for e in row["endpoints"])
        endpoints.overflow = "fold"
        table.add_row(plain(row["party"], one_line=True), name, Text(halves), endpoints)
    out.print(table)
    _history_notes(rows)


def _history_notes(rows: list[dict[str, Any]]) -> None:
    """Under the table: which peers changed keys, and any revocation waiting."""
    for row in rows:
        changes = [k for k in row["keys"] if k["state"] in ("retired", "revoked")]
        waiting = [k for k in row["keys"] if k["state"] == "pending"]
        if changes:
            out.print(
                Text(
                    f"{row['party']}: {len(changes)} earlier key(s); `hotline peer show "
                    f"{row['party']}` lists them"
                )
            )
        if waiting:
            err.print(
                Text.assemble(
                    ("KEY REVOCATION WAITING:", "bold red"),
                    f" {row['party']}: see `hotline peer show {row['party']}`",
                )
            )


def _pinned_fingerprints(node: Node) -> dict[str, str]:
    """Each pinned party's fingerprint, computed from its pinned public key."""
    from hotline.storage import peers

    with node.db.read() as conn:
        return {row.party: key_fingerprint(row.public_key) for row in peers.all_peers(conn)}


@peer_app.command("show")
@friendly
def peer_show(
    party: Annotated[str, typer.Argument(help="The peer's party")],
    directory: DirOpt,
    json_: JsonOpt = False,
) -> None:
    """A pinned peer: its current key and its key history (rotations, revocations, and
    revocations waiting for confirmation out of band)."""
    from hotline.cli.keys import print_history
    from hotline.errors import NotFound
    from hotline.services.line.keys import peer_history

    with opened_node(directory) as node:
        row = {r["party"]: r for r in node.peer_list()}.get(party)
        if row is None:
            raise NotFound(f"no peer {party!r} is pinned on this node")
        row["fingerprint"] = _pinned_fingerprints(node)[party]
        row["keys"] = peer_history(node.line, party)
    if json_:
        print_json(row)
        return
    out.print(Text.assemble("Peer ", plain(party, "bold", one_line=True)))
    out.print(Text.assemble("Fingerprint: ", (spoken_fingerprint(row["fingerprint"]), "bold")))
    out.print(Text(f"TLS pin: {row.get('tls_pin') or '(none)'}"), soft_wrap=True)
    if row["keys"]:
        print_history(row["keys"])
    for key in row["keys"]:
        if key["state"] == "pending" and key.get("change_type") == "key_rotation":
            err.print(
                Text.assemble(
                    ("KEY ROTATION HELD:", "bold red"),
                    f" a rotation to {spoken_fingerprint(key['fingerprint'])}, signed by the "
                    f"key {party} revokes: it may come from the key's thief. Confirm only "
                    "the key the peer read to you.",
                ),
                soft_wrap=True,
            )
        elif key["state"] == "pending":
            err.print(
                Text.assemble(
                    ("KEY REVOCATION WAITING:", "bold red"),
                    f" {party} revoked its key and names the new key "
                    f"{spoken_fingerprint(key['fingerprint'])}. Confirm it with the peer over "
                    f"another channel, then `hotline peer confirm-key {party} FINGERPRINT`.",
                ),
                soft_wrap=True,
            )


@peer_app.command("confirm-key")
@friendly
def peer_confirm_key(
    party: Annotated[str, typer.Argument(help="The peer's party")],
    fingerprint: Annotated[
        str, typer.Argument(help="The new key's fingerprint, as the peer read it to you")
    ],
    directory: DirOpt,
) -> None:
    """Apply a peer's key revocation, after its new fingerprint was confirmed out of band."""
    from hotline.services.line.keys import confirm

    with opened_node(directory) as node:
        plain = node.settings.allow_plain_http
        change = node.db.transaction(
            lambda conn: confirm(conn, party, fingerprint, node.line.now(), allow_plain_http=plain)
        )
        node.receiver.forget_keys()
        node.wake(party)
    out.print(
        Text(
            f"{party}: key {change.old_key} revoked from {change.revoked_from}; "
            f"now pinned with {change.new_key}"
        ),
        soft_wrap=True,
    )
