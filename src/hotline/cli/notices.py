"""``hotline notice render``, ``check`` and ``send``: notice files on the command line.

A notice file is a body as it is sent: one JSON object with a ``type`` (see
``examples/notices/``). ``render`` and ``check`` work offline; ``send`` sends through
the running node, which checks the agreement rules first.

Exit codes of ``render`` and ``check``: 0 done; 1 a rule finding blocks sending
(``check``); 2 the file or an option is invalid (the message names the field), or a
rules file is broken. ``send`` fails like every command on the line (exit 1).

``check`` uses the rules a node would: those in ``--rules-dir``, else the node's
``rules_dir`` setting (``--dir``/``HOTLINE_DIR``), else ``HOTLINE_RULES_DIR``, else the
packaged ones.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.text import Text

from hotline.cli.attachments import upload_file
from hotline.cli.common import (
    DirOpt,
    JsonOpt,
    OptionalDirOpt,
    UrlOpt,
    UserOpt,
    echo,
    friendly,
    json_text,
    node_client,
    out,
    plain,
    print_json,
    read_json_file,
)
from hotline.cli.held import print_held
from hotline.errors import HotlineError, ValidationError
from hotline.render.conflicts import conflict_lines

if TYPE_CHECKING:
    from hotline.domain.notices.models import NoticeBody
    from hotline.domain.notices.phrasebook import Phrasebook

notice_app = typer.Typer(help="Formatted notices: render, check the rules, send.")


class LangOption(StrEnum):
    """Languages a notice renders in."""

    en = "en"
    ru = "ru"


FileArg = Annotated[
    Path, typer.Argument(help="Notice body, a JSON file.", dir_okay=False, show_default=False)
]
FromOpt = Annotated[str | None, typer.Option("--from", help="Sending party, e.g. us.")]
ToOpt = Annotated[str | None, typer.Option("--to", help="Receiving party, e.g. ru.")]
AtOpt = Annotated[str | None, typer.Option("--at", help="Sending time, e.g. 2026-11-21T14:30:00Z.")]
AcceptConflictOpt = Annotated[
    str | None,
    typer.Option(
        "--accept-conflict",
        metavar="REASON",
        help="Send although the volumes conflict with the other side's; the reason is recorded.",
        show_default=False,
    ),
]
RulesDirOpt = Annotated[
    Path | None,
    typer.Option(
        "--rules-dir",
        help="Folder of rules files (default: the node's, HOTLINE_RULES_DIR, or the packaged).",
        show_default=False,
    ),
]


def _fail(exc: HotlineError) -> NoReturn:
    echo(f"error: {exc}", err=True)
    raise typer.Exit(2)


def read_notice(path: Path, phrasebook: Phrasebook | None = None) -> NoticeBody:
    """Parse a notice file; unreadable JSON and invalid bodies are :class:`ValidationError`.

    A coded message must name a code of ``phrasebook`` (default: the packaged one), as
    it must to be rendered or sent.
    """
    from hotline.domain.notices.models import CodedMessage, parse_notice
    from hotline.domain.notices.phrasebook import Phrasebook

    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValidationError(f"cannot read notice file {path}: {exc}") from None
    if not isinstance(data, dict):
        raise ValidationError(f"{path}: a notice is a JSON object with a type")
    notice = parse_notice(data)
    if isinstance(notice, CodedMessage):
        (phrasebook or Phrasebook.default()).check_message(notice)
    return notice


def _parse_time(value: str | None) -> datetime | None:
    from hotline.domain.notices.base import parse_utc

    if value is None:
        return None
    try:
        return parse_utc(value)
    except ValueError as exc:
        raise ValidationError(f"--at: {exc}", field="at") from None


@notice_app.command("render")
def render_command(
    file: FileArg,
    lang: Annotated[LangOption, typer.Option("--lang", help="Language.")] = LangOption.en,
    sender: FromOpt = None,
    receiver: ToOpt = None,
    message_id: Annotated[str | None, typer.Option("--id", help="Message id.")] = None,
    sent_at: AtOpt = None,
) -> None:
    """Print a notice file as a formatted message in English or Russian."""
    from hotline.render.notices import render

    try:
        text = render(
            read_notice(file),
            lang.value,
            sender=sender,
            receiver=receiver,
            message_id=message_id,
            sent_at=_parse_time(sent_at),
        )
    except HotlineError as exc:
        _fail(exc)
    echo(text, nl=False)


def _sources(node_dir: Path | None, rules_dir: Path | None) -> tuple[Path, Phrasebook | None]:
    """The rules folder and phrasebook to check with (see the module docstring)."""
    from hotline.config import load_settings
    from hotline.domain.notices.phrasebook import Phrasebook
    from hotline.services.notices.rules import RULES_DIR

    phrasebook = None
    folder = os.environ.get("HOTLINE_RULES_DIR") or ""
    if node_dir is not None:
        settings = load_settings(node_dir)  # HOTLINE_RULES_DIR still wins over the file
        folder = settings.rules_dir
        phrasebook = Phrasebook.load(settings.phrasebook) if settings.phrasebook else None
    if rules_dir is not None:
        return rules_dir, phrasebook
    return (Path(folder) if folder else RULES_DIR), phrasebook


def _pair(sender: str | None, receiver: str | None, folder: Path) -> tuple[str, str]:
    """The parties to check between; with neither given, the only agreement in ``folder``."""
    if sender and receiver:
        return sender, receiver
    if sender or receiver:
        raise ValidationError("give both --from and --to, or neither", field="from")
    files = sorted(folder.glob("*.json"))
    if len(files) != 1:
        names = ", ".join(f.stem for f in files) or "none"
        raise ValidationError(
            "--from and --to are needed",
            hint=f"agreements in {folder}: {names}",
            field="from",
        )
    first, _, second = files[0].stem.partition("-")
    return first, second


@notice_app.command("check")
def check_command(
    file: FileArg,
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    lang: Annotated[LangOption, typer.Option("--lang", help="Language.")] = LangOption.en,
    sender: FromOpt = None,
    receiver: ToOpt = None,
    sent_at: Annotated[
        str | None,
        typer.Option("--at", help="Sending time (default: now), e.g. 2026-11-21T14:30:00Z."),
    ] = None,
    node_dir: OptionalDirOpt = None,
    rules_dir: RulesDirOpt = None,
    user: UserOpt = None,
    url: UrlOpt = None,
) -> None:
    """Check a notice file against the agreement rules and, with --dir, against the other
    side's volumes the running node holds; exit 1 if a finding or a conflict blocks sending."""
    from hotline.domain.notices.base import format_utc
    from hotline.domain.notices.models import to_wire
    from hotline.services.notices.rules import check, format_findings, rules_for

    try:
        folder, phrasebook = _sources(node_dir, rules_dir)
        notice = read_notice(file, phrasebook)
        party, other = _pair(sender, receiver, folder)
        when = _parse_time(sent_at) or datetime.now(UTC).replace(microsecond=0)
        rules = rules_for(party, other, folder)
        findings = check(notice, sent_at=when, sender=party, receiver=other, rules=rules)
    except HotlineError as exc:
        _fail(exc)
    conflicts, needs_reason, unchecked = _node_conflicts(
        node_dir, url, user, other, to_wire(notice)
    )
    blocked = any(f.blocks_sending for f in findings) or needs_reason
    if json_output:
        answer = {
            "sender": party,
            "receiver": other,
            "sent_at": format_utc(when),
            "blocks_sending": blocked,
            "findings": [f.model_dump(mode="json") for f in findings],
            "conflicts": conflicts,
            "conflict_needs_reason": needs_reason,
            "conflicts_unchecked": unchecked,
        }
        echo(json_text(answer))
    else:
        echo(format_findings(findings, lang.value), nl=False)
        if conflicts is not None:
            echo(conflict_lines(conflicts), nl=False)
        if needs_reason:
            echo("SENT ONLY WITH A REASON: notice send --accept-conflict REASON")
    if unchecked is not None and not json_output:
        echo(f"warning: conflicts NOT checked: {unchecked}", err=True)
    if blocked:
        raise typer.Exit(1)


