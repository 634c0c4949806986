"""Concurrent sends through a real node's API, group-committed and delivered in pipelined
batches to a real peer over mutual TLS: every message arrives once, in order, with a
receipt that verifies, and both Merkle logs hold exactly what their tables say."""

from __future__ import annotations

import json
import threading

import httpx
from sqlalchemy import select

from hotline.domain.line import Receipt
from hotline.protocol import merkle
from hotline.protocol.envelope import parse
from hotline.storage import log
from hotline.storage.db import Database
from hotline.storage.tables.core import log_entries, messages
from hotline.testing import verify_for, wait_for
from tests.e2e.conftest import Processes
from tests.e2e.test_kill import login

THREADS, EACH = 4, 60


def rows(url: str, direction: str) -> list[tuple[int, str, str, str | None]]:
    db = Database(url)
    try:
        with db.read() as conn:
            found = conn.execute(
                select(messages.c.seq, messages.c.id, messages.c.state, messages.c.receipt)
                .where(messages.c.direction == direction, messages.c.type == "text")
                .order_by(messages.c.seq)
            )
            return [(int(r[0]), r[1], r[2], r[3]) for r in found]
    finally:
        db.dispose()


def log_holds_its_entries(url: str) -> None:
    db = Database(url)
    try:
        with db.read() as conn:
            head = log.head(conn)
            leaves = conn.execute(
                select(log_entries.c.idx, log_entries.c.leaf_hash).order_by(log_entries.c.idx)
            ).all()
    finally:
        db.dispose()
    assert list(range(head.size)) == [int(r[0]) for r in leaves]
    assert head.root == merkle.root_from_hashes([bytes(r[1]) for r in leaves])


def test_concurrent_sends_arrive_once_in_order_with_receipts(processes: Processes) -> None:
    processes.us.env["HOTLINE_BATCH_SIZE"] = "8"  # many batches: the pipeline runs
    # No link tests: answering one locks the inbound channel, the log, then the outbound
    # channel, which deadlocks with sends on PostgreSQL (issue 14 item 2, its own piece).
    for party in ("us", "ru"):
        processes.node(party).env["HOTLINE_LINK_TEST_INTERVAL_S"] = "3600"
    processes.us.start()
    processes.ru.start()
    token = login(processes.us.url, "us")
    answers: list[list[str]] = [[] for _ in range(THREADS)]
    errors: list[BaseException] = []

    def send(k: int) -> None:
        try:
            with httpx.Client(
                base_url=processes.us.url,
                timeout=60,
                verify=verify_for(processes.us.url),
                headers={"Authorization": f"Bearer {token}"},
            ) as http:
                for i in range(EACH):
                    response = http.post("/api/v1/messages", json={"to": "ru", "text": f"{k}-{i}"})
                    response.raise_for_status()
                    answers[k].append(response.json()["id"])
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=send, args=(k,)) for k in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300)
    assert [] == errors
    total = THREADS * EACH
    wait_for(
        lambda: sum(r[2] == "delivered" for r in rows(processes.db_urls["us"], "out")) == total,
        "every message to be delivered",
        timeout=300,
    )
    processes.us.stop()
    processes.ru.stop()

    sent = rows(processes.db_urls["us"], "out")
    received = rows(processes.db_urls["ru"], "in")
    assert sorted(i for ids in answers for i in ids) == sorted(r[1] for r in sent)
    # each sender's messages in the order it sent them, the channel without gap
    seq_of = {r[1]: r[0] for r in sent}
    for ids in answers:
        assert sorted(seq_of[i] for i in ids) == [seq_of[i] for i in ids]
    assert [r[:2] for r in sent] == [r[:2] for r in received]
    assert len({r[1] for r in received}) == total
    for (_, message_id, _, receipt_text), (_, _, _, stored) in zip(sent, received, strict=True):
        assert receipt_text is not None and receipt_text == stored  # the receipt it signed
        assert message_id == parse(json.loads(receipt_text), Receipt).envelope_id
    for party in ("us", "ru"):
        log_holds_its_entries(processes.db_urls[party])
