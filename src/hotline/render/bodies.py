"""Message types that are not notices, in words, in English and Russian.

Notices have their own formatted renderings (:mod:`hotline.render.notices`); the other
types the line carries (a watch-level change, the steps of a call, acknowledgements, link
and operator tests, key changes, …) are rendered here, in the same formatted-message
layout, so that nobody reads a signed body as raw JSON. Labels come from the gettext
catalogs; free text stays as its sender wrote it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from hotline.clock import parse_rfc3339
from hotline.domain.notices.models import NOTICE_MODELS, parse_notice
from hotline.render.dtg import format_dtg
from hotline.render.i18n import N_, check_lang, gettext, t
from hotline.render.layout import Para, header, labelled, layout
from hotline.render.notices import render


def _level(level: dict[str, Any], lang: str) -> str:
    return str(level["name_ru"] if lang == "ru" else level["name_en"])


def _watch_level(body: dict[str, Any], lang: str) -> list[Para]:
    rank = t(lang, "level {rank} of {count}", rank=body["rank"] + 1, count=body["of_levels"])
    previous = body.get("previous")
    paras = [
        Para(labelled(lang, N_("NEW LEVEL"), f"{_level(body['level'], lang)} ({rank})")),
        Para(
            labelled(
                lang,
                N_("PREVIOUS LEVEL"),
                _level(previous, lang) if previous else gettext(lang, N_("none notified")),
            )
        ),
        Para(labelled(lang, N_("EFFECTIVE"), _value(body["effective_at"], lang))),
    ]
    if body.get("message"):
        paras.append(Para(labelled(lang, N_("MESSAGE"), body["message"])))
    return paras


#: Each non-notice type: its subject and its fields in order, ``(member, label)``; a
#: member ending in ``_{lang}`` is read in the reader's language. Values are shown by
#: :func:`_value`: times as date-time groups, people with their party, yes or no.
FIELDS: dict[str, tuple[str, tuple[tuple[str, str], ...]]] = {
    "text": (N_("TEXT MESSAGE"), (("text", N_("TEXT")),)),
    "ack": (
        N_("ACKNOWLEDGEMENT"),
        (("ack_of", N_("OF MESSAGE")), ("acked_by", N_("READ BY")), ("acked_at", N_("AT"))),
    ),
    "link_test": (
        N_("LINK TEST"),
        (
            ("test_id", N_("TEST")),
            ("pangram_en", N_("ENGLISH TEXT")),
            ("pangram_ru", N_("RUSSIAN TEXT")),
            ("digits", N_("DIGITS")),
        ),
    ),
    "link_test_reply": (
        N_("LINK TEST REPLY"),
        (("test_id", N_("TEST")), ("intact", N_("RECEIVED INTACT"))),
    ),
    "escalation": (
        N_("ESCALATION"),
        (
            ("of_message", N_("OF MESSAGE")),
            ("step", N_("STEP")),
            ("contact_role_{lang}", N_("TO BE REACHED")),
        ),
    ),
    "operator_test": (
        N_("OPERATOR TEST"),
        (
            ("test_id", N_("TEST")),
            ("text", N_("TEXT")),
            ("digits", N_("DIGITS")),
            ("answer_by", N_("ANSWER BY")),
        ),
    ),
    "operator_test_answer": (
        N_("OPERATOR TEST ANSWER"),
        (("test_id", N_("TEST")), ("officer", N_("OFFICER"))),
    ),
    "call_request": (
        N_("CALL REQUEST"),
        (
            ("requester", N_("REQUESTED BY")),
            ("counterpart", N_("WITH")),
            ("topics", N_("TOPICS")),
            ("slots", N_("PROPOSED TIMES")),
            ("answer_by", N_("ANSWER BY")),
            ("message", N_("MESSAGE")),
        ),
    ),
    "call_answer": (
        N_("CALL ANSWER"),
        (
            ("request_id", N_("REQUEST")),
            ("answer", N_("ANSWER")),
            ("slot", N_("ACCEPTED TIME")),
            ("reason", N_("REASON")),
            ("slots", N_("PROPOSED TIMES")),
            ("answer_by", N_("ANSWER BY")),
        ),
    ),
    "call_withdrawal": (
        N_("CALL WITHDRAWN"),
        (("request_id", N_("REQUEST")), ("reason", N_("REASON"))),
    ),
    "call_record": (
        N_("CALL RECORD"),
        (
            ("call_id", N_("CALL")),
            ("requested_by", N_("REQUESTED BY")),
            ("held_at", N_("HELD AT")),
            ("minutes", N_("MINUTES")),
            ("participants", N_("PARTICIPANTS")),
            ("interpreters", N_("INTERPRETERS")),
        ),
    ),
    "call_privacy": (
        N_("CALL PRIVACY"),
        (("call_id", N_("CALL")), ("details_private", N_("DETAILS KEPT PRIVATE"))),
    ),
    "call_readout": (
        N_("CALL READOUT"),
        (
            ("call_id", N_("CALL")),
            ("visibility", N_("VISIBILITY")),
            ("title", N_("TITLE")),
            ("issued_by", N_("ISSUED BY")),
            ("published_at", N_("PUBLISHED")),
            ("text", N_("TEXT")),
        ),
    ),
    "track_report": (N_("TRACK REPORT"), (("tracks", N_("TRACKS")),)),
    "key_change": (
        N_("KEY CHANGE"),
        (
            ("party", N_("PARTY")),
            ("old_key", N_("OLD KEY")),
            ("new_key", N_("NEW KEY")),
            ("effective", N_("EFFECTIVE")),
            ("revoked_from", N_("OLD KEY REVOKED FROM")),
        ),
    ),
}

_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$")


def _value(value: Any, lang: str) -> str:
    """One member's value in words (see :data:`FIELDS`)."""
    if isinstance(value, bool):
        return gettext(lang, N_("YES") if value else N_("NO"))
    if isinstance(value, str):
        return format_dtg(parse_rfc3339(value), lang) if _TIME.match(value) else value
    if isinstance(value, list):
        return "; ".join(_value(item, lang) for item in value) or "—"
    if isinstance(value, dict):
        return _mapping(value, lang)
    return str(value)