def _node_conflicts(
    node_dir: Path | None, url: str | None, user: str | None, to: str, notice: dict[str, Any]
) -> tuple[list[dict[str, Any]] | None, bool, str | None]:
    """(conflicts, whether sending needs a reason, None) as the running node finds them,
    or (None, False, why they were not checked).

    Only the node holds the other side's volumes, so without one nothing is checked; the
    caller says so rather than letting silence read as "no conflict".
    """
    if node_dir is None:
        return None, False, "give --dir of a running node (it holds the other side's volumes)"
    try:
        with node_client(node_dir, url, user) as client:
            checked = client.post("/api/v1/notices/check", {"to": to, "notice": notice})
    except HotlineError as exc:
        return None, False, str(exc)
    return list(checked["conflicts"]), bool(checked["conflict_needs_reason"]), None


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
    accept_conflict: AcceptConflictOpt = None,
    attach: Annotated[
        list[Path] | None,
        typer.Option("--attach", help="A file to carry with the notice (repeatable)"),
    ] = None,
) -> None:
    """Send a formatted notice; the agreement rules and the other side's volumes are
    checked first: a notice in conflict is refused unless --accept-conflict gives a reason."""
    notice = read_json_file(notice_file, "notice file")
    body = {
        "to": to,
        "notice": notice,
        "precedence": precedence.upper(),
        "client_ref": ref,
        "accept_conflict": accept_conflict,
    }
    with node_client(directory, url, user) as client:
        if attach:
            body["attachments"] = [upload_file(client, path) for path in attach]
        sent = client.post("/api/v1/notices", {k: v for k, v in body.items() if v is not None})
    if json_:
        print_json(sent)
        return
    if sent.get("state") == "held":
        print_held(sent)
        return
    message = sent["message"]
    out.print(f"queued {message['id']} to {message['peer']} (seq {message['seq']})")
    for choice in body.get("attachments") or ():
        out.print(plain(f"  attached {choice['name']} (SHA-256 {choice['sha256']})"))
    for finding in sent["findings"]:
        mark = ("met", "green") if finding["satisfied"] else ("NOT MET", "red")
        out.print(Text.assemble(mark, plain(f" {finding['rule_id']}: {finding['detail_en']}")))
    if sent["conflicts"]:
        out.print(plain(conflict_lines(sent["conflicts"])), end="")
    if sent.get("accepted_conflict"):
        out.print(plain(f"SENT IN CONFLICT; reason recorded: {sent['accepted_conflict']}"))
    for lang in ("en", "ru"):
        out.print(sent["rendering"][lang], soft_wrap=True)


