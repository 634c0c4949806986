"""Conflicts between declared volumes as one line each, for the sender of a notice.

A conflict (as :meth:`hotline.services.picture.conflicts.Conflicts.check_notice` and the
``GET /api/v1/conflicts`` listing give it) names two volumes, the least horizontal and
vertical distance between them and the time both are active. The line gives distances
in the units both sides fly by: metres and nautical miles across, metres and feet up.
The volume of a notice not sent yet has the message id ``(new)``.
"""

from __future__ import annotations

from typing import Any

NEW = "(new)"
"""The message id of a volume in a notice that is being checked, not sent yet."""

_M_PER_NM = 1852.0
_M_PER_FT = 0.3048


def _side(side: dict[str, Any]) -> str:
    what = "protected area" if side.get("area") else "volume"
    party = f"{side['party']}'s " if side.get("party") else ""
    if side.get("message_id") == NEW:
        return f"{what} {side['volume_id']} of this notice"
    return f"{party}{what} {side['volume_id']} of message {side['message_id']}"


def conflict_line(conflict: dict[str, Any]) -> str:
    """``volume A1 of this notice — ru's volume R1 of message 5f…: 2,012 m (1.09 NM)
    apart horizontally, 0 m (0 ft) vertically, both active 2026-12-02T10:00:00Z to …``.
    """
    a, b = conflict["a"], conflict["b"]
    if b.get("message_id") == NEW:  # our own volume first
        a, b = b, a
    horizontal = float(conflict["horizontal_m"])
    vertical = float(conflict["vertical_m"])
    return (
        f"{_side(a)} — {_side(b)}: "
        f"{horizontal:,.0f} m ({horizontal / _M_PER_NM:,.2f} NM) apart horizontally, "
        f"{vertical:,.0f} m ({vertical / _M_PER_FT:,.0f} ft) vertically, "
        f"both active {conflict['start']} to {conflict['end']}"
    )


def conflict_lines(conflicts: list[dict[str, Any]]) -> str:
    """Numbered lines under a heading, or one line saying there is no conflict."""
    if not conflicts:
        return "NO CONFLICT WITH THE OTHER SIDE'S VOLUMES\n"
    lines = [f"CONFLICTS WITH THE OTHER SIDE'S VOLUMES: {len(conflicts)}"]
    lines += [f"{n}. {conflict_line(c)}" for n, c in enumerate(conflicts, start=1)]
    return "\n".join(lines) + "\n"
