"""The line's hot path does less per message and keeps every guarantee while doing so.

- a send writes its rows and answers without reading them back;
- a transaction appending several log entries (a received batch, a batch of receipts)
  reads and writes the log's state once, and every receipt's log head is still exact;
- a received batch needs no savepoint per envelope unless a hook can refuse it; when
  writes fail all the same, nothing of that envelope is kept and what came before is;
- the next batch goes out while the previous receipts are recorded (pipelined), and a
  failure of the batch ahead leaves the channel to resume from its first unreceipted
  message, which the receiver answers with its stored receipts.

Statements are counted with SQLAlchemy's ``before_cursor_execute`` event: the counts are
facts about the work done, not timings (speed is measured in benchmarks/bench_line.py).
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import event, select

from hotline.domain.line import Receipt
from hotline.errors import NotFound, ValidationError, WireError
from hotline.node import Node
from hotline.protocol import merkle
from hotline.protocol.envelope import parse, verify_signature
from hotline.services.line.delivery import Courier
from hotline.storage import log
from hotline.storage import messages as store
from hotline.storage.tables.core import log_entries, messages
from tests.conftest import HTTP_TIMEOUT_S, MakePair, Pair


@contextlib.contextmanager
def statements(node: Node) -> Iterator[list[str]]:
    """Every SQL statement ``node`` runs inside the block, as sent to the driver."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(" ".join(statement.split()))

    engines = {id(e): e for e in (node.db._writer, node.db._reader)}.values()
    for engine in engines:
        event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", record)


def matching(seen: list[str], pattern: str) -> list[str]:
    return [s for s in seen if re.search(pattern, s, re.IGNORECASE)]


def log_is_consistent(node: Node) -> None:
    """The stored state's head is the root of the stored entries, in order, no gaps."""
    with node.db.read() as conn:
        head = log.head(conn)
        rows = conn.execute(
            select(log_entries.c.idx, log_entries.c.entry, log_entries.c.leaf_hash).order_by(
                log_entries.c.idx
            )
        ).all()
    assert list(range(len(rows))) == [int(r[0]) for r in rows]
    assert all(merkle.leaf_hash(bytes(r[1])) == bytes(r[2]) for r in rows)
    assert head.size == len(rows)
    assert head.root == merkle.root_from_hashes([bytes(r[2]) for r in rows])


def test_a_send_answers_without_reading_its_message_back(pair: Pair) -> None:
    pair.us.line.send(to="ru", text="first", user="o")  # the channel row exists after it
    with statements(pair.us) as seen:
        sent = pair.us.line.send(to="ru", text="second", user="o")
    assert [] == matching(seen, r"^SELECT .* FROM messages")
    # the state is read once; on PostgreSQL the log's row is also locked first, before
    # anything else (the lock order of storage/db.py), by a statement of its own
    assert 1 == len(matching(seen, r"^SELECT log_state.size, log_state.frontier FROM log_state"))
    first_lock = [] if pair.us.db.is_sqlite else [r"^SELECT log_state.id FROM log_state"]
    assert [bool(matching(seen[:1], p)) for p in first_lock] == [True] * len(first_lock)
    assert 1 == len(matching(seen, r"^UPDATE log_state"))
    # and the answer is what reading it back gives
    assert {k: v for k, v in pair.us.line.show(sent["id"]).items() if k in sent} == sent


def test_a_received_batch_reads_and_writes_the_log_state_once(make_pair: MakePair) -> None:
    with make_pair(us={"batch_size": 8}) as pair:
        sent = [pair.us.line.send(to="ru", text=f"m{i}", user="o")["id"] for i in range(6)]
        with statements(pair.ru) as received, statements(pair.us) as recorded:
            outcome = pair.deliver("us", "ru")
        assert outcome is not None and (6, None) == (outcome.delivered, outcome.error)
        for seen in (received, recorded):
            assert 1 == len(
                matching(seen, r"^SELECT log_state.size, log_state.frontier FROM log_state")
            )
            assert 1 == len(matching(seen, r"^UPDATE log_state"))
            assert 1 == len(matching(seen, r"^INSERT INTO log_entries"))  # all rows at once
        # nothing can refuse a text once checked: no savepoint, and one read for the ids
        assert [] == matching(received, r"SAVEPOINT")
        assert 1 == len(matching(received, r"^SELECT .* FROM messages"))
        for node in (pair.us, pair.ru):
            log_is_consistent(node)
        # each receipt names the log head just after its envelope went in, exactly
        with pair.ru.db.read() as conn:
            leaves = log.leaf_hashes(conn, log.head(conn).size)
        for message_id in sent:
            receipt = parse(pair.us.line.show(message_id)["receipt"], Receipt)
            verify_signature(receipt, pair.ru.identity.key.public_key())
            assert merkle.root_from_hashes(leaves[: receipt.log_size]).hex() == receipt.log_root
            assert receipt.log_index == receipt.log_size - 1


