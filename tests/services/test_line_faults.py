"""The line when the database fails under it, when a key was rotated, and when a deadline
ladder has run out: what a hostile review of issue 14's hot path found (each test failed
before its fix)."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.exc import OperationalError

from hotline.clock import FakeClock
from hotline.errors import Busy, DatabaseUnavailable
from hotline.protocol import keys
from hotline.services.line.service import _Send
from hotline.storage import db as db_module
from hotline.storage import log
from hotline.storage import messages as store
from hotline.storage.db import after_commit
from tests.conftest import Pair


def _stored(pair: Pair, message_id: str) -> dict[str, Any] | None:
    with pair.us.db.read() as conn:
        return store.get(conn, message_id)


def _outbound_count(pair: Pair) -> int:
    return len(pair.us.line.listing("out"))


@pytest.mark.parametrize(
    "failure",
    [
        DatabaseUnavailable("the primary went away at the commit", hint="retry"),
        Busy("the database stayed busy", hint="retry"),
    ],
    ids=["unavailable", "busy"],
)
def test_a_send_whose_transaction_failed_is_refused_not_answered(
    pair: Pair, monkeypatch: pytest.MonkeyPatch, failure: Exception
) -> None:
    """A lone send whose log flush (or commit) fails was answered with the id of a message
    that was rolled back (201 for nothing stored); it must fail, and store nothing."""
    pair.us.line.send(to="ru", text="warm", user="o")
    before = _outbound_count(pair)

    def fail(_self: Any) -> None:
        raise failure

    monkeypatch.setattr(log.Batch, "flush", fail)
    with pytest.raises(type(failure)):
        pair.us.line.send(to="ru", text="lost?", user="o")
    monkeypatch.undo()
    assert before == _outbound_count(pair)


def test_a_group_whose_commit_may_have_landed_is_not_signed_again(
    pair: Pair, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The database went away as a group of sends committed (the commit landed, the answer
    did not): each caller hears it and may send again with its client_ref; the node does
    not sign every send again alone (which queued each twice)."""
    real = type(pair.us.db).transaction

    def lands_then_fails(self: Any, work: Any, **kwargs: Any) -> Any:
        real(self, work, **kwargs)
        raise DatabaseUnavailable("the answer to COMMIT was lost", hint="retry")

    items = [
        _Send("ru", "text", {"text": f"g{i}"}, "ROUTINE", "en", "o", f"ref-{i}") for i in range(2)
    ]
    monkeypatch.setattr(type(pair.us.db), "transaction", lands_then_fails)
    pair.us.line._write_sends(items)
    monkeypatch.undo()
    assert [DatabaseUnavailable] * 2 == [type(item.error) for item in items]
    assert [None, None] == [item.result for item in items]
    assert 2 == _outbound_count(pair)  # committed once, not twice
    again = [
        pair.us.line.send(to="ru", text=f"g{i}", user="o", client_ref=f"ref-{i}") for i in (0, 1)
    ]
    assert 2 == _outbound_count(pair)  # the retries found them
    assert all(_stored(pair, sent["id"]) is not None for sent in again)


def test_an_envelope_stored_before_the_sender_rotated_its_key_gets_its_receipt(
    pair: Pair,
) -> None:
    """The sender offers anything it holds no receipt for (0006_states re-opens old rows),
    signed with the key of its day. Refused as unknown_key after a rotation, it blocked
    the sender's channel for good; it gets the receipt stored for it."""
    sent = pair.us.line.send(to="ru", text="before rotation", user="o")
    pair.flush()
    with pair.us.db.read() as conn:
        row = store.get(conn, sent["id"])
    assert row is not None
    envelope = json.loads(row["envelope"])
    rotated = replace(pair.us.identity, key=keys.generate())
    pair.ru.add_peer(rotated.card().wire())
    answer = pair.ru.receiver.receive([envelope])
    assert (None, 1) == (answer.error, len(answer.receipts))
    assert json.loads(row["receipt"]) == answer.receipts[0]
    # a new envelope under the old key is refused as before
    forged = dict(envelope, id="00000000-0000-4000-8000-000000000000")
    assert pair.ru.receiver.receive([forged]).error is not None


def test_a_message_whose_ladder_has_run_out_is_not_written_at_every_tick(
    pair: Pair, clock: FakeClock
) -> None:
    for i in range(5):
        pair.us.line.send(to="ru", text=f"x{i}", precedence="FLASH", user="o")
    pair.flush()
    for _ in range(3):  # past the deadline, past the end of the ladder, and one more
        clock.advance(601)
        pair.us.deadlines.tick()
    writes: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith(("UPDATE", "INSERT", "BEGIN")):
            writes.append(statement)

    event.listen(pair.us.db.engine, "before_cursor_execute", seen)
    try:
        for _ in range(3):
            clock.advance(1)
            pair.us.deadlines.tick()
    finally:
        event.remove(pair.us.db.engine, "before_cursor_execute", seen)
    assert [] == writes
    assert 5 == len([a for a in pair.us.alarms.listing("open") if a["kind"] == "ack_overdue"])


def test_what_a_transaction_does_outside_the_database_happens_once_after_it_commits(
    pair: Pair, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``after_commit``: never for a transaction rolled back, once for one retried (the
    in-memory picture took tracks from attempts that were rolled back, once per attempt)."""
    monkeypatch.setattr(db_module, "_pause", lambda _attempt: None)
    ran: list[str] = []
    with pytest.raises(RuntimeError), pair.us.db.write() as conn:
        after_commit(conn, lambda: ran.append("rolled back"))
        raise RuntimeError("refused")
    attempts: list[int] = []

    def work(conn: Any) -> None:
        attempts.append(len(attempts) + 1)
        after_commit(conn, lambda: ran.append(f"attempt {len(attempts)}"))
        if len(attempts) < 3:  # as a deadlock would, twice
            raise OperationalError("COMMIT", {}, sqlite3.OperationalError("database is locked"))

    pair.us.db.transaction(work)
    assert ([1, 2, 3], ["attempt 3"]) == (attempts, ran)
