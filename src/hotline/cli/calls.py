"""``hotline principal``, ``hotline calls``, ``hotline readout`` and ``hotline watch``.

Every command talks to the running node's operator API (like ``hotline send``); pick the
node with ``--dir`` (or ``HOTLINE_DIR``), log in with ``hotline login`` or
``HOTLINE_USER`` / ``HOTLINE_PASSWORD``. Listings take ``--json`` and then print JSON only.
Times are UTC, RFC 3339 (``2022-05-13T14:00:00Z``); a slot is ``START/MINUTES``.

Titles, topics, names and readouts are people's text, often the peer's: they are printed
as written, never read as rich markup (``[/b]`` in a readout must not crash the command
nor ``[bold]`` restyle it), so every such value goes through :func:`_plain`.

The shared options and helpers come from ``hotline.cli.common``.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import httpx
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
    print_json,
)
from hotline.cli.held import print_held
from hotline.client import ApiError
from hotline.errors import Unreachable, ValidationError

principal_app = typer.Typer(help="Principals: who holds calls for each party.")
calls_app = typer.Typer(help="Calls between principals: request, answer, record, history.")
readout_app = typer.Typer(help="Readouts of held calls: write, approve, publish, export.")
watch_app = typer.Typer(help="Watch levels: the ladder, changes under the two-person rule.")

SlotsOpt = Annotated[list[str], typer.Option("--slot", help="START/MINUTES (repeatable)")]
ReasonOpt = Annotated[str | None, typer.Option(help="Why")]


def _api(
    directory: Path,
    url: str | None,
    user: str | None,
    path: str,
    body: dict[str, Any] | None,
    **params: Any,
) -> Any:
    """GET ``path`` with ``params`` (``body`` None) or POST ``body`` to it on the running node."""
    with node_client(directory, url, user) as client:
        return client.get(path, **params) if body is None else client.post(path, body)


def _markdown(directory: Path, url: str | None, user: str | None, path: str) -> str:
    """GET a Markdown document (the JSON client would not pass it through whole)."""
    with node_client(directory, url, user) as client:
        try:
            response = httpx.get(
                client.base_url + path,
                headers={"Authorization": f"Bearer {client.token}"},
                timeout=15,
            )
        except httpx.HTTPError as exc:
            raise Unreachable(f"cannot reach the node at {client.base_url}: {exc}") from exc
    if response.status_code >= 400:
        raise ApiError(response.status_code, response.json())
    return response.text


def _plain(value: Any) -> Text:
    """``value`` as text that rich prints literally: no markup, no ``:emoji:`` codes."""
    return Text("" if value is None else str(value))


def _say(text: str) -> None:
    """Print a line built from people's text: literally, never as markup."""
    out.print(_plain(text))


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
    out.print(Text.assemble("request ", (row["id"], "bold"), f": {row['state']}"))
    if "rendering" in row:
        _say(row["rendering"]["en"])
        _say(row["rendering"]["ru"])


# -- principals ---------------------------------------------------------------------------