def test_a_hook_refusing_an_envelope_takes_back_its_writes_and_keeps_the_rest(
    make_pair: MakePair,
) -> None:
    with make_pair(us={"batch_size": 8}) as pair:
        sent = [pair.us.line.send(to="ru", text=f"m{i}", user="o")["id"] for i in range(4)]

        def refuse_the_third(conn: Any, envelope: Any, now: str) -> None:
            # writes first (a reply queued, so log entries too), then refuses
            pair.ru.line.enqueue(
                conn, to="us", type_="text", body={"text": "re"}, precedence="ROUTINE",
                lang="en", user=None,
            )  # fmt: skip
            if envelope.id == sent[2]:
                raise WireError("the hook refuses this one")

        pair.ru.line.on_receive("text", refuse_the_third)
        with statements(pair.ru) as seen:
            outcome = pair.deliver("us", "ru")
        assert outcome is not None and 2 == outcome.delivered
        assert matching(seen, r"SAVEPOINT")  # a hook: every envelope in its own
        assert sent[:2] == [m["id"] for m in reversed(pair.ru.line.listing("in"))]
        assert 2 == len(pair.ru.line.listing("out"))  # the refused one's reply is gone
        log_is_consistent(pair.ru)
        with pair.ru.db.read() as conn:
            kinds = [r[0] for r in conn.execute(select(log_entries.c.kind))]
        assert 6 == len(kinds)  # 2 × (envelope_in, receipt_out, envelope_out)


def test_writes_failing_outside_a_savepoint_keep_what_came_before(
    make_pair: MakePair, monkeypatch: pytest.MonkeyPatch
) -> None:
    with make_pair(us={"batch_size": 8}) as pair:
        sent = [pair.us.line.send(to="ru", text=f"m{i}", user="o")["id"] for i in range(4)]
        real = store.add_event

        def failing(conn: Any, message_id: str, at: str, kind: str, **detail: Any) -> None:
            if message_id == sent[2] and kind == "received":
                raise ValidationError("the database refused a value")
            real(conn, message_id, at, kind, **detail)

        monkeypatch.setattr(store, "add_event", failing)
        outcome = pair.deliver("us", "ru")
        assert outcome is not None and 2 == outcome.delivered
        assert outcome.error is not None and "malformed" in outcome.error
        with pair.ru.db.read() as conn:
            ids = [r[0] for r in conn.execute(select(messages.c.id).order_by(messages.c.seq))]
        assert sent[:2] == ids  # nothing of the third, nothing after it
        log_is_consistent(pair.ru)
        monkeypatch.setattr(store, "add_event", real)
        pair.flush()
        assert sent == [m["id"] for m in reversed(pair.ru.line.listing("in"))]
        log_is_consistent(pair.ru)


class Flaky(httpx.BaseTransport):
    """Real HTTP, except that request number ``fail_at`` (from 1) fails: before it is sent
    (``lose="request"``) or after the peer has answered it (``lose="answer"``)."""

    def __init__(self, fail_at: int, lose: str) -> None:
        self.inner = httpx.HTTPTransport()
        self.fail_at, self.lose, self.count = fail_at, lose, 0
        self.bodies: list[bytes] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.count += 1
        request.read()
        self.bodies.append(request.content)
        if self.count == self.fail_at and self.lose == "request":
            raise httpx.ConnectError("cut before sending", request=request)
        response = self.inner.handle_request(request)
        if self.count == self.fail_at and self.lose == "answer":
            response.read()
            raise httpx.ReadError("cut after the peer answered", request=request)
        return response

    def close(self) -> None:
        self.inner.close()


