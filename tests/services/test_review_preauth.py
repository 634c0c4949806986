"""Hostile review of pre-authorised FLASH: the authorisation is the second person's
judgement given ahead of time, for a *safety warning*. It must not let one person send
FLASH alone (authorise, then use it themself), nor let a commander pre-authorise any
phrasebook message at all as a "safety warning"."""

from __future__ import annotations

from hotline.clock import FakeClock
from tests.conftest import Pair
from tests.services.test_picture import api
from tests.services.test_preauth import authorise, commander


def flash_out(pair: Pair) -> list[str]:
    return [m["id"] for m in pair.us.line.listing("out", limit=50) if m["precedence"] == "FLASH"]


def test_the_commander_who_authorised_cannot_also_send_it_alone(
    pair: Pair, clock: FakeClock
) -> None:
    with api(pair, "us", commander(pair)) as cdr:
        made = authorise(cdr, clock)
        assert 201 == made.status_code, made.text
        warned = cdr.post(f"/api/v1/safety/preauth/{made.json()['id']}/warn")
    # one person, one action, FLASH on the line: the two-person rule is gone
    assert (403, []) == (warned.status_code, flash_out(pair))


def test_only_a_safety_warning_can_be_preauthorised(pair: Pair, clock: FakeClock) -> None:
    """Code 20 ("The event was caused by a technical failure and was not intentional") is a
    statement of state responsibility, not a safety-of-flight warning; code 14 cancels a
    notified launch. Neither may go FLASH without a second person."""
    with api(pair, "us", commander(pair)) as cdr:
        answers = [authorise(cdr, clock, code=code).status_code for code in (20, 14)]
    assert [422, 422] == answers


def test_the_officer_who_sent_a_warning_cannot_hide_it_from_the_commanders(
    pair: Pair, clock: FakeClock
) -> None:
    """The ``safety_warning`` alarm is how each use of a warning sent without a second
    person is "shown to commanders" (issue 16). The officer who sent it clears it at once,
    before any commander saw it: the oversight of the bypass is the sender's to erase."""
    from tests.conftest import token

    with api(pair, "us", commander(pair)) as cdr, api(pair, "us", token(pair.us)) as officer:
        made = authorise(cdr, clock).json()
        warned = officer.post(f"/api/v1/safety/preauth/{made['id']}/warn")
        assert 201 == warned.status_code, warned.text
        [alarm] = [a for a in pair.us.alarms.listing("open") if a["kind"] == "safety_warning"]
        cleared = officer.post(f"/api/v1/alarms/{alarm['id']}/clear", json={"reason": "seen"})
    assert 403 == cleared.status_code
    assert [alarm["id"]] == [
        a["id"] for a in pair.us.alarms.listing("open") if a["kind"] == "safety_warning"
    ]
