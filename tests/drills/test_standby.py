"""The standby drill, for real: a node on a PostgreSQL primary with a synchronous
standby, the primary's postmaster SIGKILLed under load, the standby promoted, and the
node (whose URL names both servers) carrying on by itself.

What an operator was told was accepted (an HTTP 2xx), what the peer holds a receipt of
from us, and every acknowledgement is in the promoted database; the line carries
messages both ways afterwards; the Merkle log is whole and the peer co-signs a checkpoint
of it consistent with the one it co-signed before the crash.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from hotline.protocol import merkle
from hotline.storage import log as merkle_log
from hotline.storage.db import Database
from hotline.storage.tables.core import log_entries, messages
from hotline.testing import wait_for
from hotline.testing_pg import postgres_bin_dir
from tests.drills._line import Sender, StandbyLine

BEFORE = 30  # messages each way before the crash


@pytest.fixture
def line(tmp_path: Path) -> Iterator[StandbyLine]:
    bin_dir = postgres_bin_dir()
    if bin_dir is None:
        if os.environ.get("CI"):
            pytest.fail("CI runs the standby drill: install the PostgreSQL server binaries")
        pytest.skip("the PostgreSQL server binaries (initdb, pg_basebackup) are not installed")
    made = StandbyLine.create(bin_dir, tmp_path)
    try:
        yield made
    finally:
        made.close()
        assert made.primary.leftovers() == [] and made.standby.leftovers() == []


def rows(url: str, direction: str) -> list[tuple[object, ...]]:
    """(seq, id, hash, envelope, type, state) of one direction, in channel order."""
    db = Database(url)
    try:
        with db.read() as conn:
            found = conn.execute(
                select(
                    messages.c.seq,
                    messages.c.id,
                    messages.c.hash,
                    messages.c.envelope,
                    messages.c.type,
                    messages.c.state,
                )
                .where(messages.c.direction == direction)
                .order_by(messages.c.seq)
            )
            return [tuple(r) for r in found]
    finally:
        db.dispose()


def log_is_whole(url: str) -> int:
    """Recompute the Merkle root from every stored entry: each entry hashes to its stored
    leaf hash, indexes run 0, 1, 2 … and the root is the stored head's."""
    db = Database(url)
    try:
        with db.read() as conn:
            head = merkle_log.head(conn)
            entries = conn.execute(
                select(log_entries.c.idx, log_entries.c.entry, log_entries.c.leaf_hash).order_by(
                    log_entries.c.idx
                )
            ).all()
        assert [e.idx for e in entries] == list(range(head.size))
        leaves = [bytes(e.leaf_hash) for e in entries]
        assert leaves == [merkle.leaf_hash(bytes(e.entry)) for e in entries]
        assert merkle.root_from_hashes(leaves) == head.root
        return head.size
    finally:
        db.dispose()


def exchange(line: StandbyLine, party: str) -> None:
    """Have the peer co-sign this node's log now: the peer checks it is consistent with
    every checkpoint it co-signed before (a lost entry is a rollback it refuses)."""
    with line.client(party) as http:
        answer = http.post("/api/v1/log/checkpoint/exchange")
        answer.raise_for_status()
        assert answer.json()["ok"], answer.json()
        forks = http.get("/api/v1/log/forks")
        forks.raise_for_status()
        assert forks.json() == []


def deliveries_answered(line: StandbyLine, status: int) -> int:
    """How many deliveries us's federation listener answered with ``status`` (access log)."""
    path = line.us.directory / "access.log"
    if not path.exists():
        return 0
    found = 0
    for text in path.read_text().splitlines():
        try:
            record = json.loads(text)
        except ValueError:
            continue  # a line still being written
        if record.get("path") == "/federation/v1/envelopes" and record.get("status") == status:
            found += 1
    return found


def ack_all(line: StandbyLine, party: str, ids: list[str]) -> None:
    """Acknowledge each of ``ids`` as ``party``'s officer: each at the first try (the
    lock order of issue 14 item 2 leaves PostgreSQL no deadlock to report)."""
    with line.client(party) as http:
        for message_id in ids:
            answer = http.post(f"/api/v1/messages/{message_id}/ack")
            assert answer.status_code == 200, answer.text


def states_are(line: StandbyLine, party: str, ids: list[str], wanted: set[str]) -> bool:
    outbox = line.outbox(party)
    return all(outbox.get(i) in wanted for i in ids)


