"""The console's words and formats in English and Russian, and its Jinja environment.

Labels come from the same gettext catalogs as the renderings
(``render/locale/{en,ru}/LC_MESSAGES/hotline.po``, the "operator console" section at
the end), through :func:`hotline.render.i18n.t`. Templates call ``_("Inbox")`` or
``_("{n} open", n=3)``; Python code marks its label tables with :func:`N_`.
``tests/web/test_i18n.py`` fails when a label used by the console has no Russian entry.

Times on the console are UTC, always, shown as ``HH:MM:SSZ`` with the date where it
helps: two parties in different time zones must read the same clock.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from hotline.clock import parse_rfc3339
from hotline.render.i18n import LANGS, N_, t

TEMPLATES = Path(__file__).parent / "templates"

#: Body types as the console names them.
TYPE_LABELS = {
    "text": N_("Free text"),
    "coded_message": N_("Coded message"),
    "activity_notice": N_("Activity notice"),
    "incident_report": N_("Incident report"),
    "incident_account": N_("Incident account"),
    "deconfliction_request": N_("Deconfliction request"),
    "deconfliction_answer": N_("Deconfliction answer"),
    "exercise_notification": N_("Exercise notification"),
    "observer_invitation": N_("Observer invitation"),
    "observer_answer": N_("Answer to an observer invitation"),
    "protected_areas": N_("Protected areas"),
    "call_request": N_("Call request"),
    "call_answer": N_("Answer to a call request"),
    "call_withdrawal": N_("Call request withdrawn"),
    "call_record": N_("Call held"),
    "call_privacy": N_("Call privacy"),
    "call_readout": N_("Readout"),
    "watch_level": N_("Watch level change"),
    "escalation": N_("Escalation"),
    "ack": N_("Acknowledgement"),
    "link_test": N_("Link test"),
    "link_test_reply": N_("Link test answer"),
    "operator_test": N_("Operator test"),
    "operator_test_answer": N_("Operator test answer"),
    "key_change": N_("Signing key change"),
}

PRECEDENCE_LABELS = {
    "FLASH": N_("FLASH"),
    "IMMEDIATE": N_("IMMEDIATE"),
    "PRIORITY": N_("PRIORITY"),
    "ROUTINE": N_("ROUTINE"),
}

STATE_LABELS = {
    "queued": N_("queued"),
    "sent": N_("sent, no receipt yet"),
    "delivered": N_("delivered"),
    "acknowledged": N_("acknowledged"),
    "received": N_("received"),
}

#: Steps of a message's trail (``events.kind``).
TRAIL_LABELS = {
    "created": N_("created and signed"),
    "attempt_failed": N_("delivery attempt failed"),
    "delivered": N_("delivered, receipt verified"),
    "received": N_("received and verified"),
    "acknowledged": N_("acknowledged"),
    "translated": N_("translation added"),
    "certified": N_("translation certified"),
    "escalated": N_("escalated"),
    "oob_attempt": N_("attempt to reach the other side off the line recorded"),
    "escalated_to": N_("escalated to the next contact"),
    "held": N_("held for a second approval (FLASH)"),
    "approved": N_("approved by a second person"),
    "escalation_exhausted": N_("no contact left to escalate to"),
    "attachment_complete": N_("attachment here whole, matching its signed SHA-256"),
}

#: Results of an attempt to reach the other side off the line (``services/line/escalation.py``).
OOB_RESULTS = {
    "reached": N_("reached"),
    "no_answer": N_("no answer"),
    "busy": N_("busy"),
    "failed": N_("failed"),
}

ALARM_LABELS = {
    "link_down": N_("Link down"),
    "ack_overdue": N_("Acknowledgement overdue"),
    "log_fork": N_("Peer's log forked"),
    "conflict": N_("Conflict with a received notice"),
    "delivery_refused": N_("The other side refuses a message (its channel is blocked)"),
    "incursion": N_("Predicted incursion into a protected area (ours, or by our aircraft)"),
    "track_conflict": N_("Predicted loss of separation between tracks"),
    "nonconforming": N_("Our aircraft has left the volume we declared for it"),
    "safety_warning": N_(
        "Safety warning sent FLASH without a second person (authorised in advance)"
    ),
    "peer_key_changed": N_("The other side changed its signing key"),
    "peer_key_pending": N_("The other side revoked its key: confirm the new fingerprint"),
    "attachment_refused": N_("An attachment from the other side is not fetched (over a limit)"),
}

#: A link's state (per peer and route) in the header's link chips.
LINK_STATE_LABELS = {
    "up": N_("up"),
    "degraded": N_("degraded"),
    "down": N_("down"),
    "unknown": N_("not tested yet"),
}

#: A watch handover's state (``services/handover.py``).
HANDOVER_STATES = {
    "awaiting": N_("awaiting the incoming officer"),
    "complete": N_("taken over"),
    "withdrawn": N_("withdrawn"),
}

#: How loud an alarm is (``services/alarms.py`` SEVERITY).
SEVERITY_LABELS = {"critical": N_("critical"), "warning": N_("warning")}

Translate = Callable[..., str]


def translator(lang: str) -> Translate:
    """``_(msgid, **values)`` for templates, in ``lang``."""

    def _(msgid: str, **values: Any) -> str:
        return t(lang, msgid, **values)

    return _


def pick_lang(value: str | None, default: str) -> str:
    """A supported language from a cookie or form value, else ``default``."""
    return value if value in LANGS else default


def utc_time(text: str | None) -> str:
    """``2026-11-21T14:30:05.123Z`` → ``21 Nov 14:30:05Z``-like text, month as a number."""
    if not text:
        return "—"
    when = parse_rfc3339(text)
    return when.strftime("%Y-%m-%d %H:%M:%SZ")


def clock_time(text: str | None) -> str:
    """Only the time of day, ``14:30:05Z``."""
    if not text:
        return "—"
    return parse_rfc3339(text).strftime("%H:%M:%SZ")


def countdown(deadline: str | None, now: datetime) -> tuple[str, int]:
    """``("0:09:41", 581)`` for time left, ``("−0:00:12", -12)`` when overdue (a minus
    sign, U+2212); always hours, minutes and seconds, so one column never mixes minutes
    and hours; seconds too."""
    if not deadline:
        return "", 0
    left = round((parse_rfc3339(deadline) - now).total_seconds())
    sign = "\u2212" if left < 0 else ""
    minutes, seconds = divmod(abs(left), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{sign}{hours}:{minutes:02d}:{seconds:02d}", left


ORIGIN_LABELS = {
    "incident_report": N_("Incident report"),
    "conflict": N_("Conflict"),
    "incursion": N_("Incursion"),
    "alarm": N_("Alarm"),
}
"""What an incident case was opened from (``domain/notices/cases.py``)."""

EVENT_LABELS = {
    "first_contact": N_("First contact"),
    "closest_approach": N_("Closest approach"),
    "warning_issued": N_("Warning issued"),
    "weapons_employed": N_("Weapons employed"),
    "separation": N_("Separation"),
    "other": N_("Other"),
}
"""The kinds of event an incident account states."""


def environment() -> Environment:
    """The console's Jinja environment: autoescaped; a missing member renders as nothing."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["utc"] = utc_time
    env.filters["clock"] = clock_time
    env.globals.update(
        TYPE_LABELS=TYPE_LABELS,
        PRECEDENCE_LABELS=PRECEDENCE_LABELS,
        STATE_LABELS=STATE_LABELS,
        TRAIL_LABELS=TRAIL_LABELS,
        ALARM_LABELS=ALARM_LABELS,
        OOB_RESULTS=OOB_RESULTS,
        LINK_STATE_LABELS=LINK_STATE_LABELS,
        SEVERITY_LABELS=SEVERITY_LABELS,
        ORIGIN_LABELS=ORIGIN_LABELS,
        EVENT_LABELS=EVENT_LABELS,
        HANDOVER_STATES=HANDOVER_STATES,
    )
    return env


def console_msgids() -> set[str]:
    """Every label the console uses: ``_()`` in its templates, ``N_``/``t`` in its code.

    Labels the console borrows from the renderings (activities, unit kinds ...) are
    included; ``tests/web/test_i18n.py`` checks that each has a Russian entry.
    """
    from babel.messages.extract import extract_from_file

    from hotline.render.i18n import EXTRACT_KEYWORDS

    found: set[str] = set()
    for template in sorted(TEMPLATES.glob("*.html")):
        for _line, message, _c, _ctx in extract_from_file(
            "jinja2.ext:babel_extract", str(template), keywords={"_": None}
        ):
            if isinstance(message, str):
                found.add(message)
    for source in sorted(Path(__file__).parent.rglob("*.py")):
        for _line, message, _c, _ctx in extract_from_file(
            "python", str(source), keywords=EXTRACT_KEYWORDS
        ):
            if isinstance(message, str):
                found.add(message)
    return found
