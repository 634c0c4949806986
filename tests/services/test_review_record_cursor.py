"""Hostile review: a history cursor (``after``) is checked for digits only
(``services/picture/record.py`` ``_cursor``), not for size: one beyond a 64-bit integer reaches
the database (PostgreSQL: "bigint out of range", SQLite: an integer overflow) and the caller
gets an internal error instead of ``invalid`` (422). ``str.isdigit`` also takes a superscript
two, which ``int`` then refuses with a bare ``ValueError``."""

from __future__ import annotations

import pytest

from hotline.clock import FakeClock, rfc3339
from hotline.errors import ValidationError
from tests.conftest import MakeNode


def test_a_cursor_beyond_any_row_is_refused_as_invalid(
    make_node: MakeNode, clock: FakeClock
) -> None:
    node = make_node("us")
    for after in ("99999999999999999999.1", "\u00b2.1"):
        with pytest.raises(ValidationError):
            node.tracks.record.history("2026-01-01T00:00:00Z", rfc3339(clock.now()), after=after)
