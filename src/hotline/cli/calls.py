"""``hotline principal`` and ``hotline calls``: principals, call requests, held calls.

``hotline readout`` and ``hotline watch`` live next door (``readouts.py``, ``watch.py``).
Every command talks to the running node's operator API (like ``hotline send``); pick the
node with ``--dir`` (or ``HOTLINE_DIR``), log in with ``hotline login`` or
``HOTLINE_USER`` / ``HOTLINE_PASSWORD``. Listings take ``--json`` and then print JSON only.
Times are UTC, RFC 3339 (``2022-05-13T14:00:00Z``); a slot is ``START/MINUTES``.

Titles, topics, names and readouts are people's text, often the peer's: they are printed
as written, never read as rich markup (``[/b]`` in a readout must not crash the command
nor ``[bold]`` restyle it), so every such value goes through ``plain``.

A request, call or readout id may be given whole or by its start (6 or more
characters), as ``hotline show`` takes a message's; a start shared by several is refused.
The shared options and helpers come from ``hotline.cli.common``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, Literal

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
    say,
    whole_id,
)
from hotline.cli.held import print_held
from hotline.client import NodeClient
from hotline.errors import ValidationError

principal_app = typer.Typer(help="Principals: who holds calls for each party.")
calls_app = typer.Typer(help="Calls between principals: request, answer, record, history.")

SlotsOpt = Annotated[list[str], typer.Option("--slot", help="START/MINUTES (repeatable)")]
ReasonOpt = Annotated[str | None, typer.Option(help="Why")]

#: What an id given on the command line names; a call's id is its request's.
Kind = Literal["call request", "call", "readout"]


def _readout_ids(client: NodeClient) -> Iterator[str]:
    for call in client.get("/api/v1/calls"):
        data = client.get(f"/api/v1/calls/{call['id']}/readouts", visibility="internal")
        yield from (row["id"] for side in data["sides"].values() for row in side)


def whole(client: NodeClient, kind: Kind, given: str) -> str:
    """The whole id of the ``kind`` that ``given`` (an id or its start) names."""
    if kind == "readout":
        return whole_id(given, kind, lambda: _readout_ids(client))
    path = "/api/v1/calls/requests" if kind == "call request" else "/api/v1/calls"
    return whole_id(given, kind, lambda: (row["id"] for row in client.get(path)))


def api(
    directory: Path,
    url: str | None,
    user: str | None,
    path: str,
    body: dict[str, Any] | None,
    *,
    given: tuple[Kind, str] | None = None,
    **params: str | None,
) -> Any:
    """GET ``path`` with ``params`` (``body`` None) or POST ``body`` to it on the running
    node; ``given`` (a kind and an id or its start) fills ``{id}`` in ``path``."""
    with node_client(directory, url, user) as client:
        if given is not None:
            path = path.format(id=whole(client, *given))
        return client.get(path, **params) if body is None else client.post(path, body)


def _slot(text: str) -> dict[str, Any]:
    start, _, minutes = text.partition("/")
    if not minutes.isdigit():
        raise ValidationError(f"slot {text!r} is not START/MINUTES", hint="2022-05-13T14:00:00Z/60")
    return {"start": start, "minutes": int(minutes)}


def _person(text: str) -> dict[str, Any]:
    party, _, name = text.partition(":")
    if not name:
        raise ValidationError(f"{text!r} is not PARTY:NAME", hint="us:Gen. Mark Milley")
    return {"party": party, "name": name}


def _show_request(row: dict[str, Any], json_: bool) -> None:
    if json_:
        print_json(row)
        return
    out.print(Text.assemble("request ", plain(row["id"], "bold"), plain(f": {row['state']}")))
    if "rendering" in row:
        say(row["rendering"]["en"])
        say(row["rendering"]["ru"])


# -- principals ---------------------------------------------------------------------------


@principal_app.command("list")
@friendly
def principal_list(
    directory: DirOpt, json_: JsonOpt = False, user: UserOpt = None, url: UrlOpt = None
) -> None:
    """Our principals and those on each pinned peer's card."""
    data = api(directory, url, user, "/api/v1/principals", None)
    if json_:
        print_json(data)
        return
    table = Table("party", "id", "title", "name", "по-русски")
    rows = [(data["party"], p) for p in data["ours"]]
    rows += [(party, p) for party, people in data["peers"].items() for p in people]
    for party, p in rows:
        table.add_row(
            *map(plain, (party, p["id"], p["title_en"], p["name_en"])),
            plain(f"{p['title_ru']} {p['name_ru']}"),
        )
    out.print(table)


# -- call requests --------------------------------------------------------------------------