# -- the volumes, their conflicts and negotiations, as the running node folds them -----

StateOpt = Annotated[
    str | None, typer.Option("--state", help="Only 'open' or only 'closed' conflicts.")
]


@notice_app.command("conflicts")
@friendly
def conflicts_command(
    directory: DirOpt,
    message: Annotated[str | None, typer.Option(help="Only this message's conflicts")] = None,
    state: StateOpt = None,
    json_: JsonOpt = False,
    user: UserOpt = None,
    url: UrlOpt = None,
) -> None:
    """The conflicts between volumes in force, open and closed (with why they closed)."""
    params = {k: v for k, v in (("message", message), ("state", state)) if v is not None}
    with node_client(directory, url, user) as client:
        rows = client.get("/api/v1/conflicts", **params)
    if json_:
        print_json(rows)
        return
    if not rows:
        out.print("No conflicts.")
    for c in rows:
        a, b = c["a"], c["b"]
        head = (
            f"#{c['id']} {a['party'].upper()} {a['volume_id']} × {b['party'].upper()} "
            f"{b['volume_id']}, {c['horizontal_m']} m / {c['vertical_m']} m, "
            f"{c['start']} – {c['end']}: "
        )
        if c["state"] == "open":
            out.print(Text.assemble(plain(head), ("OPEN", "red")))
        else:
            why = f"closed {c['closed_at']}, {c['closed_reason']}: {c['closed_detail']}"
            out.print(Text.assemble(plain(head), plain(why)))


@notice_app.command("volumes")
@friendly
def volumes_command(
    directory: DirOpt,
    message: Annotated[str | None, typer.Option(help="Only this notice's volumes")] = None,
    json_: JsonOpt = False,
    user: UserOpt = None,
    url: UrlOpt = None,
) -> None:
    """Every volume (current version) and proposal: owner, version, state."""
    params = {"message": message} if message else {}
    with node_client(directory, url, user) as client:
        rows = client.get("/api/v1/volumes/states", **params)
    if json_:
        print_json(rows)
        return
    for v in rows:
        line = f"{v['key']} v{v['version']} {v['owner'].upper()} {v['kind']}: {v['state']}"
        out.print(plain(line + (f" ({v['reason']})" if v.get("reason") else "")))


@notice_app.command("negotiation")
@friendly
def negotiation_command(
    message_id: Annotated[str, typer.Argument(help="Any message of the negotiation")],
    directory: DirOpt,
    json_: JsonOpt = False,
    user: UserOpt = None,
    url: UrlOpt = None,
) -> None:
    """A negotiation as both nodes see it: its state, rounds and volumes."""
    with node_client(directory, url, user) as client:
        neg = client.get(f"/api/v1/negotiations/{message_id}")
    if json_:
        print_json(neg)
        return
    out.print(plain(f"negotiation {neg['id']} ({neg['requester'].upper()}): {neg['state']}"))
    for r in neg["rounds"]:
        detail = r.get("answer") or ""
        out.print(plain(f"  {r['at']} {r['party'].upper()} {r['type']} {detail} {r['message_id']}"))
    for c in neg["concerns"]:
        now = f"now v{c['current_version']} {c['state']}" if "state" in c else "not held here"
        out.print(plain(f"  concerns {c['key']} v{c['version']} ({now})"))
    for p in neg["proposals"]:
        out.print(
            plain(f"  proposes {p['key']} v{p['version']} {p['owner'].upper()}: {p['state']}")
        )
    for c in neg["proposal_conflicts"]:
        a, b = c["a"], c["b"]
        out.print(
            plain(
                f"  proposal conflicts: {a['volume_id']} × {b['volume_id']}, {c['horizontal_m']} m"
            )
        )
