"""The ``hotline`` command (Typer + Rich).

Commands that set a node up (``init``, ``card``, ``peer``, ``user``) work on its folder
directly; commands that act on the line (``send``, ``inbox``, ``ack`` …) talk to the
running node over its operator API. Every command picks its node with ``--dir`` (or
``HOTLINE_DIR``); every listing takes ``--json`` and then prints JSON only.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import urlsplit

import typer
from rich.table import Column, Table
from rich.text import Text

from hotline.cli.calls import calls_app, principal_app, readout_app, watch_app
from hotline.cli.common import (
    DirOpt,
    JsonOpt,
    UrlOpt,
    UserOpt,
    err,
    friendly,
    node_client,
    out,
    print_json,
)
from hotline.cli.conflicts import conflicts_app
from hotline.cli.evidence import evidence_app, verify_command
from hotline.cli.held import held_app, print_held
from hotline.cli.notices import check_command, render_command
from hotline.cli.picture import areas_command, tracks_app
from hotline.client import NodeClient, save_token
from hotline.clock import parse_rfc3339
from hotline.config import load_settings
from hotline.errors import ValidationError
from hotline.protocol.keys import spoken_fingerprint

if TYPE_CHECKING:
    from hotline.node import Node

app = typer.Typer(
    name="hotline",
    help="Hotline: a signed, durable, bilingual line between parties that do not trust each other.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
peer_app = typer.Typer(help="Pin and list peers (the only keys this node trusts).")
user_app = typer.Typer(help="Manage the node's operators.")
notice_app = typer.Typer(help="Formatted notices: render, check the rules, send.")
app.add_typer(peer_app, name="peer")
app.add_typer(user_app, name="user")
app.add_typer(notice_app, name="notice")
link_app = typer.Typer(help="Link tests: run one now, or report availability and round trips.")
app.add_typer(link_app, name="link")
app.add_typer(conflicts_app, name="conflicts")
app.add_typer(evidence_app, name="evidence")
app.add_typer(principal_app, name="principal")
app.add_typer(calls_app, name="calls")
app.add_typer(readout_app, name="readout")
app.add_typer(watch_app, name="watch")
app.add_typer(tracks_app, name="tracks")
app.add_typer(held_app, name="held")
app.command("areas")(friendly(areas_command))
app.command("verify")(verify_command)
notice_app.command("render")(render_command)
notice_app.command("check")(check_command)


@contextlib.contextmanager
def opened_node(directory: Path) -> Iterator[Node]:
    """The node in ``directory``, opened on its folder (not served), closed after use."""
    from hotline.node import Node

    node = Node.open(directory)
    try:
        yield node
    finally:
        node.db.dispose()


def read_password(from_stdin: bool, prompt: str) -> str:
    """A password from standard input's first line, or asked twice without echo."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(typer.prompt(prompt, hide_input=True, confirmation_prompt=True))


# -- setting up -----------------------------------------------------------------------------


@app.command()
@friendly
def init(
    party: Annotated[str, typer.Option(help="Party id, e.g. us")],
    name: Annotated[str, typer.Option(help="Display name in English")],
    directory: DirOpt,
    name_ru: Annotated[str | None, typer.Option(help="Display name in Russian")] = None,
    lang: Annotated[str, typer.Option(help="Language this node writes in: en or ru")] = "en",
    endpoint: Annotated[
        list[str] | None, typer.Option(help="URL peers use to reach this node (repeatable)")
    ] = None,
    database_url: Annotated[str, typer.Option(help="SQLAlchemy URL (default SQLite)")] = "",
) -> None:
    """Create a node: settings file, Ed25519 signing key (mode 0600) and database."""
    from hotline.node import init_node

    node = init_node(
        directory,
        party=party,
        name_en=name,
        name_ru=name_ru,
        lang=lang,
        endpoints=endpoint,
        database_url=database_url,
    )
    out.print(f"Created node [bold]{party}[/] in {node.settings.directory}")
    out.print(f"Key fingerprint: {spoken_fingerprint(node.identity.fingerprint)}")
    if not name_ru:
        err.print(
            "note: no --name-ru given, so the card shows the English name in Russian too "
            "(set name_ru in hotline.toml before giving the card to the peer)",
            soft_wrap=True,
        )
    out.print("Next: `hotline user add NAME --password-stdin`, then `hotline serve`.")
    node.db.dispose()


