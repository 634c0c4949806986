"""Shared fixtures for the notice tests: the example files and ways to bend them."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from hotline.domain.notices.models import parse_notice
from hotline.render.notices import render

EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "examples" / "notices"

# Who sends each example, to whom, and when: the envelope facts a node would add.
# Written by hand; every example must appear here and pass its rules at this time.
EXAMPLE_ENVELOPES: dict[str, tuple[str, str, datetime]] = {
    "activity_notice_missile_launch.json": ("ru", "us", datetime(2026, 12, 1, 12, 0, tzinfo=UTC)),
    "activity_notice_hazardous_activity.json": (
        "us",
        "ru",
        datetime(2026, 12, 3, 8, 0, tzinfo=UTC),
    ),
    "incident_report.json": ("us", "ru", datetime(2026, 11, 14, 7, 41, tzinfo=UTC)),
    "deconfliction_request.json": ("us", "ru", datetime(2026, 11, 20, 15, 20, tzinfo=UTC)),
    "deconfliction_answer.json": ("ru", "us", datetime(2026, 11, 21, 6, 45, tzinfo=UTC)),
    "exercise_notification.json": ("ru", "us", datetime(2027, 7, 20, 9, 0, tzinfo=UTC)),
    "observer_invitation.json": ("ru", "us", datetime(2027, 7, 20, 9, 5, tzinfo=UTC)),
    "coded_message.json": ("us", "ru", datetime(2026, 11, 22, 0, 30, tzinfo=UTC)),
    "protected_areas.json": ("ru", "us", datetime(2026, 11, 22, 4, 0, tzinfo=UTC)),
    "observer_answer.json": ("us", "ru", datetime(2027, 7, 22, 14, 0, tzinfo=UTC)),
    "deconfliction_concurrence.json": ("us", "ru", datetime(2026, 11, 21, 7, 30, tzinfo=UTC)),
    "notice_amendment.json": ("ru", "us", datetime(2027, 8, 30, 10, 0, tzinfo=UTC)),
    "notice_cancellation.json": ("ru", "us", datetime(2026, 12, 2, 18, 0, tzinfo=UTC)),
    "incident_account.json": ("us", "ru", datetime(2026, 11, 14, 8, 30, tzinfo=UTC)),
}


def load_example(name: str) -> dict[str, Any]:
    """A fresh copy of an example body, safe to modify."""
    data: dict[str, Any] = json.loads((EXAMPLES_DIR / name).read_text(encoding="utf-8"))
    return copy.deepcopy(data)


def render_example(name: str, lang: str, message_id: str) -> str:
    """An example rendered with its envelope facts from :data:`EXAMPLE_ENVELOPES`."""
    sender, receiver, sent_at = EXAMPLE_ENVELOPES[name]
    notice = parse_notice(load_example(name))
    return render(
        notice, lang, sender=sender, receiver=receiver, message_id=message_id, sent_at=sent_at
    )


def present_rule(**overrides: Any) -> dict[str, Any]:
    """A blocking rule for tests: activity notices must give a contact frequency."""
    return {
        "id": "frequency-given",
        "title": {"en": "Contact frequency given", "ru": "Указана частота связи"},
        "applies_to": {"type": "activity_notice"},
        "check": {"kind": "present", "fields": ["contact_frequency"]},
        "severity": "error",
        "blocking": True,
    } | overrides


@pytest.fixture
def missile_launch() -> dict[str, Any]:
    return load_example("activity_notice_missile_launch.json")


@pytest.fixture
def hazardous_activity() -> dict[str, Any]:
    return load_example("activity_notice_hazardous_activity.json")


@pytest.fixture
def exercise() -> dict[str, Any]:
    return load_example("exercise_notification.json")


@pytest.fixture
def polygon_volume() -> dict[str, Any]:
    """A valid polygon volume (from the deconfliction request of the older form)."""
    legacy = Path(__file__).parent / "legacy_deconfliction_request.json"
    volume: dict[str, Any] = json.loads(legacy.read_text(encoding="utf-8"))["volumes"][0]
    return volume
