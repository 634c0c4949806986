"""``hotline send``, ``inbox``, ``outbox``, ``show``, ``ack``, ``status``, ``translate``
and ``certify``: the line, through the running node's operator API.

Listings print the first 8 characters of each message id; every command that takes a
message id takes that start too (6 or more characters; a start shared by several ids is
refused), as ``hotline show`` and ``hotline ack`` always did.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Column, Table
from rich.text import Text

from hotline.cli.attachments import upload_file
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
    spoken_fingerprint,
    whole_message_id,
)
from hotline.cli.held import print_held
from hotline.clock import parse_rfc3339
from hotline.errors import ValidationError


@friendly
def send(
    to: Annotated[str, typer.Option(help="The receiving party")],
    directory: DirOpt,
    precedence: Annotated[str, typer.Option(help="FLASH, IMMEDIATE, PRIORITY or ROUTINE")] = (
        "ROUTINE"
    ),
    lang: Annotated[str | None, typer.Option(help="en or ru (default: the node's)")] = None,
    ref: Annotated[str | None, typer.Option(help="Idempotency key: resend safely")] = None,
    code: Annotated[int | None, typer.Option(help="Send a phrasebook code instead of text")] = None,
    json_: JsonOpt = False,
    user: UserOpt = None,
    url: UrlOpt = None,
    file: Annotated[
        Path | None,
        typer.Option(
            help='Send many: a JSON-lines file, one message a line ({"text": …}, and '
            "optionally to, precedence, lang, client_ref; --to etc. are the defaults), "
            "in batches of --batch, each batch all or nothing"
        ),
    ] = None,
    batch: Annotated[int, typer.Option(help="Messages per request with --file")] = 500,
    attach: Annotated[
        list[Path] | None,
        typer.Option(
            help="Attach a file (PNG, JPEG, PDF, text, CSV, JSON, GeoJSON, KML); repeatable"
        ),
    ] = None,
    text: Annotated[str | None, typer.Argument(help="The message text")] = None,
) -> None:
    """Queue a text message (or, with --code N, a pre-agreed coded message) to a peer."""
    if file is not None:
        if text is not None or code is not None:
            raise ValidationError("give --file, or the message TEXT or --code N, not both")
        defaults = {"to": to, "precedence": precedence.upper(), "lang": lang}
        _send_file(file, defaults, batch, directory, url, user, json_)
        return
    if (text is None) == (code is None):
        raise ValidationError("give the message TEXT or --code N (one of the two)")
    body: dict[str, Any] = {
        "to": to,
        "text": text,
        "code": code,
        "precedence": precedence.upper(),
        "lang": lang,
        "client_ref": ref,
    }
    if attach and text is None:
        raise ValidationError("attachments go with a text message", field="attach")
    with node_client(directory, url, user) as client:
        if attach:
            body["attachments"] = [upload_file(client, path) for path in attach]
        row = client.post("/api/v1/messages", {k: v for k, v in body.items() if v is not None})
    if json_:
        print_json(row)
    elif row.get("state") == "held":
        print_held(row)
    else:
        out.print(f"queued {row['id']} to {row['peer']} (seq {row['seq']}, {row['precedence']})")
        for choice in body.get("attachments", ()):
            out.print(plain(f"  attached {choice['name']} (SHA-256 {choice['sha256']})"))
        if "rendering" in row:
            out.print(plain(row["rendering"]["en"]))
            out.print(plain(row["rendering"]["ru"]))


def _read_lines(file: Path, defaults: dict[str, Any]) -> list[dict[str, Any]]:
    """Every message of a JSON-lines file, with the defaults filled in; a bad line is
    refused by its number before anything is sent."""
    items = []
    try:
        lines = file.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise ValidationError(f"cannot read {file}: {exc.strerror}", field="file") from exc
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValidationError(f"{file}, line {number}: not JSON ({exc.msg})") from exc
        if not isinstance(item, dict) or not isinstance(item.get("text"), str):
            raise ValidationError(
                f'{file}, line {number}: each line must be an object with "text"',
                hint='e.g. {"text": "Exercise ends at 1800Z", "client_ref": "ex-1"}',
            )
        merged = {k: v for k, v in defaults.items() if v is not None} | item
        items.append(merged)
    if not items:
        raise ValidationError(f"{file} holds no messages", field="file")
    return items


def _send_file(
    file: Path,
    defaults: dict[str, Any],
    batch: int,
    directory: Any,
    url: Any,
    user: Any,
    json_: bool,
) -> None:
    """``hotline send --file``: the batch API, ``batch`` messages a request, in order. A
    refused batch stops here: the batches before it are queued, and sending the same file
    again with client_ref on each line queues none of them twice."""
    if batch < 1:
        raise ValidationError("--batch must be at least 1", field="batch")
    items = _read_lines(file, defaults)
    sent: list[dict[str, Any]] = []
    with node_client(directory, url, user) as client:
        for start in range(0, len(items), batch):
            answer = client.post(
                "/api/v1/messages/batch", {"messages": items[start : start + batch]}
            )
            sent += answer["messages"]
    if json_:
        print_json(sent)
    else:
        out.print(f"queued {len(sent)} messages from {file}")


@friendly
def translate(
    message_id: Annotated[str, typer.Argument(help="Message id (or its first 8 characters)")],
    lang: Annotated[str, typer.Option(help="Language of the translation: en or ru")],
    directory: DirOpt,
    text: Annotated[str, typer.Argument(help="The translation")],
    json_: JsonOpt = False,
    user: UserOpt = None,
    url: UrlOpt = None,
) -> None:
    """Add your translation of a message; a second person must certify it."""
    with node_client(directory, url, user) as client:
        whole = whole_message_id(client, message_id)
        row = client.post(f"/api/v1/messages/{whole}/translations", {"lang": lang, "text": text})
    if json_:
        print_json(row)
    else:
        out.print(f"translation {row['id']} recorded; not certified until a second person does")


@friendly
def certify(
    translation_id: Annotated[int, typer.Argument(help="Translation id")],
    directory: DirOpt,
    json_: JsonOpt = False,
    user: UserOpt = None,
    url: UrlOpt = None,
) -> None:
    """Certify another translator's translation."""
    with node_client(directory, url, user) as client:
        row = client.post(f"/api/v1/translations/{translation_id}/certify")
    if json_:
        print_json(row)
    else:
        out.print(f"translation {row['id']} certified by {row['certified_by']}")


