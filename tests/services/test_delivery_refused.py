"""A message the peer refuses, or whose receipt does not verify, blocks its channel (order
is kept): the sender's duty officer is alerted once per incident (one alarm per peer,
naming the message held up), with the reason, and the alarm clears when the line passes.
Also the worker's backoff, and the limit on it."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from hotline.config import load_settings
from hotline.domain.line import Receipt
from hotline.errors import ConfigError
from hotline.protocol.envelope import seal
from hotline.services.line.delivery import FEDERATION_PATH, DeliveryWorker, Outcome
from hotline.services.runtime.jobs import Runner, backoff_delay
from hotline.testing import HTTP_TIMEOUT_S, ServerThread
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
    assert ("delivery_refused", "ru", sent["id"], "unknown_key", 1, 2) == (
        alarm["kind"],
        alarm["subject"],
        alarm["detail"]["last_message"],
        alarm["detail"]["code"],
        alarm["detail"]["messages"],
        alarm["detail"]["refusals"],
    )
    assert [] == pair.ru.line.listing("in")  # nothing stored on the refusing side

    pair.ru.add_peer(pair.us.identity.card().wire())  # the right card, compared out of band
    pair.flush()

    assert [] == pair.us.alarms.listing("open")
    [cleared] = pair.us.alarms.listing("cleared")
    assert ("delivery_refused", "delivered") == (cleared["kind"], cleared["clear_reason"])
    assert ["Hello"] == [m["body"]["text"] for m in pair.ru.line.listing("in")]


# -- a peer whose receipts do not hold up ---------------------------------------------------

Tamper = Callable[[Pair, dict[str, Any]], dict[str, Any]]


def _resigned(pair: Pair, receipt: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """The receipt changed and signed again with ru's real key: only its content is wrong."""
    unsigned = {k: v for k, v in receipt.items() if k != "sig"} | changes
    return seal(unsigned, pair.ru.identity.key, Receipt).wire()


TAMPERS: dict[str, tuple[Tamper, str, str]] = {
    "forged signature": (
        lambda pair, r: r | {"received": "2020-01-01T00:00:00.000Z"},
        "bad_signature",
        "signature does not verify",
    ),
    "wrong hash": (
        lambda pair, r: _resigned(pair, r, envelope_hash="0" * 64),
        "bad_signature",
        "the receipt is for",
    ),
    "wrong parties": (
        lambda pair, r: _resigned(pair, r, to="ua"),
        "malformed",
        "the receipt names the wrong parties",
    ),
}


@contextmanager
def tampering_peer(
    pair: Pair, tamper: Callable[[int, dict[str, Any]], dict[str, Any]]
) -> Iterator[ServerThread]:
    """A real HTTP peer in front of ru: it passes envelopes on, and tampers with receipts.

    ``us`` pins ru's card with this peer as its only endpoint, so ru really stores what
    arrives; only the answer ``us`` gets is changed by ``tamper(index, receipt)``.
    """
    ru_url = pair.servers["ru"].url

    async def envelopes(request: Request) -> JSONResponse:
        async with httpx.AsyncClient(timeout=HTTP_TIMEOUT_S) as client:
            answer = await client.post(
                ru_url + FEDERATION_PATH,
                content=await request.body(),
                headers={"content-type": "application/json"},
            )
        body = answer.json()
        body["receipts"] = [tamper(i, r) for i, r in enumerate(body["receipts"])]
        return JSONResponse(body, status_code=answer.status_code)

    app = Starlette(routes=[Route(FEDERATION_PATH, envelopes, methods=["POST"])])
    with ServerThread(app) as server:
        pair.us.add_peer(replace(pair.ru.identity, endpoints=(server.url,)).card().wire())
        yield server