def _mapping(value: dict[str, Any], lang: str) -> str:
    if "name_en" in value and "name_ru" in value:  # a principal, a level
        name = str(value[f"name_{lang}"])
        title = value.get(f"title_{lang}")
        return f"{title} {name}" if title else name
    if "party" in value and "name" in value:  # a person on a call
        role = f", {value['role']}" if value.get("role") else ""
        return f"{value['name']} ({value['party']}{role})"
    if "start" in value and "minutes" in value:  # a slot
        start = format_dtg(parse_rfc3339(value["start"]), lang)
        return t(lang, "{start}, {minutes} MIN", start=start, minutes=value["minutes"])
    if "lat" in value and "lon" in value:  # a shared track
        return f"{value.get('callsign') or value.get('id')} ({value['lat']}, {value['lon']})"
    return ", ".join(f"{key} {_value(item, lang)}" for key, item in value.items())


def _fields(type_: str) -> Callable[[dict[str, Any], str], list[Para]]:
    def paras(body: dict[str, Any], lang: str) -> list[Para]:
        out = []
        for member, label in FIELDS[type_][1]:
            value = body.get(member.format(lang=lang))
            if value is None or value == []:
                continue
            out.append(Para(labelled(lang, label, _value(value, lang))))
        return out

    return paras


#: Per type: the subject (a msgid) and the paragraphs of the body.
RENDERERS: dict[str, tuple[str, Callable[[dict[str, Any], str], list[Para]]]] = {
    "watch_level": (N_("WATCH LEVEL CHANGE"), _watch_level),
    **{type_: (subject, _fields(type_)) for type_, (subject, _) in FIELDS.items()},
}


def render_body(
    type_: str,
    body: dict[str, Any],
    lang: str,
    *,
    sender: str | None = None,
    receiver: str | None = None,
    message_id: str | None = None,
    sent_at: datetime | None = None,
) -> str:
    """The formatted text of a (non-notice) body of ``type_`` in ``lang``."""
    lang = check_lang(lang)
    subject, paras = RENDERERS[type_]
    head = header(
        lang, subject, sender=sender, receiver=receiver, message_id=message_id, sent_at=sent_at
    )
    return layout(head, paras(body, lang), lang)


def render_message(
    type_: str,
    body: dict[str, Any],
    lang: str,
    *,
    sender: str | None = None,
    receiver: str | None = None,
    message_id: str | None = None,
    sent_at: datetime | None = None,
) -> str:
    """Any type the line carries in ``lang``: a notice as its formatted message
    (:func:`hotline.render.notices.render`), every other type by :func:`render_body`."""
    if type_ in NOTICE_MODELS:
        return render(
            parse_notice({**body, "type": type_}),
            lang,
            sender=sender,
            receiver=receiver,
            message_id=message_id,
            sent_at=sent_at,
        )
    return render_body(
        type_, body, lang, sender=sender, receiver=receiver, message_id=message_id, sent_at=sent_at
    )
