"""Message states that never lie or go back, and one alarm per incident (issue 14, 1 and 5).

Two in-process nodes over real HTTP (``pair``). The faults are made by the sender's HTTP
client: :class:`Link` delivers each request to the peer for real and then, when told to,
loses the answer (the peer stored the batch; the sender never hears of it), or runs
something between the peer's answer and the sender reading it (an acknowledgement that
overtakes the receipt).
"""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text, update

from hotline.clock import FakeClock
from hotline.services.evidence.bundle import export_bundle
from hotline.services.evidence.verify import verify_bundle
from hotline.services.line.delivery import Courier, Outcome
from hotline.storage.alarms import insert_alarm
from hotline.storage.tables.core import log_entries, messages
from tests.conftest import Pair
from tests.services.test_delivery_refused import tampering_peer

#: Later states only: a message's state may stay or move right, never left.
RANK = {"queued": 0, "sent": 1, "delivered": 2, "acknowledged": 3}


class Link(httpx.BaseTransport):
    """A real HTTP transport whose answers can be lost or held back by the test."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.lose_answers = False
        self.before_answer: Callable[[], None] | None = None

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        response.read()  # the peer has answered: it stored the batch
        if self.lose_answers:
            response.close()
            raise httpx.ReadError("the answer was lost on the way back", request=request)
        if self.before_answer is not None:
            step, self.before_answer = self.before_answer, None
            step()
        return response

    def close(self) -> None:
        self.inner.close()


@contextmanager
def link() -> Iterator[tuple[Link, httpx.Client]]:
    transport = Link()
    with httpx.Client(transport=transport, timeout=30.0) as client:
        yield transport, client


def over(pair: Pair, sender: str, receiver: str, client: httpx.Client) -> Outcome | None:
    """One delivery round from ``sender`` to ``receiver`` through ``client``."""
    return Courier(pair.node(sender).line, receiver, client).deliver_once()


def receipts_in_log(pair: Pair, message_id: str) -> int:
    with pair.us.db.read() as conn:
        query = select(log_entries.c.idx).where(
            log_entries.c.ref == message_id, log_entries.c.kind == "receipt_in"
        )
        return len(conn.execute(query).all())


def assert_complete(pair: Pair, message_id: str) -> dict[str, Any]:
    """The sender holds everything an acknowledged message must have."""
    shown = pair.us.line.show(message_id)
    kinds = [step["kind"] for step in shown["trail"]]
    assert "acknowledged" == shown["state"], kinds
    assert shown["receipt"] is not None and shown["delivered_at"] is not None
    assert shown["acked_at"] is not None and shown["acked_by"] == "ru:ofitser"
    assert 1 == kinds.count("delivered")
    assert 1 == receipts_in_log(pair, message_id)
    return shown


def test_an_ack_that_overtakes_the_receipt_leaves_the_message_offered_until_it_has_one(
    pair: Pair,
) -> None:
    sent = pair.us.line.send(to="ru", text="Answer lost", precedence="FLASH", user="duty")
    with link() as (transport, client):
        transport.lose_answers = True
        lost = over(pair, "us", "ru", client)
    assert lost is not None and 0 == lost.delivered  # but ru stored it
    assert ["Answer lost"] == [m["body"]["text"] for m in pair.ru.line.listing("in")]
    pair.ru.line.acknowledge(sent["id"], "ofitser")
    assert pair.deliver("ru", "us") is not None  # the ack reaches us before any receipt

    early = pair.us.line.show(sent["id"])
    assert ("sent", None, "ru:ofitser") == (early["state"], early["receipt"], early["acked_by"])
    assert "acknowledged" == early["trail"][-1]["kind"]

    pair.flush()  # the link heals: us offers it again, ru answers with the stored receipt

    shown = assert_complete(pair, sent["id"])
    assert ["created", "attempt_failed", "acknowledged", "delivered"] == [
        step["kind"] for step in shown["trail"]
    ]
    pair.us.evidence.exchange()
    raw = export_bundle(pair.us.evidence, sent["id"])
    assert ["envelope", "receipt", "ack", "ack_receipt"] == [
        e["role"] for e in json.loads(raw)["entries"]
    ]
    verdict = verify_bundle(raw)
    assert (True, True, []) == (verdict.ok, verdict.complete, verdict.missing)


def test_a_receipt_that_arrives_after_the_ack_leaves_the_message_acknowledged(
    pair: Pair,
) -> None:
    sent = pair.us.line.send(to="ru", text="Slow answer", precedence="FLASH", user="duty")

    def ack_overtakes() -> None:
        # ru has stored and receipted the message; before us reads ru's answer, ru's
        # officer acknowledges and the ack reaches us
        pair.ru.line.acknowledge(sent["id"], "ofitser")
        assert pair.deliver("ru", "us") is not None

    with link() as (transport, client):
        transport.before_answer = ack_overtakes
        outcome = over(pair, "us", "ru", client)

    assert outcome is not None and 1 == outcome.delivered
    assert_complete(pair, sent["id"])
    assert "acknowledged" == pair.us.line.listing("out")[0]["state"]
    assert {"acknowledged": 1} == pair.us.line.status()["messages"]["out"]


def test_a_failure_reported_late_does_not_move_a_receipted_message_back(pair: Pair) -> None:
    sent = pair.us.line.send(to="ru", text="Delivered", user="duty")
    pair.flush()
    courier = Courier(pair.us.line, "ru", pair.http)
    courier._record_failure(sent["id"], "a round that began before the receipt")
    shown = pair.us.line.show(sent["id"])
    assert ("delivered", 1) == (shown["state"], shown["attempts"])
    assert "attempt_failed" not in [step["kind"] for step in shown["trail"]]


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5, 6])
def test_no_interleaving_of_losses_acks_and_retries_regresses_a_state(
    pair: Pair, seed: int
) -> None:
    """Random rounds of: send, deliver (answer kept or lost, either way), acknowledge on
    ru, and retry. After each, no message went back, and every ``acknowledged`` message
    has its receipt; after healing, all end acknowledged with exactly one receipt each."""
    rng = random.Random(seed)
    seen: dict[str, int] = {}

    def check() -> None:
        for row in pair.us.line.listing("out", limit=1000):
            if row["type"] != "text":
                continue
            rank = RANK[row["state"]]
            assert rank >= seen.get(row["id"], 0), (row["id"], row["state"], seed)
            seen[row["id"]] = rank
            if row["state"] in ("delivered", "acknowledged"):
                assert row["delivered_at"] is not None
            else:
                assert row["delivered_at"] is None

    with link() as (us_link, us_client), link() as (ru_link, ru_client):
        for step in range(40):
            action = rng.choice(["send", "us→ru", "us→ru", "ru→us", "ack", "ack"])
            if action == "send" or step == 0:
                pair.us.line.send(to="ru", text=f"m{step}", user="duty")
            elif action == "us→ru":
                us_link.lose_answers = rng.random() < 0.5
                over(pair, "us", "ru", us_client)
            elif action == "ru→us":
                ru_link.lose_answers = rng.random() < 0.3
                over(pair, "ru", "us", ru_client)
            else:
                waiting = [m for m in pair.ru.line.listing("in") if m["acked_at"] is None]
                if waiting:
                    pair.ru.line.acknowledge(rng.choice(waiting)["id"], "ofitser")
            check()

    pair.flush()
    for row in pair.ru.line.listing("in"):
        if row["acked_at"] is None:
            pair.ru.line.acknowledge(row["id"], "ofitser")
    pair.flush()
    check()
    assert seen and all(rank == RANK["acknowledged"] for rank in seen.values())
    for message_id in seen:
        assert_complete(pair, message_id)


# -- one alarm per incident ------------------------------------------------------------------


def test_a_clock_offset_that_refuses_message_after_message_raises_one_alarm(
    pair: Pair, clock: FakeClock
) -> None:
    """us's clock is 400 s ahead of ru's (ru allows 300 s): every message is refused as
    created in the future, until ru's clock has caught up with it; sent 10 s apart, they
    pass one at a time, each refused in its turn. One incident: one alarm, cleared when
    the line passes."""
    ru_clock = FakeClock(clock.now() - timedelta(seconds=400))
    pair.ru.line.clock = ru_clock
    count = 8
    for n in range(count):
        pair.us.line.send(to="ru", text=f"m{n}", user="duty")
        clock.advance(10)
        ru_clock.advance(10)
    refused = 0
    for _ in range(40):
        outcome = pair.deliver("us", "ru")
        if outcome is None:
            break
        refused += outcome.error is not None and "clock_skew" in outcome.error
        clock.advance(10)
        ru_clock.advance(10)
    assert refused >= count  # each message was refused at least once
    assert len(pair.ru.line.listing("in")) == count

    [alarm] = pair.us.alarms.listing()
    assert ("delivery_refused", "ru", "cleared", "auto") == (
        alarm["kind"],
        alarm["subject"],
        alarm["state"],
        alarm["cleared_by"],
    )
    first, last = pair.us.line.listing("out")[-1], pair.us.line.listing("out")[0]
    detail = alarm["detail"]
    assert (count, refused, first["id"], last["id"], "clock_skew") == (
        detail["messages"],
        detail["refusals"],
        detail["first_message"],
        detail["last_message"],
        detail["code"],
    )
    assert alarm["duration_s"] > 0


def test_an_alarm_cleared_after_the_clock_stepped_back_lasted_0_s_not_less(
    pair: Pair, clock: FakeClock
) -> None:
    sent = pair.us.line.send(to="ru", text="Hello", user="duty")
    forge = lambda _i, receipt: receipt | {"received": "2020-01-01T00:00:00.000Z"}  # noqa: E731
    with tampering_peer(pair, forge):
        pair.deliver("us", "ru")
    [alarm] = pair.us.alarms.listing("open")
    assert (alarm["subject"], alarm["detail"]["last_message"]) == ("ru", sent["id"])

    clock.set(clock.now() - timedelta(seconds=90))  # NTP steps the clock back
    pair.us.add_peer(pair.ru.identity.card().wire())  # ru's real endpoint again
    pair.flush()

    [cleared] = pair.us.alarms.listing("cleared")
    assert (alarm["id"], 0) == (cleared["id"], cleared["duration_s"])
    assert cleared["cleared_at"] < cleared["raised_at"]  # as the clocks said


# -- migration 0006_states -----------------------------------------------------------------


def test_the_migration_reopens_messages_acknowledged_without_a_receipt(pair: Pair) -> None:
    """A database written by an older version: a message marked acknowledged with no
    receipt, and an open per-message alarm. 0006_states re-opens the one (kept acked) and
    makes the other the peer's alarm; the line then fetches the receipt and clears it."""
    sent = pair.us.line.send(to="ru", text="Before 0006", precedence="FLASH", user="duty")
    with link() as (transport, client):
        transport.lose_answers = True
        over(pair, "us", "ru", client)
    pair.ru.line.acknowledge(sent["id"], "ofitser")
    pair.deliver("ru", "us")
    old_alarm = {"peer": "ru", "code": "clock_skew", "reason": "in the future"}
    with pair.us.db.write() as conn:  # what versions before 0006_states left behind
        conn.execute(
            update(messages).where(messages.c.id == sent["id"]).values(state="acknowledged")
        )
        insert_alarm(conn, "delivery_refused", sent["id"], pair.us.line.now(), old_alarm)
        # back to before 0006_states (other branches' heads after 0005_operators stay;
        # the 0007 revisions built on 0006_states run again: they keep what they find)
        conn.execute(
            text(
                "DELETE FROM alembic_version"
                " WHERE version_num = '0006_states' OR version_num LIKE '0007%'"
                " OR version_num LIKE '0008%' OR version_num LIKE '0009%'"
            )
        )
        # 0007_volumes and 0008_alarm_seen also merged the conflicts and links branches:
        # their heads come back with them gone
        for head in ("0003_conflicts", "0003_links"):
            conn.execute(text(f"INSERT INTO alembic_version (version_num) VALUES ('{head}')"))
    assert pair.deliver("us", "ru") is None  # not offered: it looks acknowledged

    pair.us.db.migrate()  # 0006_states runs

    reopened = pair.us.line.show(sent["id"])
    assert ("sent", None, "ru:ofitser") == (
        reopened["state"],
        reopened["receipt"],
        reopened["acked_by"],
    )
    assert ("reopened", "acknowledged") == (
        reopened["trail"][-1]["kind"],
        reopened["trail"][-1]["detail"]["was"],
    )
    [alarm] = pair.us.alarms.listing("open")
    assert ("ru", sent["id"]) == (alarm["subject"], alarm["detail"]["last_message"])

    pair.flush()
    assert_complete(pair, sent["id"])
    assert [] == pair.us.alarms.listing("open")