def in_order(pair: Pair) -> list[str]:
    with pair.ru.db.read() as conn:
        rows = conn.execute(
            select(messages.c.id).where(messages.c.direction == "in").order_by(messages.c.seq)
        )
        return [r[0] for r in rows]


def test_the_next_batch_goes_out_while_the_previous_receipts_are_recorded(
    make_pair: MakePair,
) -> None:
    with make_pair(us={"batch_size": 2}) as pair:
        sent = [pair.us.line.send(to="ru", text=f"m{i}", user="o")["id"] for i in range(5)]
        transport = Flaky(fail_at=0, lose="")
        with httpx.Client(transport=transport, timeout=HTTP_TIMEOUT_S) as client:
            first = Courier(pair.us.line, "ru", client).deliver_once()
            assert first is not None and (4, None) == (first.delivered, first.error)
            assert 2 == transport.count  # two batches in one round
            second = Courier(pair.us.line, "ru", client).deliver_once()
            assert second is not None and 1 == second.delivered
        assert sent == in_order(pair)
        assert all(pair.us.line.show(i)["state"] == "delivered" for i in sent)
        log_is_consistent(pair.us)


@pytest.mark.parametrize("lose", ["request", "answer"])
def test_a_failed_batch_ahead_resumes_from_the_first_unreceipted_message(
    make_pair: MakePair, lose: str
) -> None:
    with make_pair(us={"batch_size": 2}) as pair:
        sent = [pair.us.line.send(to="ru", text=f"m{i}", user="o")["id"] for i in range(6)]
        with httpx.Client(transport=Flaky(2, lose), timeout=HTTP_TIMEOUT_S) as client:
            outcome = Courier(pair.us.line, "ru", client).deliver_once()
        assert outcome is not None and 2 == outcome.delivered and outcome.error
        states = [pair.us.line.show(i)["state"] for i in sent]
        assert ["delivered"] * 2 + ["sent"] + ["queued"] * 3 == states
        trail = pair.us.line.show(sent[2])["trail"]
        assert "attempt_failed" == trail[-1]["kind"]
        # received but unrecorded ("answer" lost): stored once, its receipt given again
        assert sent[: 4 if lose == "answer" else 2] == in_order(pair)
        pair.flush()
        assert sent == in_order(pair)
        for message_id in sent:
            shown = pair.us.line.show(message_id)
            assert "delivered" == shown["state"]
            assert 1 == [s["kind"] for s in shown["trail"]].count("delivered")
        with pair.ru.db.read() as conn:
            kinds = [r[0] for r in conn.execute(select(log_entries.c.kind))]
        assert 6 == kinds.count("envelope_in") == kinds.count("receipt_out")
        for node in (pair.us, pair.ru):
            log_is_consistent(node)


def test_the_batch_body_is_the_stored_envelopes_joined(make_pair: MakePair) -> None:
    with make_pair(us={"batch_size": 4}) as pair:
        for i in range(3):
            pair.us.line.send(to="ru", text=f"m{i}", user="o")
        transport = Flaky(fail_at=0, lose="")
        with httpx.Client(transport=transport, timeout=HTTP_TIMEOUT_S) as client:
            Courier(pair.us.line, "ru", client).deliver_once()
        with pair.us.db.read() as conn:
            stored = [r[0] for r in conn.execute(select(messages.c.envelope).order_by("seq"))]
        assert [{"envelopes": [json.loads(s) for s in stored]}] == [
            json.loads(b) for b in transport.bodies
        ]


class Held:
    """Holds the first group's write until released, so that the sends started meanwhile
    queue behind it: concurrency made certain, without sleeping."""

    def __init__(self, line: Any) -> None:
        self.line = line
        self.real = line._write_group
        self.release = threading.Event()
        self.groups: list[list[str]] = []
        line._write_group = self

    def __call__(self, items: list[Any]) -> None:
        self.groups.append([item.body.get("text", "") for item in items])
        if len(self.groups) == 1:
            assert self.release.wait(HTTP_TIMEOUT_S)
        self.real(items)

    def wait_leading(self) -> None:
        """Until the first send is inside its (held) write."""
        deadline = time.monotonic() + HTTP_TIMEOUT_S
        while not self.groups:
            assert time.monotonic() < deadline, "the first send did not start writing"
            time.sleep(0.005)  # polling a condition, with a deadline

    def wait_queued(self, count: int) -> None:
        deadline = time.monotonic() + HTTP_TIMEOUT_S
        while len(self.line._commits._queue) < count:
            assert time.monotonic() < deadline, "the sends did not queue"
            time.sleep(0.005)  # polling a condition, with a deadline