@pytest.mark.slow
def test_a_promoted_standby_holds_everything_acknowledged_and_the_node_follows(
    line: StandbyLine,
) -> None:
    line.start()
    us_out = Sender(line, "us", "ru", "us")
    ru_out = Sender(line, "ru", "us", "ru", limit=BEFORE)
    us_out.start()
    ru_out.start()
    us_out.wait_for_count(BEFORE, timeout=120)
    ru_out.wait_for_count(BEFORE, timeout=120)
    ru_out.finish()  # ru's stream stops; us keeps sending through the crash

    # Before the crash: ru's messages in us's inbox, half acknowledged by us's officer;
    # the acknowledgements reach ru (receipts and acks recorded on both sides).
    ru_sent = list(ru_out.accepted)
    wait_for(
        lambda: states_are(line, "ru", ru_sent, {"delivered", "acknowledged"}),
        "ru's messages to be receipted by us",
        timeout=120,
    )
    acked_by_us = ru_sent[::2]
    ack_all(line, "us", acked_by_us)
    wait_for(
        lambda: states_are(line, "ru", acked_by_us, {"acknowledged"}),
        "us's acknowledgements to reach ru",
        timeout=120,
    )
    exchange(line, "us")  # ru co-signs us's log as it is before the crash
    exchange(line, "ru")

    # The crash, with us's sender still sending: SIGKILL of the primary's postmaster.
    accepted_before_kill = len(us_out.accepted)
    line.primary.kill()
    killed_at = time.monotonic()
    # ru sends while us has no database: its deliveries fail, and are resent later.
    with line.client("ru") as http:
        during = [
            http.post("/api/v1/messages", json={"to": "us", "text": f"during-{i}"}).json()["id"]
            for i in range(5)
        ]
    wait_for(lambda: not line.primary.leftovers(), "the primary's processes to end", timeout=60)
    # While there is no primary, the operator is told to retry (503), not shown a 500.
    wait_for(
        lambda: any(at > killed_at for at in us_out.refused_at),
        "a send to be refused while the database is away",
        timeout=60,
    )
    # ... and so is ru's courier, delivering to us's federation listener (no receipts:
    # ru resends later, quietly).
    wait_for(
        lambda: deliveries_answered(line, 503),
        "a delivery from ru to be answered 503 while us's database is away",
        timeout=60,
    )
    line.standby.promote()
    promoted_at = time.monotonic()
    # The node follows by itself: the same URL, the standby is now the read-write one.
    us_out.wait_for_count(len(us_out.accepted) + 20, timeout=180)
    carrying_at = next(t for t in us_out.accepted_at if t > promoted_at)
    us_out.finish()
    us_sent = list(us_out.accepted)

    # What the peer holds a receipt of from us, and what us acknowledged, read at ru.
    ru_outbox = line.outbox("ru")
    receipted_by_us = [i for i in ru_sent if ru_outbox[i] in {"delivered", "acknowledged"}]
    assert set(acked_by_us) <= {i for i in ru_sent if ru_outbox[i] == "acknowledged"}

    # Every message accepted by us's API, before and after, is in the promoted database.
    promoted = line.database_url.replace(line.primary.host() + ",", "")
    us_rows_out = rows(promoted, "out")
    us_ids_out = {r[1] for r in us_rows_out}
    assert set(us_sent) <= us_ids_out, set(us_sent) - us_ids_out
    us_rows_in = {r[1]: r[5] for r in rows(promoted, "in")}
    assert set(receipted_by_us) <= set(us_rows_in)
    assert all(us_rows_in[i] == "acknowledged" for i in acked_by_us)
    # While the database was away, sends were refused with 503 (retry), never a 500.
    outage = [
        code
        for code, at in zip(us_out.refusals, us_out.refused_at, strict=True)
        if killed_at <= at <= promoted_at  # no database: no deadlock either
    ]
    assert outage and set(outage) == {503}, outage
    # and outside it nothing was refused at all (no deadlock: issue 14 item 2)
    assert set(us_out.refusals) <= {503}, us_out.refusals

    # The line carries messages both ways after the promotion, with receipts and acks.
    wait_for(
        lambda: (
            states_are(line, "us", us_sent, {"delivered", "acknowledged"})
            and states_are(line, "ru", during, {"delivered", "acknowledged"})
        ),
        "every message accepted on either side to be receipted by the other",
        timeout=180,
    )
    with line.client("ru") as http:
        alarms = http.get("/api/v1/alarms").json()
    # us's database being away is not a refusal of ru's messages (us answers 503 without
    # receipts: ru's courier retries quietly), so ru raised no delivery_refused alarm.
    refused = [a for a in alarms if a["kind"] == "delivery_refused"]
    assert [] == refused, refused
    after = Sender(line, "ru", "us", "ru-after", limit=10)
    after.start()
    after.wait_for_count(10, timeout=120)
    after.finish()
    wait_for(
        lambda: states_are(line, "ru", after.accepted, {"delivered", "acknowledged"}),
        "ru's new messages to be receipted by the promoted us",
        timeout=120,
    )
    ack_all(line, "us", after.accepted[:5])
    ack_all(line, "ru", us_sent[-5:])
    wait_for(
        lambda: (
            states_are(line, "ru", after.accepted[:5], {"acknowledged"})
            and states_are(line, "us", us_sent[-5:], {"acknowledged"})
        ),
        "acknowledgements both ways after the promotion",
        timeout=120,
    )

    # The evidence: the log recomputes to its head, and each peer co-signs a checkpoint
    # consistent with the one it co-signed before the crash (no rollback, no fork).
    exchange(line, "us")
    exchange(line, "ru")
    assert log_is_whole(promoted) > 0
    line.us.stop()
    line.ru.stop()
    assert "DeadlockDetected" not in (line.us.directory / "serve.log").read_text()
    # The chains: what us sent is exactly what ru received, 1, 2, 3 … (and back).
    ru_db = f"sqlite:///{line.ru.directory / 'hotline.db'}"
    for sent, received in (
        (rows(promoted, "out"), rows(ru_db, "in")),
        (rows(ru_db, "out"), rows(promoted, "in")),
    ):
        assert [r[0] for r in sent] == list(range(1, len(sent) + 1))
        assert [r[:5] for r in sent[: len(received)]] == [r[:5] for r in received]

    print(
        f"\nstandby drill: {accepted_before_kill} sent by us before the kill, "
        f"{len(us_sent)} in all, all in the promoted database; "
        f"{len(receipted_by_us)} receipts and {len(acked_by_us)} acks held by ru, all there; "
        f"promote {promoted_at - killed_at:.2f} s, carrying again "
        f"{carrying_at - killed_at:.2f} s after the kill; refusals {len(us_out.refusals)}"
    )
