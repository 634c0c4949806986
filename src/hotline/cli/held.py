"""``hotline held``: FLASH messages held for a second person's approval (two-person rule).

A held message's id may be given whole or by its start (6 or more characters); a start
shared by several ids is refused.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Column, Table
from rich.text import Text

from hotline.cli.common import (
    DirOpt,
    JsonOpt,
    UrlOpt,
    UserOpt,
    friendly,
    node_client,
    out,
    plain,
    print_json,
    whole_id,
)
from hotline.client import NodeClient

held_app = typer.Typer(help="FLASH messages held for a second approval: list, approve, reject.")


def print_held(row: dict[str, Any]) -> None:
    """What a sender sees when a FLASH message is held instead of sent."""
    what = "FLASH call request held" if row["kind"] == "call" else "FLASH held"
    out.print(
        Text.assemble(
            (what, "bold"),
            plain(
                f" {row['id']} to {row['peer']}: a second person on watch approves "
                f"it with `hotline held approve {row['id']}` (or rejects it)"
            ),
        )
    )


def whole_held_id(client: NodeClient, given: str) -> str:
    """The whole id of the held message ``given`` (an id or its start) names."""
    return whole_id(
        given, "held message", lambda: (r["id"] for r in client.get("/api/v1/held", state="all"))
    )


def about(row: dict[str, Any]) -> str:
    """What a held message is and says, in one line."""
    payload = row["payload"]
    if row["kind"] == "text":
        return f"text: {payload['text']}"
    if row["kind"] == "code":
        return f"code {payload['code']}"
    if row["kind"] == "notice":
        return f"notice: {payload['notice'].get('type', '?')}"
    if row["kind"] == "call":
        between = f"{payload['principal']} → {row['peer']}:{payload['counterpart']}"
        return f"call request {between}: {'; '.join(payload['topics'])}"
    if row["kind"] == "answer":
        return f"answer to call request {payload['request_id'][:8]}: {payload['answer']}"
    return str(row["kind"])


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
    # ids are copied into `held approve`: never cut nor wrapped; the other columns fold
    heads = ("to", "what", "asked by", "state")
    table = Table(
        Column("id", no_wrap=True, min_width=36), *(Column(h, overflow="fold") for h in heads)
    )
    for r in rows:
        decided = f" by {r['decided_by']}" if r["decided_by"] else ""
        table.add_row(*map(plain, (
            r["id"], r["peer"], about(r), f"{r['requested_by']} at {r['requested_at']}",
            r["state"] + decided,
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
        row = client.post(f"/api/v1/held/{whole_held_id(client, held_id)}/approve")
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
        path = f"/api/v1/held/{whole_held_id(client, held_id)}/reject"
        row = client.post(path, {"reason": reason})
    if json_:
        print_json(row)
    else:
        out.print(plain(f"rejected by {row['decided_by']}: {row['reason']}"))
