"""What the pages show, computed from the services' answers (no HTML here).

The inbox is ordered by what needs action: received messages nobody has acknowledged,
most urgent precedence first and, within one precedence, the nearest deadline first;
then everything else, newest first. Each row carries a one-line subject in the
interface language and its deadline countdown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from hotline.domain.bodies import SYSTEM_TYPES
from hotline.node import Node
from hotline.render.i18n import gettext
from hotline.render.notices import ACTIVITIES, ANSWERS, CATEGORIES
from hotline.storage.messages import IN, OUT
from hotline.web import queries
from hotline.web.i18n import TYPE_LABELS, countdown

PRECEDENCE_RANK = {"FLASH": 0, "IMMEDIATE": 1, "PRIORITY": 2, "ROUTINE": 3}
SUBJECT_CHARS = 140


def _short(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= SUBJECT_CHARS else flat[: SUBJECT_CHARS - 1] + "…"


def subject(node: Node, message: dict[str, Any], lang: str) -> str:
    """One line saying what a message is about, in ``lang`` (free text as written)."""
    body, type_ = message["body"], message["type"]
    label = gettext(lang, TYPE_LABELS.get(type_, type_))
    if type_ == "text":
        return _short(body["text"])
    if type_ == "coded_message":
        entry = next((e for e in node.identity.phrasebook.entries if e.code == body["code"]), None)
        return f"{body['code']}: {entry.text(lang)}" if entry else f"{label} {body['code']}"
    if type_ == "activity_notice":
        return f"{label}: {gettext(lang, ACTIVITIES[body['activity']]).capitalize()}"
    if type_ == "incident_report":
        return f"{label}: {gettext(lang, CATEGORIES[body['category']]).capitalize()}"
    if type_ == "deconfliction_answer":
        return f"{label}: {gettext(lang, ANSWERS[body['answer']]).capitalize()}"
    if type_ == "escalation":
        role = body["contact_role_ru"] if lang == "ru" else body["contact_role_en"]
        return f"{label} {body['step']} → {role}"
    return label


@dataclass
class Row:
    """One line of the inbox or outbox."""

    message: dict[str, Any]
    subject: str
    needs_action: bool
    countdown: str
    seconds_left: int

    @property
    def id(self) -> str:
        return str(self.message["id"])


def needs_action(message: dict[str, Any]) -> bool:
    """A received message a person must still acknowledge."""
    return (
        message["direction"] == IN
        and message["acked_at"] is None
        and message["type"] not in SYSTEM_TYPES
    )


def awaits_peer(message: dict[str, Any]) -> bool:
    """A sent message the peer has not acknowledged yet (``acked_at``, not the state: an
    ack that overtook the receipt leaves the state ``sent`` until the receipt is in)."""
    return (
        message["direction"] == OUT
        and message.get("acked_at") is None
        and message["type"] not in SYSTEM_TYPES
        and message["type"] != "escalation"
    )


def _row(node: Node, message: dict[str, Any], lang: str, now: datetime) -> Row:
    pending = needs_action(message) or awaits_peer(message)
    text, left = countdown(message["deadline"], now) if pending else ("", 0)
    return Row(message, subject(node, message, lang), needs_action(message), text, left)


def urgency(message: dict[str, Any]) -> tuple[int, str, str]:
    return (
        PRECEDENCE_RANK.get(message["precedence"], 9),
        message["deadline"] or "",
        message["created"],
    )


def inbox(node: Node, lang: str, now: datetime, recent: int = 100) -> tuple[list[Row], list[Row]]:
    """(needs action, in order of urgency; the rest, newest first)."""
    waiting = sorted(queries.awaiting_ack(node), key=urgency)
    waiting_ids = {m["id"] for m in waiting}
    others = [
        m
        for m in node.line.listing(IN, limit=recent * 3)
        if m["type"] not in SYSTEM_TYPES and m["id"] not in waiting_ids
    ][:recent]
    return [_row(node, m, lang, now) for m in waiting], [_row(node, m, lang, now) for m in others]


def outbox(node: Node, lang: str, now: datetime, recent: int = 100) -> list[Row]:
    """Sent messages (machine ones left out), those still awaiting the peer first."""
    rows = [m for m in node.line.listing(OUT, limit=recent * 3) if m["type"] not in SYSTEM_TYPES]
    waiting = sorted((m for m in rows[:recent] if awaits_peer(m)), key=urgency)
    done = [m for m in rows[:recent] if not awaits_peer(m)]
    return [_row(node, m, lang, now) for m in waiting + done]


@dataclass
class Banner:
    """What the header must shout: unacknowledged FLASH messages and open alarms."""

    flash: list[Row]
    open_alarms: int
    #: per peer: its link state and routes, last and next link test (header chips)
    links: list[dict[str, Any]] = field(default_factory=list)
    #: open ``link_down`` alarms, unacknowledged ones first (banner and repeating tone)
    link_down: list[dict[str, Any]] = field(default_factory=list)


def banner(node: Node, lang: str, now: datetime) -> Banner:
    waiting = [m for m in queries.awaiting_ack(node) if m["precedence"] == "FLASH"]
    waiting.sort(key=urgency)
    alarms = sum(node.alarms.open_counts().values())
    down = [a for a in node.alarms.listing("open") if a["kind"] == "link_down"]
    down.sort(key=lambda a: a["seen_at"] is not None)
    rows = [_row(node, m, lang, now) for m in waiting]
    return Banner(rows, alarms, queries.link_chips(node), down)


def held(node: Node, lang: str) -> list[dict[str, Any]]:
    """FLASH messages held for a second approval, oldest first, each with its subject."""
    out = []
    for row in node.held.listing("held"):
        payload = row["payload"]
        message: dict[str, Any]
        if row["kind"] == "text":
            message = {"type": "text", "body": {"text": payload["text"]}}
        elif row["kind"] == "code":
            message = {"type": "coded_message", "body": {"code": payload["code"]}}
        elif row["kind"] == "notice":
            message = {"type": payload["notice"].get("type", "notice"), "body": payload["notice"]}
        else:  # a kind another capability registered ("call": a call request)
            message = {
                "type": {"call": "call_request", "answer": "call_answer"}.get(
                    row["kind"], row["kind"]
                ),
                "body": payload,
            }
        try:
            about = subject(node, message, lang)
        except (KeyError, TypeError):
            type_ = str(message["type"])
            about = gettext(lang, TYPE_LABELS.get(type_, type_))
        out.append(row | {"subject": about})
    return out