@pytest.mark.parametrize("case", sorted(TAMPERS))
def test_a_receipt_that_does_not_hold_up_leaves_the_message_undelivered(
    pair: Pair, case: str
) -> None:
    change, code, words = TAMPERS[case]
    sent = pair.us.line.send(to="ru", text="Hello", user="duty")
    with tampering_peer(pair, lambda _i, receipt: change(pair, receipt)):
        outcome = pair.deliver("us", "ru")

    assert outcome is not None and 0 == outcome.delivered
    assert "bad receipt from " in (outcome.error or "") and words in (outcome.error or "")
    shown = pair.us.line.show(sent["id"])
    assert ("sent", 1, None) == (shown["state"], shown["attempts"], shown["receipt"])
    failed = shown["trail"][-1]
    assert ("attempt_failed", code) == (failed["kind"], failed["detail"]["code"])
    [alarm] = pair.us.alarms.listing("open")
    assert ("delivery_refused", "ru", sent["id"], code) == (
        alarm["kind"],
        alarm["subject"],
        alarm["detail"]["last_message"],
        alarm["detail"]["code"],
    )


def test_a_bad_receipt_inside_a_batch_keeps_the_receipts_before_it(pair: Pair) -> None:
    first = pair.us.line.send(to="ru", text="one", user="duty")
    second = pair.us.line.send(to="ru", text="two", user="duty")
    forge, _code, _words = TAMPERS["forged signature"]
    with tampering_peer(pair, lambda i, receipt: forge(pair, receipt) if i == 1 else receipt):
        outcome = pair.deliver("us", "ru")

    assert outcome is not None and 1 == outcome.delivered
    assert "bad receipt from " in (outcome.error or "")
    one, two = pair.us.line.show(first["id"]), pair.us.line.show(second["id"])
    assert ("delivered", 1) == (one["state"], one["attempts"])
    assert ("sent", 1, "attempt_failed") == (
        two["state"],
        two["attempts"],
        two["trail"][-1]["kind"],
    )
    assert [("delivery_refused", "ru", second["id"])] == [
        (a["kind"], a["subject"], a["detail"]["last_message"])
        for a in pair.us.alarms.listing("open")
    ]

    pair.us.add_peer(pair.ru.identity.card().wire())  # straight to ru again
    pair.flush()
    assert "delivered" == pair.us.line.show(second["id"])["state"]
    assert [] == pair.us.alarms.listing("open")


# -- backoff ---------------------------------------------------------------------------------


def test_the_backoff_grows_with_each_failure_and_never_passes_the_cap(
    make_node: MakeNode,
) -> None:
    node = make_node("us", retry_base_s=0.5, retry_cap_s=8.0)
    runner = Runner("test")
    worker = DeliveryWorker(node.line, "ru", runner, seed=42)
    runner.stop()  # each wait returns at once
    failed = Outcome(0, "ru: connection refused")

    delays = [worker.job.pause(worker.next_after(failed)) for _ in range(12)]

    twin = random.Random(42)  # the same draws: uniform in [0, min(cap, base * 2**failures)]
    assert [twin.uniform(0, min(8.0, 0.5 * 2**n)) for n in range(1, 13)] == delays
    assert all(0 <= d <= 8.0 for d in delays)
    assert max(delays[:2]) <= 2.0 < max(delays[4:])  # the ceiling rose from 1 s and 2 s to 8 s
    assert (12, "ru: connection refused") == (worker.failures, worker.last_error)
    assert 0.0 == worker.job.pause(worker.next_after(Outcome(1, None)))  # go on, count from 0
    assert 0 == worker.failures
    assert 8.0 == backoff_delay(1000, 0.5, 8.0, _Highest())


class _Highest(random.Random):
    """Always draws the top of the range: the longest wait the backoff allows."""

    def uniform(self, a: float, b: float) -> float:
        return b


@pytest.mark.parametrize("cap", ["61", "0", "-1"])
def test_a_retry_cap_outside_0_to_60_seconds_is_refused(make_node: MakeNode, cap: str) -> None:
    directory = make_node("us").settings.directory
    assert 60.0 == load_settings(directory, {"HOTLINE_RETRY_CAP_S": "60"}).retry_cap_s
    with pytest.raises(ConfigError) as caught:
        load_settings(directory, {"HOTLINE_RETRY_CAP_S": cap})
    assert f"retry_cap_s must be more than 0 and at most 60 seconds, not {float(cap)}" in str(
        caught.value.message
    )