def time_left(deadline: str | None, acked_at: str | None, now: datetime) -> str:
    """The deadline column: ``9m left``, ``1h05m left`` or ``overdue 3m``; empty once
    acknowledged or for a message nobody acknowledges."""
    if deadline is None or acked_at is not None:
        return ""
    left = round((parse_rfc3339(deadline) - now).total_seconds())
    minutes, seconds = divmod(abs(left), 60)
    hours, minutes = divmod(minutes, 60)
    span = f"{hours}h{minutes:02d}m" if hours else f"{minutes}m" if minutes else f"{seconds}s"
    return f"{span} left" if left >= 0 else f"overdue {span}"


def delivery_state(row: dict[str, Any], room: int = 60) -> str:
    """``sent`` says nothing of a message no endpoint took: an outbound message without
    a receipt whose attempts failed reads "queued, retrying since <time> (<error>)"."""
    if row.get("delivery") != "retrying":
        return str(row["state"])
    error = str(row.get("last_error") or "")
    error = error[:room] + ("…" if len(error) > room else "")
    return f"queued, retrying since {row['retrying_since']}" + (f" ({error})" if error else "")


def _listing(rows: list[dict[str, Any]], json_: bool, title: str) -> None:
    if json_:
        print_json(rows)
        return
    table = Table(
        Column("id", no_wrap=True),  # what `show` and `ack` take
        "peer",
        "seq",
        "precedence",
        "state",
        Column("created", no_wrap=True),  # a time cut short is a wrong time
        Column("deadline", no_wrap=True),
        "text",
        title=title,
    )
    now = datetime.now(UTC)
    for row in rows:
        text = str(row["body"].get("text", row["type"].replace("_", " ")))
        table.add_row(
            row["id"][:8],
            row["peer"],
            str(row["seq"]),
            row["precedence"],
            plain(delivery_state(row)),
            row["created"],
            time_left(row["deadline"], row["acked_at"], now),
            plain(text[:50] + ("…" if len(text) > 50 else "")),  # the peer's words, as written
        )
    out.print(table)


@friendly
def inbox(
    directory: DirOpt, json_: JsonOpt = False, user: UserOpt = None, url: UrlOpt = None
) -> None:
    """Messages received, newest first."""
    with node_client(directory, url, user) as client:
        _listing(client.get("/api/v1/inbox"), json_, "inbox")


