"""Ordinary load on PostgreSQL gives no HTTP 500 (issue 14, item 2).

Two real ``hotline serve`` processes, each on its own PostgreSQL database; on each, three
threads send through the operator API and one acknowledges what arrives, while link tests
run every second. Before the line's transactions took their locks in one order, sending
(outbound channel, then ``log_state``), receiving a link test (inbound channel,
``log_state``, outbound channel) and recording a receipt against receiving an ack (the
message row and ``log_state`` in opposite orders) deadlocked, and the operator saw 500s.

The load is a fixed count of operations, not a length of time, so the test does the same
work on a fast or a busy machine; every wait has a generous deadline.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

import httpx
import pytest

from hotline.testing import DatabaseFactory, api, wait_for
from tests.e2e.conftest import PASSWORDS, Processes

SENDERS_PER_NODE = 3
SENDS_PER_THREAD = 80


def _token(url: str, party: str, verify: Any) -> str:
    answer = httpx.post(
        url + "/api/v1/login",
        json={"user": "officer", "password": PASSWORDS[party]},
        timeout=60,
        verify=verify,
    )
    answer.raise_for_status()
    return str(answer.json()["token"])


@pytest.fixture
def postgresql_only(databases: DatabaseFactory) -> None:
    """Skip before two nodes are made for nothing: the deadlocks were PostgreSQL's
    (SQLite has one writer at a time)."""
    if databases.backend != "postgresql":
        pytest.skip("PostgreSQL's deadlocks")


def test_concurrent_sends_acks_and_link_tests_never_fail_on_postgresql(
    postgresql_only: None, processes: Processes
) -> None:
    processes.us.env["HOTLINE_LINK_TEST_INTERVAL_S"] = "1"  # one env dict for both nodes
    processes.us.start()
    processes.ru.start()
    peer = {"us": "ru", "ru": "us"}
    tokens = {p: _token(processes.node(p).url, p, processes.node(p).verify) for p in peer}
    statuses: Counter[tuple[str, int]] = Counter()
    failures: list[str] = []
    guard = threading.Lock()
    senders_done = threading.Event()

    def record(what: str, answer: httpx.Response) -> None:
        with guard:
            statuses[(what, answer.status_code)] += 1
            if answer.status_code >= 500:
                failures.append(f"{what} {answer.status_code}: {answer.text[:300]}")

    def send(party: str, thread: int) -> None:
        with api(processes.node(party), tokens[party]) as client:
            for n in range(SENDS_PER_THREAD):
                answer = client.post(
                    "/api/v1/messages",
                    json={"to": peer[party], "text": f"{party}-{thread}-{n}"},
                )
                record("send", answer)

    def acknowledge(party: str) -> None:
        with api(processes.node(party), tokens[party]) as client:
            while True:
                last_round = senders_done.is_set()
                inbox = client.get("/api/v1/inbox", params={"limit": 100})
                record("inbox", inbox)
                for message in inbox.json() if inbox.status_code == 200 else []:
                    if message["acked_at"] is None:
                        record("ack", client.post(f"/api/v1/messages/{message['id']}/ack"))
                if last_round:
                    return

    def guarded(fn: Any, *args: Any) -> Any:
        def run() -> None:
            try:
                fn(*args)
            except Exception as exc:  # a crashed thread is a failure, not a silence
                with guard:
                    failures.append(f"{fn.__name__}{args}: {exc!r}")

        return run

    senders = [
        threading.Thread(target=guarded(send, party, i), daemon=True)
        for party in peer
        for i in range(SENDERS_PER_NODE)
    ]
    ackers = [threading.Thread(target=guarded(acknowledge, party), daemon=True) for party in peer]
    for thread in senders + ackers:
        thread.start()
    for thread in senders:
        thread.join(timeout=600)
    senders_done.set()
    for thread in ackers:
        thread.join(timeout=600)
    assert not any(t.is_alive() for t in senders + ackers), "the load did not finish"

    assert [] == failures, f"{len(failures)} failures; statuses {dict(statuses)}"
    sent = SENDERS_PER_NODE * SENDS_PER_THREAD
    assert {("send", 201): 2 * sent} == {k: v for k, v in statuses.items() if k[0] == "send"}

    # and the line carried it all: every message delivered once, then acknowledged
    def all_acknowledged(party: str) -> bool:
        with api(processes.node(peer[party]), tokens[peer[party]]) as client:
            for message in client.get("/api/v1/inbox", params={"limit": 5000}).json():
                if message["acked_at"] is None:  # arrived after the acknowledgers stopped
                    record("ack", client.post(f"/api/v1/messages/{message['id']}/ack"))
        with api(processes.node(party), tokens[party]) as client:
            outbox = client.get("/api/v1/outbox", params={"limit": 5000}).json()
        return len(outbox) == sent and all(m["state"] == "acknowledged" for m in outbox)

    for party in peer:
        wait_for(
            lambda p=party: all_acknowledged(p),  # type: ignore[misc]
            f"{party}'s messages acknowledged",
            timeout=300,
            every=1,
        )
    assert [] == failures
