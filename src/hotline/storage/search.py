"""Searching messages (``services/search.py``): the filters SQL does well, on both backends.

Structured filters (direction, type, precedence, a time range, not acknowledged) are plain
``WHERE`` clauses. Free text is matched case-insensitively: PostgreSQL's ``lower()``
(Unicode-aware under a UTF-8 locale) and, on SQLite, whose ``lower()`` folds ASCII only, the
function ``hl_lower`` that :mod:`hotline.storage.db` registers on every connection (Python's
``str.lower``), so Cyrillic folds the same on both. ``strpos``/``instr`` need no escaping of
``%`` and ``_``. Matching the envelope's text is a pre-filter (it also sees keys and
signatures); the service keeps only the messages whose body or translation holds the text.
The envelope is canonical JSON, where a quotation mark, a backslash or a line break in a
string is escaped (``\\"``, ``\\\\``, ``\\n``): the text is escaped the same way for
the pre-filter (:func:`in_json`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Connection, func, or_, select

from hotline.storage.tables.core import messages, translations


@dataclass(frozen=True)
class Criteria:
    """What SQL filters on; empty fields filter nothing. Times are RFC 3339 UTC."""

    direction: str = ""
    type: str = ""
    precedence: str = ""
    since: str = ""
    until: str = ""  # exclusive
    unacknowledged: bool = False
    text: str = ""  # already lower-cased
    #: types let through the text pre-filter (a coded message's phrase is not in it)
    text_types: tuple[str, ...] = ()
    skip_types: tuple[str, ...] = ()


def _contains(conn: Connection, column: Any, text: str) -> ColumnElement[bool]:
    if conn.dialect.name == "sqlite":
        return func.instr(func.hl_lower(column), text) > 0
    return func.strpos(func.lower(column), text) > 0


def in_json(text: str) -> str:
    r"""``text`` as it appears inside a string of the canonical JSON the envelopes are
    stored as (RFC 8785 escapes, every other character as it is).

    >>> print(in_json('vessel "k" at c:\\ops'))
    vessel \"k\" at c:\\ops
    """
    return json.dumps(text, ensure_ascii=False)[1:-1]


def translated(conn: Connection, text: str) -> set[str]:
    """Ids of messages with a translation containing ``text`` (lower-cased)."""
    stmt = select(translations.c.message_id).where(_contains(conn, translations.c.text, text))
    return {str(r) for r in conn.execute(stmt).scalars()}


def candidates(
    conn: Connection, criteria: Criteria, also: Iterable[str], *, offset: int, limit: int
) -> list[dict[str, Any]]:
    """Message rows meeting ``criteria``, newest first; with text, those whose envelope
    contains it or whose id is in ``also`` (translations that contain it)."""
    stmt = select(messages)
    c = criteria
    if c.direction:
        stmt = stmt.where(messages.c.direction == c.direction)
    if c.type:
        stmt = stmt.where(messages.c.type == c.type)
    if c.precedence:
        stmt = stmt.where(messages.c.precedence == c.precedence)
    if c.since:
        stmt = stmt.where(messages.c.created >= c.since)
    if c.until:
        stmt = stmt.where(messages.c.created < c.until)
    if c.unacknowledged:
        stmt = stmt.where(messages.c.acked_at.is_(None))
    if c.skip_types:
        stmt = stmt.where(messages.c.type.not_in(sorted(c.skip_types)))
    if c.text:
        ids = sorted(also)
        found = [_contains(conn, messages.c.envelope, in_json(c.text))]
        if ids:
            found.append(messages.c.id.in_(ids))
        if c.text_types:
            found.append(messages.c.type.in_(sorted(c.text_types)))
        stmt = stmt.where(or_(*found))
    stmt = stmt.order_by(messages.c.created.desc(), messages.c.id).offset(offset).limit(limit)
    return [dict(r) for r in conn.execute(stmt).mappings()]
