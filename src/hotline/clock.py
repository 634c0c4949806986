"""Clocks: the system clock for production, a controllable one for tests.

Services never call ``datetime.now()`` themselves; they take a :class:`Clock`, so
deadlines, schedules and skew windows can be tested by moving time by hand.

:class:`OffsetClock` is for tests of real ``hotline serve`` processes only: the system
clock plus a number of seconds read from a file, so a test can move served nodes forward
by days. ``Node`` uses it only when ``HOTLINE_CLOCK_OFFSET_FILE`` is set, and says so
loudly in the log.
"""

from __future__ import annotations

import os
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

from hotline.errors import ConfigError


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


class OffsetClock:
    """FOR TESTING ONLY: the system clock moved by whole seconds written in a file.

    The file holds one integer (seconds, may be negative). It is read again whenever its
    inode, modification time or size changes, so a test moves every process sharing the file at
    once (their clocks stay in step and the skew check between nodes still holds). A
    missing or empty file means no offset; text that is not an integer is an error, so a
    typo never silently leaves the clock unmoved.
    """

    ENV = "HOTLINE_CLOCK_OFFSET_FILE"

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._seen: tuple[int, int, int] | None = None
        self._offset = timedelta(0)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset()

    def offset(self) -> timedelta:
        """The offset in the file now (re-read only when the file changed)."""
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return timedelta(0)
        with self._lock:
            seen = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
            if self._seen != seen:
                text = self.path.read_text(encoding="utf-8").strip() or "0"
                try:
                    self._offset = timedelta(seconds=int(text))
                except ValueError:
                    raise ConfigError(
                        f"the test clock's offset file {self.path} holds {text[:40]!r}",
                        hint=f"write whole seconds, e.g. 86400 (or unset {self.ENV} outside tests)",
                    ) from None
                self._seen = seen
            return self._offset

    @staticmethod
    def write(path: Path | str, seconds: int) -> None:
        """Set the offset in ``path`` (for the test that moves the served nodes' time)."""
        target = Path(path)
        temporary = target.with_name(target.name + ".tmp")
        temporary.write_text(f"{int(seconds)}\n", encoding="utf-8")
        os.replace(temporary, target)  # readers never see a half-written number


def rfc3339(when: datetime) -> str:
    """Format a UTC time as RFC 3339 with millisecond precision and a ``Z``.

    >>> rfc3339(datetime(2026, 11, 21, 14, 30, 5, 123456, tzinfo=UTC))
    '2026-11-21T14:30:05.123Z'
    """
    when = when.astimezone(UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def seconds_between(start: str, end: str) -> int:
    """How long from one RFC 3339 time to another, in whole seconds, never negative.

    Used for durations (an alarm's, an outage's): both ends are wall-clock times, and a
    clock stepped back between them (NTP correcting it) would otherwise show a negative
    duration; such a span is clamped at 0 — "no measurable time", never "-40 s".

    >>> seconds_between("2026-11-21T14:30:00.000Z", "2026-11-21T14:31:05.400Z")
    65
    >>> seconds_between("2026-11-21T14:31:05.000Z", "2026-11-21T14:30:00.000Z")
    0
    """
    return max(0, round((parse_rfc3339(end) - parse_rfc3339(start)).total_seconds()))


def parse_rfc3339(text: str) -> datetime:
    """Parse an RFC 3339 UTC time (``Z`` or ``+00:00``); refuse naive or non-UTC times."""
    when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if when.tzinfo is None or when.utcoffset() != timedelta(0):
        raise ValueError(f"{text!r} is not a UTC time (it must end in Z)")
    return when.astimezone(UTC)
