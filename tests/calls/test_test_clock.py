"""The test clock of served nodes (``HOTLINE_CLOCK_OFFSET_FILE``): the system clock moved
by the seconds in a file, read again when the file changes; chosen only when asked for."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hotline.clock import OffsetClock, SystemClock
from hotline.errors import ConfigError
from hotline.node import default_clock


def test_the_offset_follows_the_file_and_no_file_means_none(tmp_path: Path) -> None:
    path = tmp_path / "offset"
    clock = OffsetClock(path)
    assert timedelta(0) == clock.offset()
    OffsetClock.write(path, 84 * 86400)
    assert timedelta(days=84) == clock.offset()
    OffsetClock.write(path, -60)
    assert timedelta(seconds=-60) == clock.offset()
    ahead = clock.now() - datetime.now(UTC)
    assert timedelta(seconds=-61) < ahead <= timedelta(seconds=-60)


def test_an_offset_that_is_not_whole_seconds_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "offset"
    path.write_text("84 days\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="holds '84 days'"):
        OffsetClock(path).now()


def test_a_node_uses_the_test_clock_only_when_the_variable_is_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv(OffsetClock.ENV, raising=False)
    assert isinstance(default_clock(), SystemClock)
    monkeypatch.setenv(OffsetClock.ENV, str(tmp_path / "offset"))
    chosen = default_clock()
    assert (OffsetClock, tmp_path / "offset") == (type(chosen), getattr(chosen, "path", None))
    assert "TEST CLOCK ACTIVE" in caplog.text