@calls_app.command("request")
@friendly
def request(
    to: Annotated[str, typer.Option(help="The peer's party id")],
    principal: Annotated[str, typer.Option(help="Our principal's id")],
    counterpart: Annotated[str, typer.Option(help="The peer's principal's id")],
    topic: Annotated[list[str], typer.Option(help="A topic (repeatable)")],
    slot: SlotsOpt,
    answer_by: Annotated[str, typer.Option(help="Deadline for the answer (UTC)")],
    directory: DirOpt,
    precedence: Annotated[str, typer.Option(help="FLASH, IMMEDIATE, PRIORITY, ROUTINE")] = (
        "ROUTINE"
    ),
    message: Annotated[str | None, typer.Option(help="A note to the counterpart")] = None,
    note: Annotated[str | None, typer.Option(help="Internal note (never sent)")] = None,
    ref: Annotated[str | None, typer.Option(help="Idempotency key: retry safely")] = None,
    json_: JsonOpt = False,
    user: UserOpt = None,
    url: UrlOpt = None,
) -> None:
    """Ask the peer's principal for a call (signed; they accept, decline or propose)."""
    body = {
        "to": to,
        "principal": principal,
        "counterpart": counterpart,
        "topics": topic,
        "slots": [_slot(s) for s in slot],
        "answer_by": answer_by,
        "precedence": precedence.upper(),
        "message": message,
        "internal_note": note,
        "client_ref": ref,
    }
    made = api(directory, url, user, "/api/v1/calls/requests", body)
    if made.get("kind") == "call" and not json_:  # FLASH: held for a second person
        print_held(made)
        return
    _show_request(made, json_)


@calls_app.command("list")
@friendly
def request_list(
    directory: DirOpt,
    state: Annotated[str | None, typer.Option(help="Only requests in this state")] = None,
    json_: JsonOpt = False,
    user: UserOpt = None,
    url: UrlOpt = None,
) -> None:
    """Call requests, newest first."""
    rows = api(directory, url, user, "/api/v1/calls/requests", None, state=state)
    if json_:
        print_json(rows)
        return
    # ids are copied into the next command: never cut nor wrapped; the other columns fold
    # (wrap anywhere, nothing cut off) to fit a narrow terminal
    table = Table(
        Column("id", no_wrap=True, min_width=36),
        *(Column(h, overflow="fold") for h in ("state", "from → to", "answer by", "topics")),
    )
    for r in rows:
        state = r["state"] + (f" (awaiting {r['awaiting']})" if r["awaiting"] else "")
        between = (
            f"{r['requester']['party']}:{r['requester']['id']} → "
            f"{r['counterpart']['party']}:{r['counterpart']['id']}"
        )
        topics = "; ".join(r["topics"])
        table.add_row(*map(plain, (r["id"], state, between, r["answer_by"], topics)))
    out.print(table)


@calls_app.command("show")
@friendly
def request_show(
    request_id: Annotated[str, typer.Argument(help="Request id")],
    directory: DirOpt,
    json_: JsonOpt = False,
    user: UserOpt = None,
    url: UrlOpt = None,
) -> None:
    """One request, in both languages, with its timeline."""
    path = "/api/v1/calls/requests/{id}"
    row = api(directory, url, user, path, None, given=("call request", request_id))
    _show_request(row, json_)
    if not json_:
        for event in row["timeline"]:
            say(f"  {event['at']}  {event['kind']:<10} {event['party']}")


def _answer(
    directory: Path, url: str | None, user: str | None, request_id: str, body: dict[str, Any]
) -> None:
    path = "/api/v1/calls/requests/{id}/answer"
    answer = {k: v for k, v in body.items() if v is not None}
    row = api(directory, url, user, path, answer, given=("call request", request_id))
    say(f"request {row['id']}: {row['state']}")


@calls_app.command("accept")
@friendly
def accept(
    request_id: Annotated[str, typer.Argument(help="Request id")],
    slot: Annotated[str, typer.Option(help="START/MINUTES, one of those on the table")],
    directory: DirOpt,
    user: UserOpt = None,
    url: UrlOpt = None,
) -> None:
    """Accept one of the proposed slots."""
    _answer(directory, url, user, request_id, {"answer": "accept", "slot": _slot(slot)})


@calls_app.command("decline")
@friendly
def decline(
    request_id: Annotated[str, typer.Argument(help="Request id")],
    reason: Annotated[str, typer.Option(help="Why (sent to the peer)")],
    directory: DirOpt,
    user: UserOpt = None,
    url: UrlOpt = None,
) -> None:
    """Decline a call request, with a reason."""
    _answer(directory, url, user, request_id, {"answer": "decline", "reason": reason})


@calls_app.command("propose")
@friendly
def propose(
    request_id: Annotated[str, typer.Argument(help="Request id")],
    slot: SlotsOpt,
    answer_by: Annotated[str, typer.Option(help="Deadline for the other side (UTC)")],
    directory: DirOpt,
    reason: ReasonOpt = None,
    user: UserOpt = None,
    url: UrlOpt = None,
) -> None:
    """Propose other slots, with a new deadline for the other side."""
    body = {
        "answer": "propose",
        "slots": [_slot(s) for s in slot],
        "answer_by": answer_by,
        "reason": reason,
    }
    _answer(directory, url, user, request_id, body)


