"""Filters and search over the node's messages (the console's Watch page and its CSV).

A :class:`MessageFilter` is read from a page's query string (so every search is a URL an
officer can keep or pass on): direction, type, precedence, state (``unacknowledged``,
``overdue``, ``held``), a UTC date or time range over the message's creation, and free text.
Free text matches a message's body — free text as written, in English or Russian; a coded
message's phrase in both languages; every text field of a notice — and its translations,
case-insensitively (Cyrillic included), on PostgreSQL and SQLite alike
(:mod:`hotline.storage.search` does the filtering each database does well, this module
the exact match both share).

``held`` FLASH messages are not messages yet (nothing is signed before the second
person approves): :func:`held_matches` filters the held list with the same criteria.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any

from hotline.clock import parse_rfc3339, rfc3339
from hotline.domain.bodies import NO_ACK_TYPES, SYSTEM_TYPES
from hotline.errors import ValidationError
from hotline.services.line.service import Line
from hotline.storage import search as store

DIRECTIONS = ("in", "out")
PRECEDENCES = ("FLASH", "IMMEDIATE", "PRIORITY", "ROUTINE")
STATES = ("unacknowledged", "overdue", "held")
TEXT_MAX = 200
#: Messages one search returns at most (newest first), and rows it reads to find them.
LIMIT = 500
SCAN_MAX = 20_000
_BATCH = 500
_TYPE = re.compile(r"[a-z_]{1,40}")
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_MINUTE = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
#: Never rows of their own on the console (machine messages; escalations are folded).
HIDDEN = tuple(sorted(SYSTEM_TYPES | {"escalation"}))


@dataclass(frozen=True)
class MessageFilter:
    """A search, as typed; every field empty: no filter."""

    direction: str = ""
    type: str = ""
    precedence: str = ""
    state: str = ""
    since: str = ""  # YYYY-MM-DD or YYYY-MM-DD HH:MM, UTC, inclusive
    until: str = ""  # likewise; a date alone includes that whole day
    q: str = ""

    @classmethod
    def parse(cls, params: Mapping[str, str]) -> MessageFilter:
        """From a query string's values; refuses what it cannot mean (naming the field)."""
        values = {f.name: (params.get(f.name) or "").strip() for f in fields(cls)}
        found = cls(**values)
        found.check()
        return found

    def check(self) -> None:
        for name, value, allowed in (
            ("direction", self.direction, DIRECTIONS),
            ("precedence", self.precedence, PRECEDENCES),
            ("state", self.state, STATES),
        ):
            if value and value not in allowed:
                raise ValidationError(
                    f"{name}: {value!r} is not one of {', '.join(allowed)}", field=name
                )
        if self.type and not _TYPE.fullmatch(self.type):
            raise ValidationError(f"type: {self.type!r} is not a message type", field="type")
        if len(self.q) > TEXT_MAX:
            raise ValidationError(f"q: at most {TEXT_MAX} characters", field="q")
        since, until = self.window()
        if since and until and since >= until:
            raise ValidationError("since: the range starts after it ends", field="since")

    def active(self) -> bool:
        return any(getattr(self, f.name) for f in fields(self))

    def query(self) -> dict[str, str]:
        """The non-empty fields, for a URL."""
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name)}

    def window(self) -> tuple[str, str]:
        """(since, until) as RFC 3339 UTC, ``until`` exclusive; empty where not given."""
        return _time(self.since, "since", end=False), _time(self.until, "until", end=True)


def _time(value: str, name: str, *, end: bool) -> str:
    if not value:
        return ""
    try:
        if _DAY.fullmatch(value):
            day = datetime.fromisoformat(value + "T00:00:00+00:00")
            return rfc3339(day + timedelta(days=1) if end else day)
        if _MINUTE.fullmatch(value):
            when = datetime.fromisoformat(value.replace(" ", "T") + ":00+00:00")
            return rfc3339(when + timedelta(minutes=1) if end else when)
    except ValueError:
        pass
    raise ValidationError(
        f"{name}: {value!r} is not a UTC date (2026-12-03) or time (2026-12-03 09:00)",
        field=name,
    )


class MessageSearch:
    def __init__(self, line: Line) -> None:
        self.line = line

    def search(
        self, found: MessageFilter, now: datetime, limit: int = LIMIT
    ) -> list[dict[str, Any]]:
        """Messages matching ``found`` (as message summaries), newest first; none when it
        asks for held messages only (see :func:`held_matches`)."""
        if found.state == "held":
            return []
        text = found.q.lower()
        since, until = found.window()
        criteria = store.Criteria(
            direction=found.direction,
            type=found.type,
            precedence=found.precedence,
            since=since,
            until=until,
            unacknowledged=found.state in ("unacknowledged", "overdue"),
            text=text,
            text_types=("coded_message",) if text and self._phrases(text) else (),
            skip_types=HIDDEN,
        )
        out: list[dict[str, Any]] = []
        with self.line.db.read() as conn:
            translated = store.translated(conn, text) if text else set()
            for offset in range(0, SCAN_MAX, _BATCH):
                rows = store.candidates(conn, criteria, translated, offset=offset, limit=_BATCH)
                for row in rows:
                    summary = self._keep(row, found, text, translated, now)
                    if summary is not None:
                        out.append(summary)
                if len(out) >= limit or len(rows) < _BATCH:
                    break
        return out[:limit]

    def _keep(
        self,
        row: dict[str, Any],
        found: MessageFilter,
        text: str,
        translated: set[str],
        now: datetime,
    ) -> dict[str, Any] | None:
        if found.state and row["type"] in NO_ACK_TYPES:
            return None  # nothing to acknowledge: never "unacknowledged" nor "overdue"
        envelope = json.loads(row["envelope"])
        if (
            text
            and row["id"] not in translated
            and not self._says(row["type"], envelope["body"], text)
        ):
            return None
        summary = self.line.summary(row, envelope)
        if found.state == "overdue":
            deadline = summary.get("deadline")
            if not deadline or parse_rfc3339(deadline) >= now:
                return None
        return summary

    def _phrases(self, text: str) -> set[int]:
        """Codes of the phrasebook whose phrase, in English or Russian, holds ``text``."""
        return {
            e.code
            for e in self.line.identity.phrasebook.entries
            if any(text in e.text(lang).lower() for lang in ("en", "ru"))
        }

    def _says(self, type_: str, body: dict[str, Any], text: str) -> bool:
        """Whether ``body`` holds ``text`` (lower-cased): any text in it, and a coded
        message's phrase in both languages."""
        if type_ == "coded_message" and body.get("code") in self._phrases(text):
            return True
        return any(text in s.lower() for s in _strings(body))


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def held_matches(found: MessageFilter, row: dict[str, Any]) -> bool:
    """Whether a held FLASH message (``services/held.py`` row) meets ``found``: held ones
    are outbound, not acknowledged, never overdue (they have no deadline yet)."""
    if found.state not in ("", "held", "unacknowledged") or found.direction == "in":
        return False
    if found.precedence and found.precedence != row["precedence"]:
        return False
    payload = row.get("payload") or {}
    kind_type = {"text": "text", "code": "coded_message"}.get(row["kind"], "")
    if found.type and found.type != (payload.get("notice", {}).get("type") or kind_type):
        return False
    since, until = found.window()
    at = row["requested_at"]
    if (since and at < since) or (until and at >= until):
        return False
    return not found.q or any(found.q.lower() in s.lower() for s in _strings(payload))