def send_all(line: Any, sends: list[dict[str, Any]]) -> tuple[list[Any], list[threading.Thread]]:
    results: list[Any] = [None] * len(sends)

    def one(index: int) -> None:
        try:
            results[index] = line.send(user="o", **sends[index])
        except Exception as exc:
            results[index] = exc

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(sends))]
    return results, threads


def test_concurrent_sends_share_one_commit_and_each_gets_its_own_answer(pair: Pair) -> None:
    held = Held(pair.us.line)
    first, first_threads = send_all(pair.us.line, [{"to": "ru", "text": "lead"}])
    first_threads[0].start()
    held.wait_leading()
    sends = [{"to": "ru", "text": f"c{i}"} for i in range(5)]
    sends.insert(2, {"to": "nobody", "text": "to no peer"})  # refused alone
    sends.insert(4, {"to": "ru", "text": "again", "client_ref": "r1"})
    sends.insert(5, {"to": "ru", "text": "again", "client_ref": "r1"})  # the same one
    results, threads = send_all(pair.us.line, sends)
    for thread in threads:
        thread.start()
    held.wait_queued(len(sends))
    with statements(pair.us) as seen:
        held.release.set()
        for thread in [*first_threads, *threads]:
            thread.join(HTTP_TIMEOUT_S)
    assert 2 == len(held.groups)  # the leader's, then all the others in one
    assert [["lead"], [s["text"] for s in sends]] == held.groups
    assert 2 == len(matching(seen, r"^UPDATE log_state"))  # one per group, not per send
    assert isinstance(results[2], NotFound)
    assert results[4]["id"] == results[5]["id"]  # idempotent within one group too
    ok = [r for r in [*first, *results] if isinstance(r, dict)]
    assert 1 + 5 + 2 == len(ok)
    with pair.us.db.read() as conn:
        rows = conn.execute(
            select(messages.c.id, messages.c.seq).where(messages.c.direction == "out")
        ).all()
    assert sorted(r["id"] for r in ok if r is not results[5]) == sorted(r[0] for r in rows)
    assert list(range(1, 8)) == sorted(r[1] for r in rows)  # one chain, no gap
    for answer in ok:
        assert {k: v for k, v in pair.us.line.show(answer["id"]).items() if k in answer} == answer
    log_is_consistent(pair.us)
    pair.flush()
    assert 7 == len(pair.ru.line.listing("in"))


def test_a_send_failing_in_a_group_fails_alone(pair: Pair, monkeypatch: pytest.MonkeyPatch) -> None:
    held = Held(pair.us.line)
    first, first_threads = send_all(pair.us.line, [{"to": "ru", "text": "lead"}])
    first_threads[0].start()
    held.wait_leading()
    real = store.insert_message

    def failing(conn: Any, **values: Any) -> None:
        if '"poison"' in values["envelope"]:
            raise RuntimeError("the database failed on this one")
        real(conn, **values)

    monkeypatch.setattr(store, "insert_message", failing)
    sends = [{"to": "ru", "text": t} for t in ("a", "poison", "b")]
    results, threads = send_all(pair.us.line, sends)
    for thread in threads:
        thread.start()
    held.wait_queued(len(sends))
    held.release.set()
    for thread in [*first_threads, *threads]:
        thread.join(HTTP_TIMEOUT_S)
    assert isinstance(results[1], RuntimeError)
    assert ["lead", "a", "b"] == [
        r["body"]["text"]
        for r in sorted([first[0], results[0], results[2]], key=lambda r: r["seq"])
    ]
    assert [1, 2, 3] == sorted(r["seq"] for r in (first[0], results[0], results[2]))
    log_is_consistent(pair.us)