@calls_app.command("withdraw")
@friendly
def withdraw(
    request_id: Annotated[str, typer.Argument(help="Request id")],
    directory: DirOpt,
    reason: ReasonOpt = None,
    user: UserOpt = None,
    url: UrlOpt = None,
) -> None:
    """Withdraw our request (or cancel the accepted call)."""
    path = "/api/v1/calls/requests/{id}/withdraw"
    row = api(directory, url, user, path, {"reason": reason}, given=("call request", request_id))
    say(f"request {row['id']}: {row['state']}")


# -- held calls -----------------------------------------------------------------------------


@calls_app.command("record")
@friendly
def record(
    request_id: Annotated[str, typer.Argument(help="The accepted request's id")],
    held_at: Annotated[str, typer.Option(help="When the call began (UTC)")],
    minutes: Annotated[int, typer.Option(help="How long it lasted")],
    participant: Annotated[list[str], typer.Option(help="PARTY:NAME (repeatable)")],
    directory: DirOpt,
    interpreter: Annotated[list[str] | None, typer.Option(help="PARTY:NAME (repeatable)")] = None,
    private: Annotated[bool, typer.Option(help="Ask to keep the details private")] = False,
    note: Annotated[str | None, typer.Option(help="Internal note (never sent)")] = None,
    json_: JsonOpt = False,
    user: UserOpt = None,
    url: UrlOpt = None,
) -> None:
    """Record that an accepted call was held (sent to the peer)."""
    body = {
        "request_id": request_id,
        "held_at": held_at,
        "minutes": minutes,
        "participants": [_person(p) for p in participant],
        "interpreters": [_person(p) for p in interpreter or []],
        "private": private,
        "internal_note": note,
    }
    with node_client(directory, url, user) as client:
        body["request_id"] = whole(client, "call request", request_id)
        row = client.post("/api/v1/calls", body)
    if json_:
        print_json(row)
    else:
        say(f"call {row['id']} held at {row['held_at']} ({row['minutes']} min)")


@calls_app.command("private")
@friendly
def private(
    call_id: Annotated[str, typer.Argument(help="Call id")],
    directory: DirOpt,
    undo: Annotated[bool, typer.Option("--undo", help="Stop asking")] = False,
    user: UserOpt = None,
    url: UrlOpt = None,
) -> None:
    """Ask to keep a call's details private (private by mutual agreement once both ask)."""
    path = "/api/v1/calls/{id}/privacy"
    row = api(directory, url, user, path, {"details_private": not undo}, given=("call", call_id))
    agreed = "private by mutual agreement" if row["details_private"] else "not mutually private"
    say(f"call {row['id']}: {agreed} (asked by {', '.join(row['private_requested_by'])})")


@calls_app.command("history")
@friendly
def history(
    directory: DirOpt,
    peer: Annotated[str | None, typer.Option(help="The peer's party id")] = None,
    principal: Annotated[str | None, typer.Option(help="Our principal")] = None,
    counterpart: Annotated[str | None, typer.Option(help="The peer's principal")] = None,
    json_: JsonOpt = False,
    user: UserOpt = None,
    url: UrlOpt = None,
) -> None:
    """Contact history: every pair of principals, or one pair's timeline when named.

    Without --principal and --counterpart: an overview of every pair (with --peer, that
    peer's), longest silence first; --json prints a list. Naming either (with --peer)
    shows that pair with its timeline; --json prints one object.
    """
    if principal is None and counterpart is None:
        pairs = api(directory, url, user, "/api/v1/calls/histories", None, peer=peer)
        if json_:
            print_json(pairs)
            return
        if not pairs:
            say("no call requests yet")
        for data in pairs:
            _print_history(data, timeline=False)
        return
    if peer is None:
        raise ValidationError("name the peer of the pair: --peer PARTY", field="peer")
    path = "/api/v1/calls/history"
    data = api(
        directory, url, user, path, None, peer=peer, principal=principal, counterpart=counterpart
    )
    if json_:
        print_json(data)
    else:
        _print_history(data, timeline=True)


def _print_history(data: dict[str, Any], *, timeline: bool) -> None:
    pair = f"{data['principal']} ↔ {data['peer']}:{data['counterpart']}"
    out.print(plain(pair, "bold"))
    days = data["days_since_last_contact"]
    say("no call yet" if days is None else f"last call {data['last_contact']}, {days} days ago")
    for call in data["calls"]:
        gap = call["days_since_previous"]
        say(f"  call {call['held_at']}" + ("" if gap is None else f"  (after {gap} days)"))
    say(f"declined: {len(data['declined'])}   unanswered: {len(data['unanswered'])}")
    for event in data["timeline"] if timeline else []:
        say(f"  {event['at']}  {event['kind']:<10} {event['party']}")
