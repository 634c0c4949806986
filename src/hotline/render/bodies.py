"""Message types that are not notices, in words, in English and Russian.

Notices have their own formatted renderings (:mod:`hotline.render.notices`); the other
types the line carries (a watch-level change, the steps of a call, acknowledgements, link
and operator tests, key changes, …) are rendered here, in the same formatted-message
layout, so that nobody reads a signed body as raw JSON. Labels come from the gettext
catalogs; free text stays as its sender wrote it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from hotline.clock import parse_rfc3339
from hotline.render.dtg import format_dtg
from hotline.render.i18n import N_, check_lang, gettext, t
from hotline.render.layout import Para, header, labelled, layout


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
        Para(labelled(lang, N_("EFFECTIVE"), format_dtg(parse_rfc3339(body["effective_at"]), lang))),
    ]
    if body.get("message"):
        paras.append(Para(labelled(lang, N_("MESSAGE"), body["message"])))
    return paras


#: Per type: the subject (a msgid) and the paragraphs of the body.
RENDERERS: dict[str, tuple[str, Callable[[dict[str, Any], str], list[Para]]]] = {
    "watch_level": (N_("WATCH LEVEL CHANGE"), _watch_level),
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