@principal_app.command("list")
@friendly
def principal_list(
    directory: DirOpt, json_: JsonOpt = False, user: UserOpt = None, url: UrlOpt = None
) -> None:
    """Our principals and those on each pinned peer's card."""
    data = _api(directory, url, user, "/api/v1/principals", None)
    if json_:
        print_json(data)
        return
    table = Table("party", "id", "title", "name", "по-русски")
    rows = [(data["party"], p) for p in data["ours"]]
    rows += [(party, p) for party, people in data["peers"].items() for p in people]
    for party, p in rows:
        table.add_row(
            *map(_plain, (party, p["id"], p["title_en"], p["name_en"])),
            _plain(f"{p['title_ru']} {p['name_ru']}"),
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
    made = _api(directory, url, user, "/api/v1/calls/requests", body)
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
    rows = _api(directory, url, user, "/api/v1/calls/requests", None, state=state)
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
        table.add_row(*map(_plain, (r["id"], state, between, r["answer_by"], topics)))
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
    row = _api(directory, url, user, f"/api/v1/calls/requests/{request_id}", None)
    _show_request(row, json_)
    if not json_:
        for event in row["timeline"]:
            _say(f"  {event['at']}  {event['kind']:<10} {event['party']}")


def _answer(
    directory: Path, url: str | None, user: str | None, request_id: str, body: dict[str, Any]
) -> None:
    path = f"/api/v1/calls/requests/{request_id}/answer"
    row = _api(directory, url, user, path, {k: v for k, v in body.items() if v is not None})
    _say(f"request {row['id']}: {row['state']}")


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
    path = f"/api/v1/calls/requests/{request_id}/withdraw"
    row = _api(directory, url, user, path, {"reason": reason})
    _say(f"request {row['id']}: {row['state']}")


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
    row = _api(directory, url, user, "/api/v1/calls", body)
    if json_:
        print_json(row)
    else:
        _say(f"call {row['id']} held at {row['held_at']} ({row['minutes']} min)")


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
    path = f"/api/v1/calls/{call_id}/privacy"
    row = _api(directory, url, user, path, {"details_private": not undo})
    agreed = "private by mutual agreement" if row["details_private"] else "not mutually private"
    _say(f"call {row['id']}: {agreed} (asked by {', '.join(row['private_requested_by'])})")


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
        pairs = _api(directory, url, user, "/api/v1/calls/histories", None, peer=peer)
        if json_:
            print_json(pairs)
            return
        if not pairs:
            _say("no call requests yet")
        for data in pairs:
            _print_history(data, timeline=False)
        return
    if peer is None:
        raise ValidationError("name the peer of the pair: --peer PARTY", field="peer")
    params = {"peer": peer, "principal": principal, "counterpart": counterpart}
    data = _api(directory, url, user, "/api/v1/calls/history", None, **params)
    if json_:
        print_json(data)
    else:
        _print_history(data, timeline=True)


def _print_history(data: dict[str, Any], *, timeline: bool) -> None:
    pair = f"{data['principal']} ↔ {data['peer']}:{data['counterpart']}"
    out.print(Text(pair, style="bold"))
    days = data["days_since_last_contact"]
    _say("no call yet" if days is None else f"last call {data['last_contact']}, {days} days ago")
    for call in data["calls"]:
        gap = call["days_since_previous"]
        _say(f"  call {call['held_at']}" + ("" if gap is None else f"  (after {gap} days)"))
    _say(f"declined: {len(data['declined'])}   unanswered: {len(data['unanswered'])}")
    for event in data["timeline"] if timeline else []:
        _say(f"  {event['at']}  {event['kind']:<10} {event['party']}")


# -- readouts -------------------------------------------------------------------------------


@readout_app.command("write")
@friendly
def readout_write(
    call_id: Annotated[str, typer.Argument(help="Call id")],
    title: Annotated[str, typer.Option(help="Title")],
    directory: DirOpt,
    text: Annotated[str | None, typer.Option(help="The readout (or --file)")] = None,
    file: Annotated[Path | None, typer.Option(help="Read the readout from a file")] = None,
    visibility: Annotated[str, typer.Option(help="internal, shared or public")] = "internal",
    issued_by: Annotated[str | None, typer.Option(help="e.g. Joint Staff Spokesman")] = None,
    lang: Annotated[str | None, typer.Option(help="en or ru (default: the node's)")] = None,
    user: UserOpt = None,
    url: UrlOpt = None,
) -> None:
    """Write this side's readout; shared and public ones go to the peer."""
    if (text is None) == (file is None):
        raise ValidationError("give the readout as --text or --file (one of the two)")
    body = {
        "title": title,
        "text": text if text is not None else Path(str(file)).read_text(encoding="utf-8"),
        "visibility": visibility,
        "issued_by": issued_by,
        "lang": lang,
    }
    path = f"/api/v1/calls/{call_id}/readouts"
    row = _api(directory, url, user, path, {k: v for k, v in body.items() if v is not None})
    _say(f"readout {row['id']}: {row['visibility']}, {row['status']}")


@readout_app.command("show")
@friendly
def readout_show(
    call_id: Annotated[str, typer.Argument(help="Call id")],
    directory: DirOpt,
    visibility: Annotated[str, typer.Option(help="internal, shared or public")] = "public",
    json_: JsonOpt = False,
    user: UserOpt = None,
    url: UrlOpt = None,
) -> None:
    """Both sides' readouts of a call, side by side."""
    path = f"/api/v1/calls/{call_id}/readouts"
    data = _api(directory, url, user, path, None, visibility=visibility)
    if json_:
        print_json(data)
        return
    table = Table(*(Column(Text(party)) for party in data["sides"]))
    columns = [
        Text("\n\n").join(
            _plain(f"{r['title']} [{r['visibility']}, {r['status']}]\n{r['text']}") for r in side
        )
        for side in data["sides"].values()
    ]
    table.add_row(*columns)
    out.print(table)


@readout_app.command("approve")
@friendly
def readout_approve(
    readout_id: Annotated[str, typer.Argument(help="Readout id")],
    directory: DirOpt,
    user: UserOpt = None,
    url: UrlOpt = None,
) -> None:
    """Approve a public readout of a call kept private (not your own); it is sent."""
    row = _api(directory, url, user, f"/api/v1/readouts/{readout_id}/approve", {})
    _say(f"readout {row['id']}: {row['status']}, approved by {row['approved_by']}")


@readout_app.command("reject")
@friendly
def readout_reject(
    readout_id: Annotated[str, typer.Argument(help="Readout id")],
    reason: Annotated[str, typer.Option(help="Why (kept on this node)")],
    directory: DirOpt,
    user: UserOpt = None,
    url: UrlOpt = None,
) -> None:
    """Reject a held public readout (not your own): it is not sent, and goes back to what
    it was (internal, or shared if it had gone out as shared)."""
    path = f"/api/v1/readouts/{readout_id}/reject"
    row = _api(directory, url, user, path, {"reason": reason})
    _say(f"readout {row['id']}: rejected, now {row['visibility']}, {row['status']}")


@readout_app.command("publish")
@friendly
def readout_publish(
    readout_id: Annotated[str, typer.Argument(help="Readout id")],
    visibility: Annotated[str, typer.Option(help="shared or public")],
    directory: DirOpt,
    user: UserOpt = None,
    url: UrlOpt = None,
) -> None:
    """Widen one of our readouts (internal → shared → public)."""
    path = f"/api/v1/readouts/{readout_id}/publish"
    row = _api(directory, url, user, path, {"visibility": visibility})
    _say(f"readout {row['id']}: {row['visibility']}, {row['status']}")


@readout_app.command("export")
@friendly
def readout_export(
    call_id: Annotated[str, typer.Argument(help="Call id")],
    directory: DirOpt,
    lang: Annotated[str, typer.Option(help="en or ru")] = "en",
    out_file: Annotated[Path | None, typer.Option("--out", help="Write it here")] = None,
    user: UserOpt = None,
    url: UrlOpt = None,
) -> None:
    """Both sides' public readouts as Markdown."""
    text = _markdown(directory, url, user, f"/api/v1/calls/{call_id}/readouts.md?lang={lang}")
    if out_file is None:
        sys.stdout.write(text)
    else:
        out_file.write_text(text, encoding="utf-8")
        _say(f"written to {out_file}")


# -- watch levels ---------------------------------------------------------------------------


@watch_app.command("show")
@friendly
def watch_show(
    directory: DirOpt, json_: JsonOpt = False, user: UserOpt = None, url: UrlOpt = None
) -> None:
    """The ladder, the current level, a pending change and the peers' levels."""
    data = _api(directory, url, user, "/api/v1/watch", None)
    if json_:
        print_json(data)
        return
    current = data["current"]["level"]["id"]
    for rung in data["ladder"]:
        mark = "▶" if rung["id"] == current else " "
        _say(f"{mark} {rung['rank']} {rung['id']:<28} {rung['name_en']} / {rung['name_ru']}")
    pending = data["pending"]
    if pending:
        _say(f"pending change {pending['id']}: → {pending['to_level']} by {pending['proposed_by']}")
    for party, level in data["peers"].items():
        _say(f"{party}: {level['level']['name_en']} since {level['effective_at']}")


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
    row = _api(directory, url, user, "/api/v1/watch/changes", body)
    _say(f"change {row['id']}: {row['from_level']} → {row['to_level']}, {row['state']}")


@watch_app.command("approve")
@friendly
def watch_approve(
    change_id: Annotated[int, typer.Argument(help="Change id")],
    directory: DirOpt,
    note: Annotated[str | None, typer.Option(help="Note")] = None,
    user: UserOpt = None,
    url: UrlOpt = None,
) -> None:
    """Approve someone else's proposed change: it takes effect now."""
    row = _api(directory, url, user, f"/api/v1/watch/changes/{change_id}/approve", {"note": note})
    _say(f"change {row['id']}: {row['state']} by {row['decided_by']} at {row['decided_at']}")


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
    row = _api(directory, url, user, f"/api/v1/watch/changes/{change_id}/reject", {"note": note})
    _say(f"change {row['id']}: {row['state']}")


@watch_app.command("history")
@friendly
def watch_history(
    directory: DirOpt, json_: JsonOpt = False, user: UserOpt = None, url: UrlOpt = None
) -> None:
    """Every change of ours and every level the peers notified, with times."""
    data = _api(directory, url, user, "/api/v1/watch/history", None)
    if json_:
        print_json(data)
        return
    table = Table("id", "change", "state", "proposed", "decided", "reason")
    for c in data["changes"]:
        proposed = f"{c['proposed_at']} {c['proposed_by']}"
        decided = f"{c['decided_at'] or ''} {c['decided_by'] or ''}"
        change = f"{c['from_level']} → {c['to_level']}"
        table.add_row(*map(_plain, (c["id"], change, c["state"], proposed, decided, c["reason"])))
    out.print(table)
    for level in data["peers"]:
        _say(f"{level['peer']}: {level['level']['name_en']} at {level['effective_at']}")
