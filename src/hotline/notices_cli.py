"""``hotline notice render`` and ``hotline notice check``: notice files on the command line.

A notice file is a body as it is sent: one JSON object with a ``type`` (see
``examples/notices/``). These are plain functions; ``hotline.cli`` registers them::

    notice_app.command("render")(render_command)
    notice_app.command("check")(check_command)

Exit codes: 0 done; 1 a rule finding blocks sending (``check``); 2 the file or an
option is invalid (the message names the field).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from hotline.domain.notice_base import format_utc, parse_utc
from hotline.domain.notices import NoticeBody, parse_notice
from hotline.errors import HotlineError, ValidationError
from hotline.render.notices import render
from hotline.rules import RULES_DIR, check, format_findings


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


def _fail(exc: HotlineError) -> NoReturn:
    typer.echo(f"error: {exc}", err=True)
    raise typer.Exit(2)


def read_notice(path: Path) -> NoticeBody:
    """Parse a notice file; unreadable JSON and invalid bodies are :class:`ValidationError`."""
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValidationError(f"cannot read notice file {path}: {exc}") from None
    if not isinstance(data, dict):
        raise ValidationError(f"{path}: a notice is a JSON object with a type")
    return parse_notice(data)


def _parse_time(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return parse_utc(value)
    except ValueError as exc:
        raise ValidationError(f"--at: {exc}", field="at") from None


def render_command(
    file: FileArg,
    lang: Annotated[LangOption, typer.Option("--lang", help="Language.")] = LangOption.en,
    sender: FromOpt = None,
    receiver: ToOpt = None,
    message_id: Annotated[str | None, typer.Option("--id", help="Message id.")] = None,
    sent_at: AtOpt = None,
) -> None:
    """Print a notice file as a formatted message in English or Russian."""
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
    typer.echo(text, nl=False)


def _pair(sender: str | None, receiver: str | None) -> tuple[str, str]:
    """The parties to check between; with neither given, the only installed agreement."""
    if sender and receiver:
        return sender, receiver
    if sender or receiver:
        raise ValidationError("give both --from and --to, or neither", field="from")
    files = sorted(RULES_DIR.glob("*.json"))
    if len(files) != 1:
        names = ", ".join(f.stem for f in files) or "none"
        raise ValidationError(
            "--from and --to are needed", hint=f"agreements installed: {names}", field="from"
        )
    first, _, second = files[0].stem.partition("-")
    return first, second


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
) -> None:
    """Check a notice file against the agreement rules; exit 1 if a finding blocks sending."""
    try:
        notice = read_notice(file)
        party, other = _pair(sender, receiver)
        when = _parse_time(sent_at) or datetime.now(UTC).replace(microsecond=0)
        findings = check(notice, sent_at=when, sender=party, receiver=other)
    except HotlineError as exc:
        _fail(exc)
    blocked = any(f.blocks_sending for f in findings)
    if json_output:
        out = {
            "sender": party,
            "receiver": other,
            "sent_at": format_utc(when),
            "blocks_sending": blocked,
            "findings": [f.model_dump(mode="json") for f in findings],
        }
        typer.echo(json.dumps(out, ensure_ascii=False, indent=2))
    else:
        typer.echo(format_findings(findings, lang.value), nl=False)
    if blocked:
        raise typer.Exit(1)
