"""What the pages show, computed from the services' answers (no HTML here).

The inbox is one queue ordered by what needs action (:func:`queue_key`): received
messages nobody has acknowledged — and operator tests nobody has answered — OVERDUE
first (most urgent precedence, then the longest overdue), then by time left, nearest
deadline first; then everything else, newest first. Each row carries a one-line subject
in the interface language, its countdown (always ``h:mm:ss``, overdue with a minus sign)
with the deadline's date-time group beside it, and the point at which it turns amber:
half its allowance, whatever the precedence (a FLASH's 10 minutes turn amber at 5, a
ROUTINE's 6 hours at 3). Escalation envelopes (sent by older peers) are never rows of
their own: they are folded into the message they escalate and acknowledged with it;
our own escalation steps are written on the sent message they are about.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from hotline.clock import parse_rfc3339
from hotline.domain.bodies import NO_ACK_TYPES, SYSTEM_TYPES
from hotline.errors import NotFound
from hotline.node import Node
from hotline.render.dtg import format_dtg
from hotline.render.i18n import gettext
from hotline.render.notices import ACTIVITIES, ANSWERS, CATEGORIES
from hotline.services.search import MessageFilter, held_matches
from hotline.storage.messages import IN, OUT
from hotline.web import queries
from hotline.web.i18n import TYPE_LABELS, countdown

PRECEDENCE_RANK = {"FLASH": 0, "IMMEDIATE": 1, "PRIORITY": 2, "ROUTINE": 3}
SUBJECT_CHARS = 140
#: Amber for deadlines without a known allowance (no ``created`` to measure from).
SOON_S = 120


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
    #: amber below this many seconds left: half the allowance
    soon_s: int = SOON_S
    #: the deadline as a date-time group, in the row's language
    deadline_dtg: str = ""
    #: escalations of this message: "1 → Watch commander" …
    escalations: list[str] = field(default_factory=list)
    #: an operator test a person must answer (its test id), not acknowledge
    test_id: str = ""
    #: a call request's answer deadline, as a date-time group
    answer_by_dtg: str = ""

    @property
    def id(self) -> str:
        return str(self.message["id"])

    @property
    def overdue(self) -> bool:
        return bool(self.countdown) and self.seconds_left < 0


def needs_action(message: dict[str, Any]) -> bool:
    """A received message a person must still acknowledge (escalations, operator tests
    and the machine types are not: an operator test is answered, see :func:`inbox`)."""
    return (
        message["direction"] == IN
        and message["acked_at"] is None
        and message["type"] not in NO_ACK_TYPES
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


def soon_after(message: dict[str, Any], deadline: str) -> int:
    """Seconds left at which the countdown turns amber: half the time the message was
    given (``created`` to its deadline), so thresholds follow the precedence."""
    try:
        window = (parse_rfc3339(deadline) - parse_rfc3339(message["created"])).total_seconds()
    except (KeyError, TypeError, ValueError):
        return SOON_S
    return max(1, round(window / 2)) if window > 0 else SOON_S


def _row(
    node: Node, message: dict[str, Any], lang: str, now: datetime, *, deadline: str | None = None
) -> Row:
    """A row; ``deadline`` overrides the message's own (an operator test's answer-by)."""
    pending = deadline is not None or needs_action(message) or awaits_peer(message)
    due = deadline or message["deadline"]
    text, left = countdown(due, now) if pending else ("", 0)
    row = Row(message, subject(node, message, lang), needs_action(message), text, left)
    if text and due:
        row.soon_s = soon_after(message, due)
        row.deadline_dtg = format_dtg(parse_rfc3339(due), lang)
    if message["type"] == "call_request" and message["body"].get("answer_by"):
        row.answer_by_dtg = format_dtg(parse_rfc3339(message["body"]["answer_by"]), lang)
    return row


def urgency(message: dict[str, Any]) -> tuple[int, str, str]:
    return (
        PRECEDENCE_RANK.get(message["precedence"], 9),
        message["deadline"] or "",
        message["created"],
    )


def queue_key(row: Row) -> tuple[int, int, int, str]:
    """Overdue first (most urgent precedence, then longest overdue), then by time left
    (least first, precedence breaking ties), then rows without a deadline."""
    rank = PRECEDENCE_RANK.get(row.message["precedence"], 9)
    created = str(row.message["created"])
    if not row.countdown:
        return (2, rank, 0, created)
    if row.seconds_left < 0:
        return (0, rank, row.seconds_left, created)
    return (1, row.seconds_left, rank, created)


def escalation_labels(steps: list[dict[str, Any]], lang: str) -> list[str]:
    return [
        f"{s['step']} → {s['role_ru'] if lang == 'ru' else s['role_en']}".strip() for s in steps
    ]


def _pending_tests(node: Node, lang: str, now: datetime) -> list[Row]:
    """Operator tests from the peer nobody has answered yet: answered, not acknowledged,
    and gone from the queue once answered or expired (never waiting forever)."""
    rows = []
    for test in node.operator_tests.listing("in", "pending"):
        try:
            message = node.line.show(test["message_id"])
        except NotFound:
            continue
        row = _row(node, message, lang, now, deadline=test["answer_by"])
        row.test_id = str(test["id"])
        rows.append(row)
    return rows


def inbox(node: Node, lang: str, now: datetime, recent: int = 100) -> tuple[list[Row], list[Row]]:
    """(needs action, in the queue's order; the rest, newest first). Escalations from
    older peers are folded into their original (they need no acknowledgement of their
    own: acknowledging the original acknowledges them, see :func:`acknowledge`)."""
    waiting_messages = [m for m in queries.awaiting_ack(node) if needs_action(m)]
    folded = queries.escalations_of(node, [m["id"] for m in waiting_messages])
    waiting = [_row(node, m, lang, now) for m in waiting_messages]
    for row in waiting:
        row.escalations = escalation_labels(folded.get(row.id, []), lang)
    waiting += _pending_tests(node, lang, now)
    waiting.sort(key=queue_key)
    shown = {r.id for r in waiting}
    others = [
        m
        for m in node.line.listing(IN, limit=recent * 3)
        if m["type"] not in SYSTEM_TYPES and m["type"] != "escalation" and m["id"] not in shown
    ][:recent]
    return waiting, [_row(node, m, lang, now) for m in others]


def outbox(node: Node, lang: str, now: datetime, recent: int = 100) -> list[Row]:
    """Sent messages (machine ones left out), those still awaiting the peer first, in the
    queue's order, each with our own escalation steps."""
    rows = [m for m in node.line.listing(OUT, limit=recent * 3) if m["type"] not in SYSTEM_TYPES]
    return _sent_rows(node, lang, now, rows[:recent])


def _sent_rows(node: Node, lang: str, now: datetime, rows: list[dict[str, Any]]) -> list[Row]:
    waiting = [_row(node, m, lang, now) for m in rows if awaits_peer(m)]
    steps = queries.escalations_of(node, [r.id for r in waiting])
    for row in waiting:
        row.escalations = escalation_labels(steps.get(row.id, []), lang)
    waiting.sort(key=queue_key)
    done = [m for m in rows if not awaits_peer(m)]
    return waiting + [_row(node, m, lang, now) for m in done]


@dataclass
class Found:
    """The Watch page under a search: its sections, each holding only what matches."""

    waiting: list[Row]
    handled: list[Row]
    sent: list[Row]
    held: list[dict[str, Any]]


def search(node: Node, lang: str, now: datetime, found: MessageFilter) -> Found:
    """The queue, sent and received messages and held FLASH messages meeting ``found``:
    what needs action in the queue's order, sent ones awaiting the other side first, the
    rest newest first (the whole history, not only the recent messages)."""
    matches = node.search.search(found, now)
    ids = {m["id"] for m in matches}
    waiting_all, _recent = inbox(node, lang, now, recent=0)
    waiting = [r for r in waiting_all if r.id in ids]
    shown = {r.id for r in waiting}
    handled = [
        _row(node, m, lang, now) for m in matches if m["direction"] == IN and m["id"] not in shown
    ]
    sent = _sent_rows(node, lang, now, [m for m in matches if m["direction"] == OUT])
    return Found(waiting, handled, sent, [h for h in held(node, lang) if held_matches(found, h)])


def own_overdue(rows: list[Row]) -> list[Row]:
    """Of the queue, what WE are late with: messages past the deadline the sender gave
    us for our acknowledgement (or operator tests past their answer-by)."""
    return [r for r in rows if r.overdue]


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


def acknowledge(node: Node, message_id: str, user: str) -> None:
    """Acknowledge a received message and, with it, every escalation envelope an older
    peer sent about it (so neither waits on its own and the peer's ladder stops)."""
    node.line.acknowledge(message_id, user)
    for step in queries.escalations_of(node, [message_id]).get(message_id, []):
        if step["escalation_id"] and not step["acked"]:
            node.line.acknowledge(step["escalation_id"], user)
