"""Internal readouts and internal notes never leave the node: not in any envelope put on
the wire, not in anything the peer stored. A shared readout, written the same way, does
cross — the check below would see a leak."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from hotline.clock import FakeClock, rfc3339
from tests.calls.conftest import (
    COMMANDER,
    OFFICER,
    SECOND_COMMANDER,
    everything_stored,
    outbound_envelopes,
)
from tests.conftest import Pair

SECRETS = {
    "request note": "INTERNAL-NOTE-ON-REQUEST-7731",
    "call note": "INTERNAL-NOTE-ON-CALL-4410",
    "internal readout": "INTERNAL-READOUT-TEXT-9902",
    "internal readout title": "INTERNAL-READOUT-TITLE-5518",
    "watch reason": "WATCH-REASON-KEPT-HOME-3307",
}
SHARED_TEXT = "SHARED-READOUT-TEXT-1206"


def held_call(pair: Pair, clock: FakeClock, **record: Any) -> str:
    """A call requested by us, accepted by ru and recorded held by us; returns its id."""
    start = rfc3339(clock.now() + timedelta(hours=2))
    made = pair.us.calls.requests.request(
        to="ru",
        principal="cjcs",
        counterpart="cgs",
        topics=["Deconfliction near the Polish border"],
        slots=[{"start": start, "minutes": 30}],
        answer_by=rfc3339(clock.now() + timedelta(hours=1)),
        internal_note=record.pop("request_note", None),
        user=OFFICER,
    )
    pair.flush()
    pair.ru.calls.requests.answer(
        made["id"], answer="accept", slot={"start": start, "minutes": 30}, user=OFFICER
    )
    pair.flush()
    clock.advance(timedelta(hours=3))
    pair.us.calls.records.record(
        made["id"],
        held_at=start,
        minutes=30,
        participants=[
            {"party": "us", "name": "Gen. Mark Milley"},
            {"party": "ru", "name": "Gen. Valery Gerasimov"},
        ],
        user=OFFICER,
        **record,
    )
    pair.flush()
    return str(made["id"])


def test_internal_readouts_and_notes_never_reach_the_peer(
    calls_pair: Pair, clock: FakeClock
) -> None:
    pair = calls_pair
    call_id = held_call(
        pair, clock, request_note=SECRETS["request note"], internal_note=SECRETS["call note"]
    )
    records = pair.us.calls.records
    records.write_readout(
        call_id,
        title=SECRETS["internal readout title"],
        text=SECRETS["internal readout"],
        visibility="internal",
        user=OFFICER,
    )
    records.write_readout(
        call_id, title="Shared", text=SHARED_TEXT, visibility="shared", user=OFFICER
    )
    watch = pair.us.calls.watch
    change = watch.propose(
        "possible-crisis", reason=SECRETS["watch reason"], notify="ru", user=COMMANDER
    )
    watch.approve(change["id"], user=SECOND_COMMANDER)
    pair.flush()

    sent = "\n".join(outbound_envelopes(pair.us))
    at_peer = everything_stored(pair.ru)
    at_home = everything_stored(pair.us)
    assert SHARED_TEXT in sent and SHARED_TEXT in at_peer  # the check can see a leak
    assert "possible-crisis" in at_peer  # the watch level itself was notified
    for what, secret in SECRETS.items():
        assert (what, True, False, False) == (
            what,
            secret in at_home,
            secret in sent,
            secret in at_peer,
        )


def test_an_internal_readout_widened_later_is_sent_then_and_only_then(
    calls_pair: Pair, clock: FakeClock
) -> None:
    pair = calls_pair
    call_id = held_call(pair, clock)
    kept = pair.us.calls.records.write_readout(
        call_id,
        title="Draft",
        text=SECRETS["internal readout"],
        visibility="internal",
        user=OFFICER,
    )
    pair.flush()
    assert SECRETS["internal readout"] not in everything_stored(pair.ru)

    widened = pair.us.calls.records.publish(kept["id"], "shared", user=OFFICER)
    pair.flush()
    assert ("shared", "sent") == (widened["visibility"], widened["status"])
    theirs = pair.ru.calls.records.readouts(call_id, "shared")["sides"]["us"]
    assert [(kept["id"], SECRETS["internal readout"], "received")] == [
        (r["id"], r["text"], r["status"]) for r in theirs
    ]