@app.command()
@friendly
def serve(
    directory: DirOpt,
    host: Annotated[str | None, typer.Option(help="Address to bind (default: the card's)")] = None,
    port: Annotated[int | None, typer.Option(help="Port to bind (default: the card's)")] = None,
) -> None:
    """Run the node: operator API, federation API and delivery workers."""
    import uvicorn

    from hotline.app import create_app
    from hotline.node import Node

    node = Node.open(directory)
    first = urlsplit(node.settings.endpoints[0]) if node.settings.endpoints else None
    bind_host = host or (first.hostname if first and first.hostname else "127.0.0.1")
    bind_port = port or (first.port if first and first.port else 8400)
    err.print(f"node {node.identity.party} serving on http://{bind_host}:{bind_port}")
    uvicorn.run(create_app(node), host=bind_host, port=bind_port, log_level="warning")


@app.command()
@friendly
def card(
    directory: DirOpt,
    json_: JsonOpt = False,
    out_file: Annotated[Path | None, typer.Option("--out", help="Write the card here")] = None,
) -> None:
    """Print this node's peer card (give it to the peer, out of band)."""
    from hotline.services.line.identity import Identity

    identity = Identity.from_settings(load_settings(directory))
    data = identity.card().wire()
    if out_file:
        out_file.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", "utf-8")
    if json_:
        print_json(data)
        return
    table = Table(show_header=False, box=None)
    for key in ("party", "name_en", "name_ru", "lang", "endpoints", "public_key"):
        table.add_row(key, ", ".join(data[key]) if key == "endpoints" else str(data[key]))
    table.add_row("fingerprint", spoken_fingerprint(data["fingerprint"]))
    out.print(table)
    if out_file:
        out.print(f"written to {out_file}")


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
    from hotline.node import read_card_file
    from hotline.protocol.envelope import open_card

    data = read_card_file(card_file)
    peer_card, _ = open_card(data)
    with opened_node(directory) as node:
        pinned = {row["party"]: row for row in node.peer_list()}.get(peer_card.party)
        out.print(
            Text.assemble(
                "Peer ",
                (peer_card.party, "bold"),
                f" ({peer_card.name_en} / {peer_card.name_ru})",
            )
        )
        out.print(f"Fingerprint: [bold]{spoken_fingerprint(peer_card.fingerprint)}[/]")
        if pinned is not None and pinned["fingerprint"] != peer_card.fingerprint:
            err.print(
                f"[bold red]KEY CHANGE:[/] {peer_card.party} is pinned with key "
                f"{spoken_fingerprint(pinned['fingerprint'])}; this card carries another key. "
                "Pinning it replaces the old key: envelopes signed with the old key will be "
                "refused from now on.",
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
        out.print("pinned")
    elif changed:
        out.print(f"key replaced: {peer_card.party} is now pinned with the new key")
    else:
        out.print("already pinned with this key; card updated")


@peer_app.command("list")
@friendly
def peer_list(directory: DirOpt, json_: JsonOpt = False) -> None:
    """List pinned peers, with their whole fingerprints (to compare out of band)."""
    with opened_node(directory) as node:
        rows = node.peer_list()
    if json_:
        print_json(rows)
        return
    table = Table("party", "name", "fingerprint", "endpoints")
    table.columns[2].no_wrap = True
    table.columns[2].min_width = 39
    for row in rows:
        groups = spoken_fingerprint(row["fingerprint"]).split(" ")
        halves = " ".join(groups[:8]) + "\n" + " ".join(groups[8:])  # read aloud in two breaths
        table.add_row(
            Text(row["party"]),
            Text(f"{row['name_en']} / {row['name_ru']}", overflow="fold"),
            Text(halves),
            Text("\n".join(row["endpoints"]), overflow="fold"),
        )
    out.print(table)


@user_app.command("add")
@friendly
def user_add(
    name: Annotated[str, typer.Argument(help="User name")],
    directory: DirOpt,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input")
    ] = False,
    role: Annotated[list[str] | None, typer.Option(help="Role (repeatable)")] = None,
) -> None:
    """Add an operator (password hashed with Argon2id)."""
    password = read_password(password_stdin, "Password")
    with opened_node(directory) as node:
        user = node.auth.add_user(name, password, role)
    out.print(f"user {user.name} added with role(s) {', '.join(user.roles)}")


