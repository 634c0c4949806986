"""A message the peer refuses blocks its channel (order is kept): the sender's duty officer
is alerted once, with the peer's reason, and the alarm clears when the message passes."""

from __future__ import annotations

from tests.conftest import MakeNode, Pair


def test_a_refused_message_raises_one_alarm_that_clears_when_it_passes(
    pair: Pair, make_node: MakeNode
) -> None:
    impostor = make_node("us")  # another key claiming to be US, pinned by RU by mistake
    pair.ru.add_peer(impostor.identity.card().wire())
    sent = pair.us.line.send(to="ru", text="Hello", precedence="ROUTINE", user="duty")

    first = pair.deliver("us", "ru")
    second = pair.deliver("us", "ru")

    assert first is not None and first.delivered == 0 and "unknown_key" in (first.error or "")
    assert second is not None and second.delivered == 0
    [alarm] = pair.us.alarms.listing("open")
    assert ("delivery_refused", sent["id"], "ru", "unknown_key") == (
        alarm["kind"],
        alarm["subject"],
        alarm["detail"]["peer"],
        alarm["detail"]["code"],
    )
    assert [] == pair.ru.line.listing("in")  # nothing stored on the refusing side

    pair.ru.add_peer(pair.us.identity.card().wire())  # the right card, compared out of band
    pair.flush()

    assert [] == pair.us.alarms.listing("open")
    [cleared] = pair.us.alarms.listing("cleared")
    assert ("delivery_refused", "delivered") == (cleared["kind"], cleared["clear_reason"])
    assert ["Hello"] == [m["body"]["text"] for m in pair.ru.line.listing("in")]
