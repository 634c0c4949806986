"""Replaying a recording into a node: for drills, exercises and tests.

A recording is JSON lines, one report per line with the time its sensor saw it (what
``hotline tracks export`` writes, the shape of ``GET /api/v1/tracks/history``'s reports).
A replay hands the reports to the node in their order and at their pace: each report
``(time - first time) / speed`` seconds after the replay began, re-timed to that moment
of the node's clock (those within ``STEP_S`` of each other go in one hand-over, each with
its own time). At ``speed`` 1 the node therefore sees the same tracks, at the same
intervals, as when they were recorded, and predicts the same conflicts and incursions; a
faster replay compresses the intervals (the tracks then seem to jump: a drill of the
alarms, not of the geometry).

The pure part (:func:`read`, :func:`plan`) is separate from the pacing (:func:`run`), which
takes the node's sink and a ``wait_until(offset_s)``: the real one sleeps; a test's moves a
fake clock.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError as PydanticError

from hotline.clock import parse_rfc3339, rfc3339
from hotline.domain.tracks import TrackReport
from hotline.errors import ValidationError

#: Keys a recording's line may carry beside a report's (the record's own, ignored).
IGNORED = ("source",)
MAX_REPORTS = 5_000_000  # a recording bigger than this is refused (split it by time)

#: Reports seen within this long of each other (at the replay's pace) go in one hand-over;
#: each keeps its own time, so nothing is lost by grouping them (s).
STEP_S = 0.25

Plan = list[tuple[float, list[tuple[float, TrackReport]]]]


def read(lines: Iterable[str], *, name: str = "recording") -> list[tuple[datetime, TrackReport]]:
    """The reports of a recording, in time order; a bad line is refused with its number."""
    import json

    out = []
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        try:
            obj = json.loads(text)
            if not isinstance(obj, dict):
                raise ValueError("not a JSON object")
            fields = {k: v for k, v in obj.items() if k not in IGNORED}
            report = TrackReport.model_validate(fields)
            if report.time is None:
                raise ValueError("no time: a recording gives each report's time")
            at = parse_rfc3339(report.time)
        except (ValueError, PydanticError) as exc:
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise ValidationError(
                f"{name}, line {number}: {reason}",
                hint="one report per line, as hotline tracks export writes them",
            ) from None
        out.append((at, report))
        if len(out) > MAX_REPORTS:
            raise ValidationError(f"{name} holds over {MAX_REPORTS} reports", hint="split it")
    out.sort(key=lambda pair: pair[0])  # stable: reports of one instant keep their order
    return out


def plan(
    recorded: list[tuple[datetime, TrackReport]], speed: float = 1.0, step_s: float = STEP_S
) -> Plan:
    """Groups of reports to hand over together: those seen within ``step_s`` of the
    group's first (at the replay's pace), each with its own offset from the recording's
    first report (s, divided by ``speed``)."""
    if not speed > 0:
        raise ValidationError(f"speed {speed} is not above 0", hint="e.g. 1, 2, 10")
    groups: Plan = []
    if not recorded:
        return groups
    first = recorded[0][0]
    for at, report in recorded:
        offset = (at - first).total_seconds() / speed
        if not groups or offset - groups[-1][0] >= step_s:
            groups.append((offset, []))
        groups[-1][1].append((offset, report))
    return groups


def run(
    planned: Plan,
    sink: Callable[[list[TrackReport]], dict[str, Any]],
    wait_until: Callable[[float], None],
    start: datetime,
    *,
    batch: int = 10_000,
) -> dict[str, Any]:
    """Hand each group to ``sink`` at its offset, each report timed ``start`` + its own
    offset (``start``: the node's time when the replay began); what the last hand-over
    answered."""
    answer: dict[str, Any] = {}
    reports = 0
    for offset, group in planned:
        wait_until(offset)
        timed = [
            r.model_copy(update={"time": rfc3339(start + timedelta(seconds=off))})
            for off, r in group
        ]
        for k in range(0, len(timed), batch):
            answer = sink(timed[k : k + batch])
        reports += len(group)
    return {"reports": reports, "groups": len(planned), "last": answer}