@user_app.command("list")
@friendly
def user_list(directory: DirOpt, json_: JsonOpt = False) -> None:
    """List the node's operators, their roles, and who is disabled."""
    with opened_node(directory) as node:
        rows = node.auth.users()
    if json_:
        print_json(rows)
        return
    table = Table("name", "roles", "since", "state")
    for row in rows:
        roles = ", ".join(row["roles"])
        state = "DISABLED" if row["disabled"] else "active"
        table.add_row(Text(row["name"]), roles, row["created_at"], state)
    out.print(table)


@user_app.command("disable")
@friendly
def user_disable(name: Annotated[str, typer.Argument(help="User name")], directory: DirOpt) -> None:
    """Disable an operator: their sessions end now; their name stays in every trail."""
    with opened_node(directory) as node:
        ended = node.auth.set_disabled(name, True)
    out.print(Text(f"user {name} disabled; {ended} session(s) ended"))


@user_app.command("enable")
@friendly
def user_enable(name: Annotated[str, typer.Argument(help="User name")], directory: DirOpt) -> None:
    """Enable a disabled operator again (they log in anew)."""
    with opened_node(directory) as node:
        node.auth.set_disabled(name, False)
    out.print(Text(f"user {name} enabled"))


@user_app.command("password")
@friendly
def user_password(
    name: Annotated[str, typer.Argument(help="User name")],
    directory: DirOpt,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input")
    ] = False,
) -> None:
    """Set an operator's password; their sessions end."""
    password = read_password(password_stdin, "New password")
    with opened_node(directory) as node:
        ended = node.auth.set_password(name, password)
    out.print(Text(f"password of {name} changed; {ended} session(s) ended"))


@app.command()
@friendly
def login(directory: DirOpt, user: UserOpt = None, url: UrlOpt = None) -> None:
    """Log in to the running node and keep the token for later commands (mode 0600)."""
    settings = load_settings(directory)
    name = user or typer.prompt("User")
    password = os.environ.get("HOTLINE_PASSWORD") or typer.prompt("Password", hide_input=True)
    base = url or settings.endpoints[0]
    with NodeClient(base) as client:
        token = client.login(name, password)
    path = save_token(settings.directory, base, name, token)
    out.print(f"logged in as {name}; token saved in {path}")


# -- the line -------------------------------------------------------------------------------


@app.command()
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
    text: Annotated[str | None, typer.Argument(help="The message text")] = None,
) -> None:
    """Queue a text message (or, with --code N, a pre-agreed coded message) to a peer."""
    if (text is None) == (code is None):
        raise ValidationError("give the message TEXT or --code N (one of the two)")
    body = {
        "to": to,
        "text": text,
        "code": code,
        "precedence": precedence.upper(),
        "lang": lang,
        "client_ref": ref,
    }
    with node_client(directory, url, user) as client:
        row = client.post("/api/v1/messages", {k: v for k, v in body.items() if v is not None})
    if json_:
        print_json(row)
    elif row.get("state") == "held":
        print_held(row)
    else:
        out.print(f"queued {row['id']} to {row['peer']} (seq {row['seq']}, {row['precedence']})")
        if "rendering" in row:
            out.print(Text(row["rendering"]["en"]))
            out.print(Text(row["rendering"]["ru"]))


@notice_app.command("send")
@friendly
def notice_send(
    notice_file: Annotated[Path, typer.Argument(help="The notice (JSON)")],
    to: Annotated[str, typer.Option(help="The receiving party")],
    directory: DirOpt,
    precedence: Annotated[str, typer.Option(help="FLASH, IMMEDIATE, PRIORITY or ROUTINE")] = (
        "ROUTINE"
    ),
    ref: Annotated[str | None, typer.Option(help="Idempotency key: resend safely")] = None,
    json_: JsonOpt = False,
    user: UserOpt = None,
    url: UrlOpt = None,
) -> None:
    """Send a formatted notice; the agreement rules are checked first."""
    from hotline.node import read_card_file

    notice = read_card_file(notice_file)
    body = {"to": to, "notice": notice, "precedence": precedence.upper(), "client_ref": ref}
    with node_client(directory, url, user) as client:
        sent = client.post("/api/v1/notices", {k: v for k, v in body.items() if v is not None})
    if json_:
        print_json(sent)
        return
    if sent.get("state") == "held":
        print_held(sent)
        return
    message = sent["message"]
    out.print(f"queued {message['id']} to {message['peer']} (seq {message['seq']})")
    for finding in sent["findings"]:
        mark = "[green]met[/]" if finding["satisfied"] else "[red]NOT MET[/]"
        out.print(f"{mark} {finding['rule_id']}: {finding['detail_en']}")
    for lang in ("en", "ru"):
        out.print(sent["rendering"][lang], markup=False, soft_wrap=True)


