"""Operator tests in words, in English and Russian, as the officer on duty reads them.

The test's own text (the alphabet and digits of the sender's language) is shown as sent:
reading it back is the point of the test. Labels come from the gettext catalogs.
"""

from __future__ import annotations

from typing import Any

from hotline.clock import parse_rfc3339
from hotline.render.dtg import format_dtg
from hotline.render.i18n import check_lang, t


def render_operator_test(test: dict[str, Any], body: dict[str, Any], lang: str) -> str:
    """An operator test (its record, as the API shows it, and the signed body) in
    ``lang``: who tests whom, the deadline, the text, and how it stands."""
    lang = check_lang(lang)
    deadline = format_dtg(parse_rfc3339(test["answer_by"]), lang)
    if test["direction"] == "in":
        head = t(lang, "OPERATOR TEST from {peer}: answer by {deadline}.", peer=test["peer"],
                 deadline=deadline)  # fmt: skip
    else:
        head = t(lang, "OPERATOR TEST to {peer}: to be answered by {deadline}.",
                 peer=test["peer"], deadline=deadline)  # fmt: skip
    lines = [head, t(lang, "Text:"), body["text"], body["digits"], _state(test, lang)]
    return "\n".join(lines)


def _state(test: dict[str, Any], lang: str) -> str:
    state = test["state"]
    if state == "pending":
        return t(lang, "Waiting for an officer's answer.")
    if state == "unanswered":
        return t(lang, "NOBODY ANSWERED by {deadline}: the line is up, nobody is answering.",
                 deadline=format_dtg(parse_rfc3339(test["answer_by"]), lang))  # fmt: skip
    at = format_dtg(parse_rfc3339(test["answered_at"]), lang)
    if state == "answered_late":
        return t(lang, "Answered LATE by {officer} at {at}.", officer=test["answered_by"], at=at)
    return t(lang, "Answered by {officer} at {at}.", officer=test["answered_by"], at=at)
