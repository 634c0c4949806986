"""``hotline escalation`` and ``hotline contacts``: reaching the peer off the line.

``hotline contacts set FILE`` puts this party's ladder (its rungs and the out-of-band
channels that reach each: phone, satellite phone, fax, another network) in the node's
``contacts.json``; the card signed from then on carries it (``hotline card --out``), and
the peer pins it again with ``hotline peer add`` as for any card change. ``hotline
contacts show`` prints our ladder or, with ``--peer``, the one on the peer's pinned card.

``hotline escalation show MESSAGE`` is the checklist when a message is overdue: our rung
to alert, the peer's contacts to try; ``hotline escalation record MESSAGE --contact
RUNG/CHANNEL --result reached|no_answer|busy|failed`` records (signs and logs) an attempt.
"""

from __future__ import annotations

import json
from pathlib import Path
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
    opened_node,
    out,
    plain,
    print_json,
    read_json_file,
    write_text_file,
)

escalation_app = typer.Typer(
    help="Overdue messages: the checklist of the peer's out-of-band contacts, attempts."
)
contacts_app = typer.Typer(help="This party's contact ladder (on its card) and the peer's.")

ResultOpt = Annotated[
    str, typer.Option(help="reached | no_answer | busy | failed", show_default=False)
]


@escalation_app.command("show")
@friendly
def escalation_show(
    message_id: Annotated[str, typer.Argument(help="One of our messages (its id or its start)")],
    directory: DirOpt,
    json_: JsonOpt = False,
    user: UserOpt = None,
    url: UrlOpt = None,
) -> None:
    """The checklist: our rung to alert, the peer's contacts, attempts so far."""
    with node_client(directory, url, user) as client:
        data = client.get(f"/api/v1/messages/{message_id}/escalation")
    if json_:
        print_json(data)
        return
    state = "OVERDUE" if data["overdue"] else data["state"]
    out.print(
        Text.assemble(
            (f"{data['precedence']} {data['type']} to {data['peer']}: ", "bold"),
            plain(f"{state}, deadline {data['deadline'] or '-'}"),
        )
    )
    for step in data["steps"]:
        who = step.get("role") or "(no rung left on our ladder)"
        out.print(plain(f"  step {step.get('step', '-')} at {step['at']}: alert {who}"))
    table = Table(
        Column("contact", no_wrap=True), "kind", Column("number / address", overflow="fold"),
        Column("label", overflow="fold"), "hours", Column("attempts", overflow="fold"),
    )  # fmt: skip
    for rung in data["contacts"]:
        for channel in rung["channels"]:
            tried = "; ".join(
                f"{a['at']} {a['officer']}: {a['result']}" for a in channel["attempts"]
            )
            table.add_row(*map(plain, (
                channel["ref"], channel["kind"], channel["value"],
                f"{rung['role_en']}: {channel['label_en']}", channel.get("hours", ""),
                tried or "[ ] not tried",
            )))  # fmt: skip
    out.print(table)


@escalation_app.command("record")
@friendly
def escalation_record(
    message_id: Annotated[str, typer.Argument(help="One of our messages (its id or its start)")],
    contact: Annotated[str, typer.Option(help="RUNG/CHANNEL from `escalation show`")],
    result: ResultOpt,
    directory: DirOpt,
    note: Annotated[str | None, typer.Option(help="What was said, by whom")] = None,
    json_: JsonOpt = False,
    user: UserOpt = None,
    url: UrlOpt = None,
) -> None:
    """Record an attempt to reach the peer off the line (signed, in the node's log)."""
    body: dict[str, Any] = {"contact": contact, "result": result, "note": note}
    with node_client(directory, url, user) as client:
        row = client.post(f"/api/v1/messages/{message_id}/escalation/attempts", body)
    if json_:
        print_json(row)
        return
    out.print(
        plain(
            f"recorded: {row['officer']} tried {row['kind']} {row['value']} at {row['at']}: "
            f"{row['result']} (log entry {row['log_index']})"
        )
    )


@contacts_app.command("set")
@friendly
def contacts_set(
    contacts_file: Annotated[Path, typer.Argument(help="A JSON list of rungs, lowest first")],
    directory: DirOpt,
) -> None:
    """Set this party's contact ladder; the card is signed with it from now on."""
    import pydantic

    from hotline.config import load_settings
    from hotline.domain.line import Contact
    from hotline.errors import ValidationError
    from hotline.protocol.envelope import describe
    from hotline.services.line.identity import CONTACTS_FILE, Identity

    data = read_json_file(contacts_file, "contacts file")
    try:  # checked before anything is written: a bad ladder leaves the old one
        rungs = pydantic.TypeAdapter(list[Contact]).validate_python(data)
    except pydantic.ValidationError as exc:
        raise ValidationError(
            f"contacts file {contacts_file}: {describe(exc)}",
            hint="a JSON list of {id, role_en, role_ru, channels: [{id, kind, value, "
            "label_en, label_ru, hours?}]}, lowest rung (the duty desk) first",
        ) from exc
    if len({rung.id for rung in rungs}) != len(rungs) or len(rungs) > 20:
        raise ValidationError(f"contacts file {contacts_file}: rung ids must differ (at most 20)")
    settings = load_settings(directory)
    text = json.dumps([r.wire() for r in rungs], ensure_ascii=False, indent=2) + "\n"
    write_text_file(settings.directory / CONTACTS_FILE, text, "contacts file")
    identity = Identity.from_settings(settings)
    channels = sum(len(c.channels) for c in identity.contacts)
    out.print(
        f"{len(identity.contacts)} rungs, {channels} out-of-band channels on the card. "
        "Restart the node, give the peer the new card (`hotline card --out FILE`); "
        "it pins it with `hotline peer add FILE`."
    )


@contacts_app.command("show")
@friendly
def contacts_show(
    directory: DirOpt,
    peer: Annotated[str | None, typer.Option(help="The peer's ladder, from its card")] = None,
    json_: JsonOpt = False,
) -> None:
    """This party's ladder, or the one on a pinned peer's card (signed by the peer)."""
    with opened_node(directory) as node:
        if peer is None:
            rungs = [c.wire() for c in node.identity.contacts]
        else:
            rows = {row["party"]: row for row in node.peer_list()}
            if peer not in rows:
                from hotline.errors import NotFound

                raise NotFound(f"no peer {peer!r} is pinned on this node")
            rungs = rows[peer]["contacts"]
    if json_:
        print_json(rungs)
        return
    table = Table("rung", Column("role", overflow="fold"), Column("channels", overflow="fold"))
    for rung in rungs:
        channels = "\n".join(
            f"{c['id']}: {c['kind']} {c['value']} ({c['label_en']} / {c['label_ru']})"
            + (f", {c['hours']}" if c.get("hours") else "")
            for c in rung.get("channels", [])
        )
        table.add_row(
            plain(rung["id"]), plain(f"{rung['role_en']} / {rung['role_ru']}"), plain(channels)
        )
    out.print(table)
