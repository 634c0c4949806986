"""Hostile review: the watch level after the node's clock is stepped back (NTP correcting a
clock that ran fast).

``storage/calls.watch_changes_in`` orders approved changes by ``decided_at`` (wall-clock
text), and ``WatchLevels._current`` / ``_last_notified`` take the last of them as the level
now and as the ``previous`` a notification carries. A change approved after the step back
has an earlier ``decided_at`` than the one before it, so the node shows the older level as
current, and the next notification names the wrong ``previous``."""

from __future__ import annotations

from datetime import timedelta

from hotline.clock import FakeClock
from hotline.services.auth import User
from tests.conftest import Pair

PASSWORD = "correct horse battery"


def test_the_level_approved_last_is_current_after_the_clock_steps_back(
    pair: Pair, clock: FakeClock
) -> None:
    for name in ("cdr", "deputy"):
        pair.us.auth.add_user(name, PASSWORD, ["commander"])
    cdr, deputy = User("cdr", ("commander",)), User("deputy", ("commander",))
    watch = pair.us.calls.watch
    first = watch.propose("possible-crisis", reason="Buildup", notify="ru", user=cdr)
    watch.approve(first["id"], user=deputy)
    # NTP steps a fast clock back: by less than the line's allowed skew (300 s), as both
    # nodes share this clock and the peer refuses an envelope created further ahead
    clock.set(clock.now() - timedelta(minutes=4))
    second = watch.propose("potential-imminent-crisis", reason="Launch", notify="ru", user=cdr)
    watch.approve(second["id"], user=deputy)

    assert "potential-imminent-crisis" == watch.status()["current"]["level"]["id"]
    third = watch.propose("normal", reason="Stand down", notify="ru", user=cdr)
    sent = watch.approve(third["id"], user=deputy)
    pair.flush()
    body = pair.ru.line.show(sent["message_id"])["envelope"]["body"]
    assert "potential-imminent-crisis" == body["previous"]["id"]
