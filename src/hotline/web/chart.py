"""The link-health chart: round-trip times and failed tests over time, as SVG geometry.

Drawn by the page itself (inline SVG, no chart library): x is time over the chosen
period, y the round-trip time in milliseconds from 0 to a rounded-up maximum. A passed
test is a point on the line; a failed one a red mark along the bottom; a pending one a
hollow mark. The template (``_chart.html``) draws what :func:`link_chart` computes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from hotline.clock import parse_rfc3339

WIDTH, HEIGHT = 720, 200
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 12, 28
_NICE = (1, 2, 5)


@dataclass
class Chart:
    """Pixel geometry of one chart (viewBox ``0 0 WIDTH HEIGHT``)."""

    width: int = WIDTH
    height: int = HEIGHT
    line: str = ""  # SVG polyline points of passed tests
    passed: list[tuple[float, float, str]] = field(default_factory=list)  # x, y, title
    failed: list[tuple[float, str]] = field(default_factory=list)  # x, title
    pending: list[tuple[float, str]] = field(default_factory=list)
    y_ticks: list[tuple[float, str]] = field(default_factory=list)  # y, label
    x_ticks: list[tuple[float, str]] = field(default_factory=list)
    plot: tuple[int, int, int, int] = (LEFT, TOP, WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM)


def nice_ceiling(value: float) -> int:
    """The smallest 1, 2 or 5 × 10^n at or above ``value`` (at least 10)."""
    scale = 1
    while True:
        for step in _NICE:
            if step * scale >= max(value, 10):
                return step * scale
        scale *= 10


def _x(when: datetime, start: datetime, span_s: float) -> float:
    return round(LEFT + (when - start).total_seconds() / span_s * (WIDTH - LEFT - RIGHT), 1)


def link_chart(tests: list[dict[str, Any]], start: datetime, end: datetime) -> Chart:
    """Chart geometry for ``tests`` (oldest first) between ``start`` and ``end``."""
    chart = Chart()
    span_s = max((end - start).total_seconds(), 1.0)
    top = nice_ceiling(max((t["rtt_ms"] or 0 for t in tests if t["state"] == "passed"), default=0))
    plot_h = HEIGHT - TOP - BOTTOM
    points = []
    for test in tests:
        x = _x(parse_rfc3339(test["sent_at"]), start, span_s)
        title = test["sent_at"][:19].replace("T", " ") + "Z"
        if test["state"] == "passed":
            y = round(TOP + plot_h * (1 - test["rtt_ms"] / top), 1)
            chart.passed.append((x, y, f"{title} · {test['rtt_ms']} ms"))
            points.append(f"{x},{y}")
        elif test["state"] == "failed":
            chart.failed.append((x, f"{title} · {test.get('reason') or ''}"))
        else:
            chart.pending.append((x, title))
    chart.line = " ".join(points)
    chart.y_ticks = [
        (round(TOP + plot_h * (1 - f), 1), f"{round(top * f)} ms") for f in (0, 0.5, 1)
    ]
    chart.x_ticks = _time_ticks(start, end, span_s)
    return chart


def _time_ticks(start: datetime, end: datetime, span_s: float) -> list[tuple[float, str]]:
    """Four or five ticks on whole hours (or days for long periods), UTC."""
    step = timedelta(hours=max(1, round(span_s / 3600 / 4)))
    if step >= timedelta(days=1):
        step = timedelta(days=round(step / timedelta(days=1)))
        first = start.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
        fmt = "%d %b"
    else:
        first = start.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
        fmt = "%H:%MZ"
    ticks, when = [], first
    while when <= end:
        ticks.append((_x(when, start, span_s), when.strftime(fmt)))
        when += step
    return ticks
