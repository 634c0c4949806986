"""Calls in words, in English and Russian: a call request as a duty officer reads it, and
the public readouts of a call exported to Markdown side by side.

Labels come from the gettext catalogs (``render/locale``); the readouts' own texts stay
in the language their side wrote them in, as every message on the line does.
"""

from __future__ import annotations

from typing import Any

from hotline.clock import parse_rfc3339
from hotline.render.dtg import format_dtg
from hotline.render.i18n import N_, check_lang, gettext, t

STATE_LABELS = {
    "requested": N_("REQUESTED"),
    "proposed": N_("OTHER TIMES PROPOSED"),
    "accepted": N_("ACCEPTED"),
    "declined": N_("DECLINED"),
    "unanswered": N_("UNANSWERED"),
    "withdrawn": N_("WITHDRAWN"),
    "held": N_("HELD"),
}
PRECEDENCE_LABELS = {
    "FLASH": N_("FLASH"),
    "IMMEDIATE": N_("IMMEDIATE"),
    "PRIORITY": N_("PRIORITY"),
    "ROUTINE": N_("ROUTINE"),
}
PUBLISHED = {
    "en": N_("Published {time}, original in English."),
    "ru": N_("Published {time}, original in Russian."),
}
"""The line under a readout's title, by the language its side wrote it in."""


def _who(person: dict[str, Any], lang: str) -> str:
    """``Chairman of the Joint Chiefs of Staff Gen. Mark Milley (us)``."""
    title = person.get(f"title_{lang}")
    name = person.get(f"name_{lang}") or person["id"]
    return f"{title} {name} ({person['party']})" if title else f"{name} ({person['party']})"


def _item(lang: str, label: str, value: str) -> str:
    """A Markdown list item ``- **Label:** value`` (labels marked with ``N_`` for Babel)."""
    return f"- **{gettext(lang, label)}:** {value}"


def _slot(slot: dict[str, Any], lang: str) -> str:
    start = format_dtg(parse_rfc3339(slot["start"]), lang)
    return t(lang, "{start}, {minutes} MIN", start=start, minutes=slot["minutes"])


def render_request(request: dict[str, Any], lang: str) -> str:
    """A call request (as the API shows it) in ``lang``, one item a line."""
    lang = check_lang(lang)
    state = STATE_LABELS[request["state"]]  # a msgid (not inline: Babel would extract "state")
    precedence = PRECEDENCE_LABELS[request["precedence"]]
    lines = [
        gettext(lang, "CALL REQUEST"),
        t(lang, "FROM: {who}", who=_who(request["requester"], lang)),
        t(lang, "TO: {who}", who=_who(request["counterpart"], lang)),
        t(lang, "PRECEDENCE: {precedence}", precedence=gettext(lang, precedence)),
        t(lang, "TOPICS: {topics}", topics="; ".join(request["topics"])),
        gettext(lang, "PROPOSED TIMES (UTC):"),
        *(f"  {_slot(s, lang)}" for s in request["slots"]),
        t(lang, "ANSWER BY: {time}", time=format_dtg(parse_rfc3339(request["answer_by"]), lang)),
        t(lang, "STATE: {state}", state=gettext(lang, state)),
    ]
    if request["accepted_slot"]:
        lines.append(t(lang, "ACCEPTED TIME: {slot}", slot=_slot(request["accepted_slot"], lang)))
    if request["reason"]:
        lines.append(t(lang, "REASON: {reason}", reason=request["reason"]))
    return "\n".join(lines)


def _when(time: str) -> str:
    return f"{parse_rfc3339(time):%Y-%m-%d %H:%M} UTC"


def _people(people: list[dict[str, Any]]) -> str:
    return "; ".join(
        f"{p['name']} ({p['party']}{', ' + p['role'] if p.get('role') else ''})" for p in people
    )


#: What a call's public export shows, by its privacy (docs/calls.md, "Public export by
#: privacy level"): ``open`` shows the whole record; ``asked`` (one side asked to keep the
#: details private, the other has not yet) and ``private`` (both agreed) show only that the
#: call took place, when, between which offices, and the readouts each side published.
PRIVACY_LEVELS = ("open", "asked", "private")
WITHHELD_NOTES = {
    "asked": N_("Details withheld: one side asked to keep them private."),
    "private": N_("Details kept private by mutual agreement."),
}


def privacy_level(call: dict[str, Any]) -> str:
    """``open``, ``asked`` or ``private``: how much of ``call`` a public export shows."""
    if call["details_private"]:
        return "private"
    return "asked" if call["private_requested_by"] else "open"


def _office(person: dict[str, Any], lang: str) -> str:
    """``Chairman of the Joint Chiefs of Staff (us)``: the office, not the person's name."""
    title = person.get(f"title_{lang}") or gettext(lang, N_("the principal"))
    return f"{title} ({person['party']})"


def readouts_markdown(
    call: dict[str, Any], sides: dict[str, list[dict[str, Any]]], names: dict[str, str], lang: str
) -> str:
    """The public readouts of both sides of ``call`` as one Markdown document in ``lang``,
    showing only what the call's privacy level allows (:func:`privacy_level`).

    ``sides`` maps each party to its public readouts; ``names`` maps each party to its
    display name in ``lang``.
    """
    lang = check_lang(lang)
    level = privacy_level(call)
    principals = call["principals"]
    who = _who if level == "open" else _office
    lines = [
        "# " + t(lang, "Readouts of the call of {date}", date=_when(call["held_at"])),
        "",
        t(
            lang,
            "Between {a} and {b}.",
            a=who(principals["requester"], lang),
            b=who(principals["counterpart"], lang),
        ),
        "",
        _item(lang, N_("Held at"), _when(call["held_at"])),
    ]
    if level == "open":
        lines += _details(call, names, lang)
    else:
        lines += ["", "*" + gettext(lang, WITHHELD_NOTES[level]) + "*"]
    for party, readouts in sides.items():
        name = names.get(party, party)
        lines += ["", "## " + t(lang, "Readout of {party}", party=name), ""]
        if not readouts:
            lines.append(t(lang, "No public readout from {party}.", party=name))
        for readout in readouts:
            lines += _readout_lines(readout, lang, named=level == "open")
    return "\n".join(lines).rstrip() + "\n"


def _details(call: dict[str, Any], names: dict[str, str], lang: str) -> list[str]:
    """What only an open call's export shows: duration, requester, topics, people."""
    requester = call["principals"]["requester"]["party"]
    lines = [
        _item(lang, N_("Duration"), t(lang, "{minutes} min", minutes=call["minutes"])),
        _item(lang, N_("Requested by"), names.get(requester, requester)),
        _item(lang, N_("Topics"), "; ".join(call["topics"])),
        _item(lang, N_("Participants"), _people(call["participants"])),
    ]
    if call["interpreters"]:
        lines.append(_item(lang, N_("Interpreters"), _people(call["interpreters"])))
    return lines


def _readout_lines(readout: dict[str, Any], lang: str, *, named: bool) -> list[str]:
    """A readout's title, when and in which language, and text; its issuer (a person's
    name) only when ``named``."""
    published = PUBLISHED[readout["lang"]]
    issued = t(lang, published, time=_when(readout["published_at"]))
    by = f" — {readout['issued_by']}" if named and readout["issued_by"] else ""
    return [f"### {readout['title']}", "", f"*{issued}{by}*", "", readout["text"].strip(), ""]
