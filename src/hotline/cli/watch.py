"""``hotline watch``: watch levels, the ladder and changes under the two-person rule.

Every command talks to the running node's operator API; level names and reasons are
printed as written, never read as rich markup.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from hotline.cli.calls import api
from hotline.cli.common import (
    DirOpt,
    JsonOpt,
    UrlOpt,
    UserOpt,
    friendly,
    out,
    plain,
    print_json,
    say,
)

watch_app = typer.Typer(help="Watch levels: the ladder, changes under the two-person rule.")


@watch_app.command("show")
@friendly
def watch_show(
    directory: DirOpt, json_: JsonOpt = False, user: UserOpt = None, url: UrlOpt = None
) -> None:
    """The ladder, the current level, a pending change and the peers' levels."""
    data = api(directory, url, user, "/api/v1/watch", None)
    if json_:
        print_json(data)
        return
    current = data["current"]["level"]["id"]
    for rung in data["ladder"]:
        mark = "▶" if rung["id"] == current else " "
        say(f"{mark} {rung['rank']} {rung['id']:<28} {rung['name_en']} / {rung['name_ru']}")
    pending = data["pending"]
    if pending:
        say(f"pending change {pending['id']}: → {pending['to_level']} by {pending['proposed_by']}")
        _say_outgoing(pending)
    for party, level in data["peers"].items():
        say(f"{party}: {level['level']['name_en']} since {level['effective_at']}")


@watch_app.command("propose")
@friendly
def watch_propose(
    level: Annotated[str, typer.Argument(help="Level id on our ladder")],
    reason: Annotated[str, typer.Option(help="Why (kept on this node)")],
    directory: DirOpt,
    notify: Annotated[str | None, typer.Option(help="Peer to tell once approved")] = None,
    message: Annotated[str | None, typer.Option(help="Sent with the notice")] = None,
    user: UserOpt = None,
    url: UrlOpt = None,
) -> None:
    """Propose a watch-level change; a second person must approve it."""
    body = {"level": level, "reason": reason, "notify": notify, "message": message}
    row = api(directory, url, user, "/api/v1/watch/changes", body)
    say(f"change {row['id']}: {row['from_level']} → {row['to_level']}, {row['state']}")


@watch_app.command("approve")
@friendly
def watch_approve(
    change_id: Annotated[int, typer.Argument(help="Change id")],
    directory: DirOpt,
    note: Annotated[str | None, typer.Option(help="Note")] = None,
    yes: Annotated[
        bool, typer.Option("--yes", help="Approve without asking (the notification is shown)")
    ] = False,
    user: UserOpt = None,
    url: UrlOpt = None,
) -> None:
    """Approve someone else's proposed change: it takes effect now. When it notifies a
    peer, the notification (to whom, in English and Russian) is shown first and the
    approval asked for again, unless --yes."""
    pending = api(directory, url, user, "/api/v1/watch", None)["pending"]
    if pending is not None and pending["id"] == change_id and pending["outgoing"]:
        _say_outgoing(pending)
        if not yes and not typer.confirm("Approve, and send this notification?"):
            say("not approved: nothing changed, nothing sent")
            raise typer.Exit(1)
    row = api(directory, url, user, f"/api/v1/watch/changes/{change_id}/approve", {"note": note})
    say(f"change {row['id']}: {row['state']} by {row['decided_by']} at {row['decided_at']}")


@watch_app.command("reject")
@friendly
def watch_reject(
    change_id: Annotated[int, typer.Argument(help="Change id")],
    directory: DirOpt,
    note: Annotated[str | None, typer.Option(help="Note")] = None,
    user: UserOpt = None,
    url: UrlOpt = None,
) -> None:
    """Reject (or withdraw your own) pending change."""
    row = api(directory, url, user, f"/api/v1/watch/changes/{change_id}/reject", {"note": note})
    say(f"change {row['id']}: {row['state']}")


@watch_app.command("history")
@friendly
def watch_history(
    directory: DirOpt, json_: JsonOpt = False, user: UserOpt = None, url: UrlOpt = None
) -> None:
    """Every change of ours and every level the peers notified, with times."""
    data = api(directory, url, user, "/api/v1/watch/history", None)
    if json_:
        print_json(data)
        return
    table = Table("id", "change", "state", "proposed", "decided", "reason")
    for c in data["changes"]:
        proposed = f"{c['proposed_at']} {c['proposed_by']}"
        decided = f"{c['decided_at'] or ''} {c['decided_by'] or ''}"
        change = f"{c['from_level']} → {c['to_level']}"
        table.add_row(*map(plain, (c["id"], change, c["state"], proposed, decided, c["reason"])))
    out.print(table)
    for level in data["peers"]:
        say(f"{level['peer']}: {level['level']['name_en']} at {level['effective_at']}")


def _say_outgoing(change: dict[str, Any]) -> None:
    """What approving ``change`` sends, to whom, in both languages; or that it sends nothing."""
    outgoing = change.get("outgoing")
    if not outgoing:
        say("approving it notifies no one")
        return
    say(f"approving it sends this notification to {outgoing['to']} (its time: the approval's):")
    for lang in ("en", "ru"):
        say("")
        say(outgoing["rendering"][lang].rstrip("\n"))
