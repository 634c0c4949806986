"""``hotline safety`` and ``hotline conformance``: safety of flight first.

``hotline safety authorise`` (a commander) authorises a safety warning in advance: a coded
message to one peer, for one aircraft and one area, valid in one window; ``hotline safety
warn ID`` (anyone on watch) then sends it FLASH at once, without a second person.
``hotline conformance notify ALARM`` tells the other side, in English and Russian, that one
of our tracks has left the volume we declared for it (a ``nonconforming`` alarm).
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import typer
from rich.table import Column, Table

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
)
from hotline.cli.held import print_held

safety_app = typer.Typer(
    help="Safety warnings authorised in advance: sent FLASH without a second person."
)
conformance_app = typer.Typer(help="Own tracks outside the volumes we declared: tell the peer.")


@safety_app.command("list")
@friendly
def safety_list(
    directory: DirOpt, json_: JsonOpt = False, user: UserOpt = None, url: UrlOpt = None
) -> None:
    """Safety warnings authorised in advance, and each use of them."""
    with node_client(directory, url, user) as client:
        rows = client.get("/api/v1/safety/preauth")
    if json_:
        print_json(rows)
        return
    heads = ("to", "code", "aircraft", "area", "valid", "by", "uses")
    table = Table(
        Column("id", no_wrap=True, min_width=36), *(Column(h, overflow="fold") for h in heads)
    )
    for r in rows:
        valid = "revoked" if r["revoked_at"] else f"{r['valid_from']} – {r['valid_until']}"
        uses = ", ".join(f"{u['used_by']} at {u['used_at']}" for u in r["uses"]) or "-"
        table.add_row(*map(plain, (
            r["id"], r["peer"], str(r["code"]), r["aircraft"], r["area"], valid,
            r["authorised_by"], uses,
        )))  # fmt: skip
    out.print(table)


@safety_app.command("authorise")
@friendly
def safety_authorise(
    to: Annotated[str, typer.Option(help="The peer the warning goes to")],
    code: Annotated[int, typer.Option(help="The phrasebook code sent, e.g. 11")],
    aircraft: Annotated[str, typer.Option(help="The aircraft: track id or callsign")],
    area: Annotated[str, typer.Option(help="The area's id")],
    valid_from: Annotated[str, typer.Option(help="RFC 3339, e.g. 2026-11-22T00:00:00Z")],
    valid_until: Annotated[str, typer.Option(help="RFC 3339; at most 7 days later")],
    directory: DirOpt,
    note: Annotated[str | None, typer.Option(help="Why, for the record")] = None,
    json_: JsonOpt = False,
    user: UserOpt = None,
    url: UrlOpt = None,
) -> None:
    """Authorise a safety warning in advance (commanders)."""
    body = {
        "to": to,
        "code": code,
        "aircraft": aircraft,
        "area": area,
        "valid_from": valid_from,
        "valid_until": valid_until,
        "note": note,
    }
    with node_client(directory, url, user) as client:
        row = client.post("/api/v1/safety/preauth", body)
    if json_:
        print_json(row)
    else:
        out.print(plain(f"authorised {row['id']}: `hotline safety warn {row['id']}` sends it"))


@safety_app.command("warn")
@friendly
def safety_warn(
    preauth_id: Annotated[str, typer.Argument(help="The authorisation's id")],
    directory: DirOpt,
    json_: JsonOpt = False,
    user: UserOpt = None,
    url: UrlOpt = None,
) -> None:
    """Send a pre-authorised safety warning FLASH now, without a second person."""
    ref = {"client_ref": f"cli:{uuid.uuid4()}"}  # a retried request sends once
    with node_client(directory, url, user) as client:
        row = client.post(f"/api/v1/safety/preauth/{preauth_id}/warn", ref)
    if json_:
        print_json(row)
    else:
        message = row["message"]
        out.print(plain(f"FLASH sent: message {message['id']} to {message['peer']}"))


@safety_app.command("revoke")
@friendly
def safety_revoke(
    preauth_id: Annotated[str, typer.Argument(help="The authorisation's id")],
    reason: Annotated[str, typer.Option(help="Why it ends")],
    directory: DirOpt,
    json_: JsonOpt = False,
    user: UserOpt = None,
    url: UrlOpt = None,
) -> None:
    """End an authorisation before its time (commanders)."""
    with node_client(directory, url, user) as client:
        row = client.post(f"/api/v1/safety/preauth/{preauth_id}/revoke", {"reason": reason})
    if json_:
        print_json(row)
    else:
        out.print(plain(f"revoked by {row['revoked_by']}"))


@conformance_app.command("notify")
@friendly
def conformance_notify(
    alarm: Annotated[int, typer.Argument(help="The nonconforming alarm's id (hotline alarms)")],
    directory: DirOpt,
    precedence: Annotated[str, typer.Option(help="FLASH is held for a second person")] = (
        "IMMEDIATE"
    ),
    json_: JsonOpt = False,
    user: UserOpt = None,
    url: UrlOpt = None,
) -> None:
    """Tell the other side one of our tracks left its declared volume (English + Russian)."""
    with node_client(directory, url, user) as client:
        row = client.post(f"/api/v1/conformance/{alarm}/notify", {"precedence": precedence})
    if json_:
        print_json(row)
    elif row.get("held"):
        print_held(row["held"])
    else:
        message = row["message"]
        out.print(plain(f"sent: message {message['id']} to {message['peer']}"))


def alarm_summary(row: dict[str, Any]) -> str:
    """What a picture or safety alarm says, in one line (empty for other kinds).

    >>> alarm_summary({"kind": "incursion", "detail": {"entry_dtg": "221402Z NOV 26",
    ...     "time_left_s": 140, "concerns": "our aircraft", "feed": "lost"}})
    'entry 221402Z NOV 26, in 140 s (our aircraft); FEED LOST'
    """
    d = row.get("detail") or {}
    lost = "; FEED LOST" if d.get("feed") == "lost" else ""
    if row["kind"] == "incursion":
        when = "inside now" if d.get("inside") else f"in {d.get('time_left_s')} s"
        return f"entry {d.get('entry_dtg')}, {when} ({d.get('concerns')}){lost}"
    if row["kind"] == "nonconforming":
        far = f" {d['distance_m']} m" if d.get("distance_m") else ""
        return f"{d.get('reason')}{far}: {d.get('volume')}{lost}"
    if row["kind"] == "safety_warning":
        return (
            f"code {d.get('code')} to {d.get('peer')} ({d.get('aircraft')}, {d.get('area')}) "
            f"by {d.get('sent_by')}, authorised by {d.get('authorised_by')}"
        )
    if row["kind"] == "track_conflict":
        return f"CPA in {d.get('tcpa_s')} s at {d.get('dcpa_m')} m{lost}"
    return ""
