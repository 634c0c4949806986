"""``hotline key rotate | revoke | finish | history``: this node's signing key changes.

They work on the node's folder with the node STOPPED (the running node keeps the key it
started with): start it again afterwards. A rotation reaches each peer over the line and
is applied there without a person; a revocation (a compromised key) is held by each peer
until its officer confirms the new fingerprint, read to them over another channel.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from hotline.cli.common import (
    DirOpt,
    JsonOpt,
    friendly,
    opened_node,
    out,
    print_json,
    spoken_fingerprint,
    write_text_file,
)

key_app = typer.Typer(help="Rotate or revoke this node's signing key (node stopped).")

OutOpt = Annotated[
    Path | None, typer.Option("--out", help="Also write the signed key change here (JSON)")
]


@key_app.command("rotate")
@friendly
def key_rotate(directory: DirOpt, out_file: OutOpt = None, json_: JsonOpt = False) -> None:
    """Replace the signing key; the old key vouches for the new one. Peers apply it
    over the line, without re-pinning. Start the node again afterwards."""
    _change(directory, None, out_file, json_)


@key_app.command("revoke")
@friendly
def key_revoke(
    directory: DirOpt,
    revoked_from: Annotated[
        str,
        typer.Option(
            "--from",
            help="From when the old key is not trusted (RFC 3339 UTC, e.g. "
            "2026-12-07T03:00:00Z; may be in the past)",
        ),
    ],
    out_file: OutOpt = None,
    json_: JsonOpt = False,
) -> None:
    """The key is compromised: replace it with a new one (signed by the new key only).
    Each peer holds the change until its officer confirms the new fingerprint, which you
    read to them over another channel. Start the node again afterwards."""
    from hotline.clock import parse_rfc3339, rfc3339
    from hotline.errors import ValidationError

    try:
        at = rfc3339(parse_rfc3339(revoked_from))
    except ValueError as exc:
        raise ValidationError(
            f"--from {revoked_from!r} is not an RFC 3339 UTC time",
            hint="e.g. --from 2026-12-07T03:00:00Z",
        ) from exc
    _change(directory, at, out_file, json_)


def _change(directory: Path, revoked_from: str | None, out_file: Path | None, json_: bool) -> None:
    from hotline.errors import Conflict, ValidationError
    from hotline.services.line.keys import rotate_own
    from hotline.storage.leader import ActiveLock

    with opened_node(directory) as node:
        if revoked_from is not None and revoked_from > node.line.now():
            raise ValidationError(
                f"--from {revoked_from} is in the future",
                hint="a key is revoked from now or from a time in the past",
            )
        # the running node would go on signing with the old key: it must be stopped
        lock = ActiveLock(node.db, node.settings.directory, node.identity.party)
        if not lock.acquire():
            raise Conflict(
                "the node is running: its key cannot change under it",
                hint="stop every process of the node (`hotline serve`), then run this again",
            )
        try:
            done = rotate_own(node.line, node.settings.key_path, revoked_from=revoked_from)
        finally:
            lock.release()
    change = done.change.wire()
    if out_file:
        write_text_file(out_file, json.dumps(change, indent=2) + "\n", "key change file")
    if json_:
        print_json({"change": change, "peers": done.peers})
        return
    kind = "revoked" if revoked_from else "rotated"
    out.print(Text(f"key {kind}: {change['old_key']} -> {change['new_key']}"), soft_wrap=True)
    out.print(Text.assemble("New fingerprint: ", (spoken_fingerprint(change["new_key"]), "bold")))
    out.print(f"queued to: {', '.join(done.peers) or '(no peer pinned)'}")
    if revoked_from:
        out.print(
            "Read the new fingerprint to each peer's officer over another channel; they "
            "confirm it with `hotline peer confirm-key "
            f"{change['party']} FINGERPRINT`. Until then they refuse this node's messages."
        )
    out.print("Start the node again: it signs with the new key from now on.")


@key_app.command("finish")
@friendly
def key_finish(directory: DirOpt) -> None:
    """Complete a key change interrupted before the new key replaced the old file."""
    from hotline.services.line.keys import finish_own

    with opened_node(directory) as node:
        done = finish_own(node.line, node.settings.key_path)
    out.print("the new key is in place" if done else "nothing to finish")


@key_app.command("history")
@friendly
def key_history(directory: DirOpt, json_: JsonOpt = False) -> None:
    """This node's keys: each fingerprint, valid from/to, revoked from."""
    from hotline.services.line.keys import own_history

    with opened_node(directory) as node:
        rows = own_history(node.line)
        current = node.identity.fingerprint
    if json_:
        print_json({"current": current, "keys": rows})
        return
    out.print(Text(f"current key: {current}"), soft_wrap=True)
    print_history(rows)


def print_history(rows: list[dict[str, object]]) -> None:
    """A table of key history rows (``services/line/keys.py``)."""
    table = Table("state", "fingerprint", "valid from", "valid to", "revoked from")
    table.columns[1].overflow = "fold"
    for row in rows:
        table.add_row(
            *(str(row[k] or "-") for k in ("state", "fingerprint", "valid_from", "valid_to")),
            str(row["revoked_from"] or "-"),
        )
    out.print(table)