@friendly
def outbox(
    directory: DirOpt, json_: JsonOpt = False, user: UserOpt = None, url: UrlOpt = None
) -> None:
    """Messages sent, with their state (queued, sent, delivered, acknowledged)."""
    with node_client(directory, url, user) as client:
        _listing(client.get("/api/v1/outbox"), json_, "outbox")


@friendly
def show(
    message_id: Annotated[str, typer.Argument(help="Message id (or its first 8 characters)")],
    directory: DirOpt,
    json_: JsonOpt = False,
    user: UserOpt = None,
    url: UrlOpt = None,
) -> None:
    """One message: its text in both languages, findings, translations and trail."""
    with node_client(directory, url, user) as client:
        row = client.get(f"/api/v1/messages/{message_id}")
    if json_:
        print_json(row)
        return
    # Everything below may be the peer's words: printed as text, never as Rich markup.
    head = Text.assemble(
        plain(row["precedence"], "bold"),
        plain(f" {row['type']} {row['direction']} {row['peer']} seq {row['seq']}   id {row['id']}"),
    )
    out.print(head)
    out.print(plain(f"state: {delivery_state(row, 500)}   created: {row['created']}"))
    out.print(plain(f"hash: {row['hash']}"))
    if row.get("deadline") and row.get("acked_at") is None:  # an ack may precede the receipt
        out.print(plain(f"acknowledge by: {row['deadline']}"))
    renderings = row.get("rendering") or {}
    if renderings:
        for lang in ("en", "ru"):
            if lang in renderings:
                out.print(plain(f"\n— {lang} —", "dim"))
                out.print(plain(renderings[lang]))
    else:
        text = row["body"].get("text")
        shown = text if isinstance(text, str) else json.dumps(row["body"], ensure_ascii=False)
        out.print(plain(f"\n— original ({row['lang']}) —", "dim"))
        out.print(plain(shown))
    for finding in row.get("findings") or []:
        mark = "met" if finding["satisfied"] else "NOT MET"
        out.print(plain(f"rule {finding['rule_id']}: {mark} — {finding['detail_en']}"))
    for tr in row.get("translations") or []:
        if tr["machine"]:
            who = "machine draft — not certified"
        elif tr["certified_by"]:
            who = f"by {tr['translator']}, certified by {tr['certified_by']}"
        else:
            who = f"by {tr['translator']}, not certified"
        out.print(plain(f"\n— translation {tr['id']} ({tr['lang']}, {who}) —", "dim"))
        out.print(plain(tr["text"]))
    table = Table("at", "step", "detail", title="trail")
    for step in row["trail"]:
        detail = json.dumps(step["detail"], ensure_ascii=False)
        table.add_row(plain(step["at"]), plain(step["kind"]), plain(detail))
    out.print(table)


@friendly
def ack(
    message_id: Annotated[
        str, typer.Argument(help="Id of a received message (or its first 8 characters)")
    ],
    directory: DirOpt,
    json_: JsonOpt = False,
    user: UserOpt = None,
    url: UrlOpt = None,
) -> None:
    """Acknowledge a received message; a signed acknowledgement goes back to its sender."""
    with node_client(directory, url, user) as client:
        row = client.post(f"/api/v1/messages/{message_id}/ack")
    if json_:
        print_json(row)
    else:
        out.print(f"acknowledged {row['id']} as {row['acked_by']} at {row['acked_at']}")


@friendly
def status(
    directory: DirOpt, json_: JsonOpt = False, user: UserOpt = None, url: UrlOpt = None
) -> None:
    """The running node: party, key, message counts, peers, log head."""
    with node_client(directory, url, user) as client:
        data = client.get("/api/v1/status")
        data["peer_state"] = client.get("/api/v1/peers")
    if json_:
        print_json(data)
        return
    key = spoken_fingerprint(data["fingerprint"])
    out.print(Text.assemble("node ", plain(data["party"], "bold"), f"  key {key}"))
    out.print(f"log: {data['log']['size']} entries, root {data['log']['root'][:16]}…")
    for direction, counts in data["messages"].items():
        out.print(f"{direction}: " + (", ".join(f"{k} {v}" for k, v in counts.items()) or "none"))
    for peer in data["peer_state"]:
        state = peer["last_error"] or "ok"
        out.print(f"peer {peer['party']}: {state}")