def test_a_round_trip_measured_across_a_clock_step_back_is_0_ms_not_less(
    pair: Pair, clock: FakeClock
) -> None:
    test = pair.us.links.send_test("ru")
    pair.deliver("us", "ru")
    clock.set(clock.now() - timedelta(seconds=5))  # NTP steps both clocks back
    pair.deliver("ru", "us")  # the automatic answer
    done = pair.us.links.get_test("ru", test["id"])
    assert ("passed", 0) == (done["state"], done["rtt_ms"])


def test_two_officers_acknowledging_at_once_send_one_ack_and_both_sides_agree_who(
    pair: Pair,
) -> None:
    """Two acknowledgements of one received message race (two API requests, or two
    processes): one ack goes out, and both officers' answers and both nodes name the same
    officer. Writers take turns (the log's lock, taken first), so the second finds the
    first's record; were they ever to interleave, ``acknowledge_received``'s guard rolls
    the second back whole."""
    sent = pair.us.line.send(to="ru", text="Who read it?", precedence="FLASH", user="duty")
    pair.flush()
    line = pair.ru.line
    start = threading.Barrier(2, timeout=60)
    answers: dict[str, dict[str, Any]] = {}

    def officer(name: str) -> None:
        start.wait()
        answers[name] = line.acknowledge(sent["id"], name)

    threads = [threading.Thread(target=officer, args=(n,)) for n in ("ofitser", "drugoy")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert {"ofitser", "drugoy"} == set(answers), "an acknowledgement did not finish"
    first, second = answers["ofitser"], answers["drugoy"]
    assert (first["acked_by"], first["ack_message_id"]) == (
        second["acked_by"],
        second["ack_message_id"],
    )
    winner = first["acked_by"]
    acks = [m for m in pair.ru.line.listing("out") if m["type"] == "ack"]
    assert 1 == len(acks)
    pair.flush()
    assert ("acknowledged", f"ru:{winner}") == (
        pair.us.line.show(sent["id"])["state"],
        pair.us.line.show(sent["id"])["acked_by"],
    )
