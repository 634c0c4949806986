"""The storage functions that took over the SQL of services and web (issue 12), on each backend.

The services' own tests prove the behaviour end to end; these pin each function's contract
(what it returns, in which order, what it leaves alone) on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from hotline.storage import alarms, conflicts, console, held, links, messages
from hotline.storage.db import Database
from hotline.testing import DatabaseFactory

T0, T1, T2 = "2026-01-01T00:00:00.000Z", "2026-01-01T00:01:00.000Z", "2026-01-01T00:02:00.000Z"


@pytest.fixture
def db(databases: DatabaseFactory) -> Iterator[Database]:
    database = Database(databases.new("topics"))
    yield database
    database.dispose()


def _message(mid: str, direction: str, created: str, seq: int, **values: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": mid,
        "direction": direction,
        "peer": "ru",
        "seq": seq,
        "created": created,
        "precedence": "ROUTINE",
        "type": "text",
        "lang": "en",
        "envelope": json.dumps({"body": {"type": values.get("type", "text")}}),
        "hash": "0" * 64,
        "state": "queued" if direction == "out" else "received",
    }
    return row | values


def _add(db: Database, *rows: dict[str, Any]) -> None:
    with db.write() as conn:
        for row in rows:
            messages.insert_message(conn, **row)


def _hold(conn: Any, held_id: str, at: str, client_ref: str | None = None) -> None:
    held.insert_held(
        conn,
        held_id,
        kind="text",
        peer="ru",
        precedence="FLASH",
        lang=None,
        payload={"text": "Привет"},
        client_ref=client_ref,
        requested_by="alice",
        requested_at=at,
    )


def test_held_messages_go_through_their_states(db: Database) -> None:
    with db.write() as conn:
        _hold(conn, "h1", T1, client_ref="ref-1")
        _hold(conn, "h0", T0)
        assert 2 == held.count_held(conn)
        assert {"text": "Привет"} == held.by_client_ref(conn, "alice", "ref-1")["payload"]  # type: ignore[index]
        assert held.by_client_ref(conn, "bob", "ref-1") is None  # references are per user
        held.approve(conn, "h1", "bob", T2)
        held.take_back(conn, "h1")
        row = held.get(conn, "h1", lock=True)
        assert row is not None
        assert ("held", None, None) == (row["state"], row["decided_by"], row["decided_at"])
        held.approve(conn, "h1", "bob", T2)
        held.mark_sent(conn, "h1", "m1")
        held.reject(conn, "h0", "bob", T2, "wrong peer")
    with db.read() as conn:
        assert ["h0", "h1"] == [r["id"] for r in held.listing(conn, None)]  # oldest first
        assert [] == held.listing(conn, "held")
        sent = held.get(conn, "h1")
        assert sent is not None
        assert ("sent", "m1", "bob") == (sent["state"], sent["message_id"], sent["decided_by"])
        assert "wrong peer" == held.listing(conn, "rejected")[0]["reason"]
        assert 0 == held.count_held(conn)
        assert held.get(conn, "nope") is None
        assert held.by_client_ref(conn, "alice", "nope") is None


def test_take_back_leaves_a_sent_message_alone(db: Database) -> None:
    with db.write() as conn:
        _hold(conn, "h1", T0)
        held.approve(conn, "h1", "bob", T1)
        held.mark_sent(conn, "h1", "m1")
        held.take_back(conn, "h1")
        assert "sent" == held.get(conn, "h1")["state"]  # type: ignore[index]


def test_message_queries_for_conflicts_deadlines_and_metrics(db: Database) -> None:
    _add(
        db,
        _message("m2", "in", T1, 1, type="protected_areas"),
        _message("m1", "out", T0, 1, type="activity_notice"),
        _message("m3", "out", T2, 2, precedence="FLASH", state="delivered"),
        _message("m4", "out", T2, 3, type="link_test"),
        _message("m5", "in", T2, 2, acked_at=T2, acked_by="bob", state="acknowledged"),
    )
    with db.read() as conn:
        found = messages.of_types(conn, ("activity_notice", "protected_areas"))
        assert ["m1", "m2"] == [row[0] for row in found]
        assert ("out", "ru", T0) == found[0][1:4]
        assert {"m2"} == messages.ids_of_type(conn, {"m1", "m2", "zz"}, "protected_areas")
        assert ("in", "ru") == messages.origin(conn, "m2")
        assert messages.origin(conn, "zz") is None
        due = messages.open_outbound(conn, ("queued", "sent", "delivered"), {"link_test"})
        assert {"m1", "m3"} == {r["id"] for r in due}
        assert {"id", "peer", "precedence", "created", "envelope"} == set(due[0])
        assert {
            ("out", "ROUTINE"): 1,
            ("out", "FLASH"): 1,
            ("in", "ROUTINE"): 1,
        } == messages.unacknowledged_counts(conn, {"link_test"})


def test_conflicts_are_listed_newest_first_and_by_message(db: Database) -> None:
    with db.write() as conn:
        for a, b in (("m1", "m2"), ("m3", "m1"), ("m3", "m4")):
            conflicts.insert_conflict(
                conn,
                a=(a, "V1", "us"),
                b=(b, "V2", "ru"),
                start=T0,
                end=T1,
                horizontal_m=1234.5,
                vertical_m=0.0,
                detected_at=T2,
            )
    with db.read() as conn:
        every = conflicts.listing(conn)
        assert [("m3", "m4"), ("m3", "m1"), ("m1", "m2")] == [
            (r["a_message"], r["b_message"]) for r in every
        ]
        assert 1234.5 == every[0]["horizontal_m"]
        assert 2 == len(conflicts.listing(conn, "m1"))


def test_console_queries(db: Database) -> None:
    _add(
        db,
        _message("m1", "in", T1, 1),
        _message("m0", "in", T0, 2),
        _message("m2", "in", T2, 3, type="link_test"),
        _message("m3", "out", T2, 1),
    )
    with db.write() as conn:
        assert (0, 0, 0, 0, 0, 0) == console.change_stamp(conn)
        messages.add_event(conn, "m1", T1, "received")
        alarms.insert_alarm(conn, "incursion", "T1→A", T1, {})
        cleared = alarms.insert_alarm(conn, "track_conflict", "T1×T2", T1, {})
        alarms.clear(conn, cleared, T2, "auto", "gone", 60)
        alarms.insert_alarm(conn, "link_down", "ru", T1, {})
        _hold(conn, "h1", T1)
        links.insert_test(conn, "t0", "ru", "m9", T0)
        links.insert_test(conn, "t1", "ru", "m8", T1)
        links.insert_test(conn, "t2", "ua", "m7", T2)
    with db.read() as conn:
        stamp = console.change_stamp(conn)
        # open alarms, held messages, alarms seen, link routes not up
        assert (2, 1, 0, 0) == stamp[2:]
        assert stamp[0] > 0 and stamp[1] > 0
        assert ["m0", "m1"] == [
            r["id"] for r in console.awaiting_ack(conn, {"link_test"}, limit=10)
        ]
        assert ["m0"] == [r["id"] for r in console.awaiting_ack(conn, {"link_test"}, limit=1)]
        assert [T1] == [r["sent_at"] for r in console.link_history(conn, "ru", T1)]
        assert [("incursion", "T1→A")] == alarms.open_subjects(
            conn, ("incursion", "track_conflict")
        )