@app.command()
@friendly
def translate(
    message_id: Annotated[str, typer.Argument(help="Message id")],
    lang: Annotated[str, typer.Option(help="Language of the translation: en or ru")],
    directory: DirOpt,
    text: Annotated[str, typer.Argument(help="The translation")],
    json_: JsonOpt = False,
    user: UserOpt = None,
    url: UrlOpt = None,
) -> None:
    """Add your translation of a message; a second person must certify it."""
    with node_client(directory, url, user) as client:
        row = client.post(
            f"/api/v1/messages/{message_id}/translations", {"lang": lang, "text": text}
        )
    if json_:
        print_json(row)
    else:
        out.print(f"translation {row['id']} recorded; not certified until a second person does")


@app.command()
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


@link_app.command("test")
@friendly
def link_test(
    directory: DirOpt,
    peer: Annotated[str | None, typer.Option(help="Only this peer (default: every peer)")] = None,
    wait: Annotated[float, typer.Option(help="Seconds to wait for the answer")] = 130.0,
    json_: JsonOpt = False,
    user: UserOpt = None,
    url: UrlOpt = None,
) -> None:
    """Send a link test now and print its result (exit 1 if any fails)."""
    import time

    with node_client(directory, url, user) as client:
        parties = [peer] if peer else [p["party"] for p in client.get("/api/v1/peers")]
        tests = [client.post(f"/api/v1/links/{p}/test") for p in parties]
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline and any(t["state"] == "pending" for t in tests):
            time.sleep(0.25)
            tests = [client.get(f"/api/v1/links/{t['peer']}/tests/{t['id']}") for t in tests]
    if json_:
        print_json(tests)
    for test in tests:
        if not json_:
            rtt = f"{test['rtt_ms']} ms" if test["rtt_ms"] is not None else "-"
            out.print(
                Text(f"{test['peer']}: {test['state']}  round trip {rtt}  {test['reason'] or ''}")
            )
    if any(t["state"] != "passed" for t in tests):
        raise typer.Exit(1)


@link_app.command("report")
@friendly
def link_report(
    directory: DirOpt,
    peer: Annotated[str | None, typer.Option(help="Only this peer")] = None,
    since: Annotated[str, typer.Option(help="Window, e.g. 30d, 12h")] = "30d",
    json_: JsonOpt = False,
    user: UserOpt = None,
    url: UrlOpt = None,
) -> None:
    """Tests sent and passed, availability, round trips, longest outage, current state."""
    with node_client(directory, url, user) as client:
        rows = client.get("/api/v1/links", peer=peer, since=since)
    if json_:
        print_json(rows)
        return
    table = Table(
        "peer",
        "state",
        "sent",
        "passed",
        "availability",
        "rtt p50/p95/max ms",
        "longest outage",
        title=f"links, last {since}",
    )
    for row in rows:
        rtts = [row["rtt_ms"][k] for k in ("p50", "p95", "max")]
        rtt = "/".join("-" if v is None else str(v) for v in rtts)
        avail = "-" if row["availability_pct"] is None else f"{row['availability_pct']}%"
        table.add_row(
            row["peer"],
            row["state"],
            str(row["sent"]),
            str(row["passed"]),
            avail,
            rtt,
            f"{row['longest_outage_s']} s",
        )
    out.print(table)


@app.command()
@friendly
def alarms(
    directory: DirOpt,
    state: Annotated[str | None, typer.Option(help="open or cleared")] = None,
    json_: JsonOpt = False,
    user: UserOpt = None,
    url: UrlOpt = None,
) -> None:
    """Alarms, newest first: kind, subject, raised, state (history kept)."""
    with node_client(directory, url, user) as client:
        rows = client.get("/api/v1/alarms", state=state)
    if json_:
        print_json(rows)
        return
    table = Table(
        "id", "kind", "subject", Column("raised", no_wrap=True), "state", "cleared by / reason"
    )
    for row in rows:
        cleared = f"{row['cleared_by']}: {row['clear_reason']}" if row["cleared_by"] else ""
        table.add_row(
            str(row["id"]), row["kind"], Text(row["subject"]), row["raised_at"], row["state"],
            Text(cleared),
        )  # fmt: skip
    out.print(table)


