"""``hotline held``: FLASH messages held for a second person's approval (two-person rule)."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from hotline.cli_support import (
    DirOpt,
    JsonOpt,
    UrlOpt,
    UserOpt,
    friendly,
    node_client,
    out,
    print_json,
)

held_app = typer.Typer(help="FLASH messages held for a second approval: list, approve, reject.")


def print_held(row: dict[str, Any]) -> None:
    """What a sender sees when a FLASH message is held instead of sent."""
    out.print(
        f"[bold]FLASH held[/] {row['id']} to {row['peer']}: a second person on watch approves "
        f"it with `hotline held approve {row['id']}` (or rejects it)"
    )


@held_app.command("list")
@friendly
def held_list(
    directory: DirOpt,
    all_: Annotated[bool, typer.Option("--all", help="Also those sent or rejected")] = False,
    json_: JsonOpt = False,
    user: UserOpt = None,
    url: UrlOpt = None,
) -> None:
    """FLASH messages awaiting a second approval (or all, with --all)."""
    with node_client(directory, url, user) as client:
        rows = client.get("/api/v1/held", state="all" if all_ else "held")
    if json_:
        print_json(rows)
        return
    table = Table("id", "to", "kind", "asked by", "at", "state", "decided by")
    for r in rows:
        table.add_row(*map(Text, (
            r["id"], r["peer"], r["kind"], r["requested_by"], r["requested_at"], r["state"],
            r["decided_by"] or "",
        )))  # fmt: skip
    out.print(table)


@held_app.command("approve")
@friendly
def held_approve(
    held_id: Annotated[str, typer.Argument(help="The held message's id")],
    directory: DirOpt,
    json_: JsonOpt = False,
    user: UserOpt = None,
    url: UrlOpt = None,
) -> None:
    """Approve a held FLASH message (not your own): it is sent now."""
    with node_client(directory, url, user) as client:
        row = client.post(f"/api/v1/held/{held_id}/approve")
    if json_:
        print_json(row)
    else:
        out.print(f"approved; sent as message {row['message_id']}")


@held_app.command("reject")
@friendly
def held_reject(
    held_id: Annotated[str, typer.Argument(help="The held message's id")],
    reason: Annotated[str, typer.Option(help="Why it is not sent")],
    directory: DirOpt,
    json_: JsonOpt = False,
    user: UserOpt = None,
    url: UrlOpt = None,
) -> None:
    """Reject a held FLASH message, saying why; it is never sent."""
    with node_client(directory, url, user) as client:
        row = client.post(f"/api/v1/held/{held_id}/reject", {"reason": reason})
    if json_:
        print_json(row)
    else:
        out.print(Text(f"rejected by {row['decided_by']}: {row['reason']}"))
