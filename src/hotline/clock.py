"""Clocks: the system clock for production, a controllable one for tests.

Services never call ``datetime.now()`` themselves; they take a :class:`Clock`, so
deadlines, schedules and skew windows can be tested by moving time by hand.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """Something that tells the current UTC time."""

    def now(self) -> datetime: ...


class SystemClock:
    """The machine's clock, in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FakeClock:
    """A clock that only moves when told to (thread-safe)."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 11, 21, 14, 30, tzinfo=UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, delta: timedelta | float) -> datetime:
        """Move forward by ``delta`` (seconds or a timedelta) and return the new time."""
        step = delta if isinstance(delta, timedelta) else timedelta(seconds=delta)
        with self._lock:
            self._now += step
            return self._now

    def set(self, when: datetime) -> None:
        with self._lock:
            self._now = when


def rfc3339(when: datetime) -> str:
    """Format a UTC time as RFC 3339 with millisecond precision and a ``Z``.

    >>> rfc3339(datetime(2026, 11, 21, 14, 30, 5, 123456, tzinfo=UTC))
    '2026-11-21T14:30:05.123Z'
    """
    when = when.astimezone(UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def seconds_between(start: str, end: str) -> int:
    """Whole seconds from one RFC 3339 time to another (negative if ``end`` is earlier).

    >>> seconds_between("2026-11-21T14:30:00.000Z", "2026-11-21T14:31:05.400Z")
    65
    """
    return round((parse_rfc3339(end) - parse_rfc3339(start)).total_seconds())


def parse_rfc3339(text: str) -> datetime:
    """Parse an RFC 3339 UTC time (``Z`` or ``+00:00``); refuse naive or non-UTC times."""
    when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if when.tzinfo is None or when.utcoffset() != timedelta(0):
        raise ValueError(f"{text!r} is not a UTC time (it must end in Z)")
    return when.astimezone(UTC)