@app.command("clear-alarm")
@friendly
def clear_alarm(
    alarm_id: Annotated[int, typer.Argument(help="Alarm id")],
    reason: Annotated[str, typer.Option(help="Why it is cleared (kept in the history)")],
    directory: DirOpt,
    user: UserOpt = None,
    url: UrlOpt = None,
) -> None:
    """Clear an alarm, saying why."""
    with node_client(directory, url, user) as client:
        row = client.post(f"/api/v1/alarms/{alarm_id}/clear", {"reason": reason})
    out.print(f"alarm {row['id']} cleared by {row['cleared_by']} after {row['duration_s']} s")


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
            row["state"],
            row["created"],
            time_left(row["deadline"], row["acked_at"], now),
            Text(text[:50] + ("…" if len(text) > 50 else "")),  # the peer's words, as written
        )
    out.print(table)


@app.command()
@friendly
def inbox(
    directory: DirOpt, json_: JsonOpt = False, user: UserOpt = None, url: UrlOpt = None
) -> None:
    """Messages received, newest first."""
    with node_client(directory, url, user) as client:
        _listing(client.get("/api/v1/inbox"), json_, "inbox")


@app.command()
@friendly
def outbox(
    directory: DirOpt, json_: JsonOpt = False, user: UserOpt = None, url: UrlOpt = None
) -> None:
    """Messages sent, with their state (queued, sent, delivered, acknowledged)."""
    with node_client(directory, url, user) as client:
        _listing(client.get("/api/v1/outbox"), json_, "outbox")


@app.command()
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
        (row["precedence"], "bold"),
        f" {row['type']} {row['direction']} {row['peer']} seq {row['seq']}   id {row['id']}",
    )
    out.print(head)
    out.print(Text(f"state: {row['state']}   created: {row['created']}"))
    out.print(Text(f"hash: {row['hash']}"))
    if row.get("deadline") and row["state"] != "acknowledged":
        out.print(Text(f"acknowledge by: {row['deadline']}"))
    renderings = row.get("rendering") or {}
    if renderings:
        for lang in ("en", "ru"):
            if lang in renderings:
                out.print(Text(f"\n— {lang} —", style="dim"))
                out.print(Text(renderings[lang]))
    else:
        text = row["body"].get("text")
        shown = text if isinstance(text, str) else json.dumps(row["body"], ensure_ascii=False)
        out.print(Text(f"\n— original ({row['lang']}) —", style="dim"))
        out.print(Text(shown))
    for finding in row.get("findings") or []:
        mark = "met" if finding["satisfied"] else "NOT MET"
        out.print(Text(f"rule {finding['rule_id']}: {mark} — {finding['detail_en']}"))
    for tr in row.get("translations") or []:
        if tr["machine"]:
            who = "machine draft — not certified"
        elif tr["certified_by"]:
            who = f"by {tr['translator']}, certified by {tr['certified_by']}"
        else:
            who = f"by {tr['translator']}, not certified"
        out.print(Text(f"\n— translation {tr['id']} ({tr['lang']}, {who}) —", style="dim"))
        out.print(Text(tr["text"]))
    table = Table("at", "step", "detail", title="trail")
    for step in row["trail"]:
        detail = json.dumps(step["detail"], ensure_ascii=False)
        table.add_row(Text(step["at"]), Text(step["kind"]), Text(detail))
    out.print(table)


@app.command()
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


@app.command()
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
    out.print(f"node [bold]{data['party']}[/]  key {spoken_fingerprint(data['fingerprint'])}")
    out.print(f"log: {data['log']['size']} entries, root {data['log']['root'][:16]}…")
    for direction, counts in data["messages"].items():
        out.print(f"{direction}: " + (", ".join(f"{k} {v}" for k, v in counts.items()) or "none"))
    for peer in data["peer_state"]:
        state = peer["last_error"] or "ok"
        out.print(f"peer {peer['party']}: {state}")


@app.command()
@friendly
def demo(
    directory: Annotated[
        Path, typer.Option("--dir", help="Working folder for the two demo nodes")
    ] = Path("hotline-demo"),
    once: Annotated[bool, typer.Option("--once", help="Play the scenario, then exit")] = False,
) -> None:
    """Two nodes (us, ru) on loopback: exchange cards, send both ways, acknowledge."""
    from hotline.demo import run_demo

    code = run_demo(directory, once=once, console=out)
    raise typer.Exit(code)


def main() -> None:
    app()
