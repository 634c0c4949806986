"""Operator tests: is somebody there? A test only a person on the other side can answer.

The machine echo (``link_test``) proves the nodes talk; the 2022 line was also tested by a
Russian-speaking officer, twice a day. An ``operator_test`` carries the alphabet and the
digits of the sender's language and the time it must be answered by (``answer_by``:
sent + ``operator_test_answer_s``, default 10 minutes, signed so both sides show the same
deadline). It waits in the peer's inbox until an officer answers it (API, CLI): the
answer, ``operator_test_answer``, names the test, its hash and the officer.

No answer by ``answer_by`` raises ``operator_unanswered`` for the peer — "line up, nobody
answering", distinct from ``link_down``; an answer in time raises nothing; a late answer
clears the alarm unless another test to that peer is still unanswered (the alarm then names
the oldest of those). In time means the answer's signed ``created`` is not after
``answer_by`` (an answer held up by the link was still given in time).

Schedule: ``operator_test_times`` (UTC times of day, none by default); any time on
demand.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta
from typing import Any

from hotline.clock import parse_rfc3339, rfc3339
from hotline.domain.line import Envelope
from hotline.domain.links import DIGITS, OPERATOR_TEXTS
from hotline.errors import Conflict, MalformedMessage, NotFound, ValidationError
from hotline.render.operator import render_operator_test
from hotline.services.alarms import clear_alarm, note_on_alarm, raise_alarm
from hotline.services.line.links import next_fixed, parse_times
from hotline.services.line.service import Line
from hotline.storage import links as store
from hotline.storage import messages, peers
from hotline.storage.db import Connection

ALARM = "operator_unanswered"
STATES = ("pending", "answered", "unanswered", "answered_late")


class OperatorTests:
    def __init__(self, line: Line) -> None:
        self.line = line
        self.answer_within = timedelta(seconds=line.settings.operator_test_answer_s)
        self.times = parse_times(line.settings.operator_test_times, "operator_test_times")
        self.started = line.clock.now()
        line.on_receive("operator_test", self._received)
        line.on_receive("operator_test_answer", self._answered)

    # -- sending and schedule --------------------------------------------------------------

    def send(self, peer: str) -> dict[str, Any]:
        """Send an operator test to ``peer`` now; returns its record (``pending``)."""
        test_id = str(uuid.uuid4())
        lang = self.line.identity.lang
        now = self.line.clock.now()
        answer_by = rfc3339(now + self.answer_within)
        body = {
            "test_id": test_id,
            "lang": lang,
            "text": OPERATOR_TEXTS[lang],
            "digits": DIGITS,
            "answer_by": answer_by,
        }

        def work(conn: Connection) -> dict[str, Any]:
            if peers.get(conn, peer) is None:
                raise NotFound(f"no peer {peer!r} is pinned on this node")
            message_id = self.line.enqueue(
                conn,
                to=peer,
                type_="operator_test",
                body=body,
                precedence="IMMEDIATE",
                lang=lang,
                user=None,
            )
            store.insert_operator_test(
                conn,
                id=test_id,
                direction="out",
                peer=peer,
                message_id=message_id,
                sent_at=rfc3339(now),
                answer_by=answer_by,
                state="pending",
            )
            return _shown(conn, _found(store.get_operator_test(conn, test_id), test_id))

        record = self.line.db.transaction(work)
        self.line.on_queued(peer)
        return record

    def tick(self) -> None:
        """Send the scheduled tests that are due; raise the alarm for unanswered ones."""
        now = self.line.clock.now()
        with self.line.db.read() as conn:
            parties = [p.party for p in peers.all_peers(conn)]
            late = [
                t
                for t in store.operator_tests_listing(conn, direction="out", state="pending")
                if parse_rfc3339(t["answer_by"]) <= now
            ]
            last = {p: store.last_operator_test(conn, p) for p in parties} if self.times else {}
        for test in late:
            self._expire(test, now)
        for party, sent in last.items():
            after = parse_rfc3339(sent) if sent else self.started
            if next_fixed(after, self.times) <= now:
                self.send(party)

    def _expire(self, test: dict[str, Any], now: datetime) -> None:
        def work(conn: Connection) -> None:
            self._unanswered(conn, test, now)

        self.line.db.transaction(work)

    def _unanswered(self, conn: Connection, test: dict[str, Any], now: datetime) -> None:
        fresh = store.get_operator_test(conn, test["id"])
        if fresh is None or fresh["state"] != "pending":
            return  # answered meanwhile (another process)
        store.set_operator_test(conn, test["id"], state="unanswered")
        raise_alarm(
            conn,
            ALARM,
            test["peer"],
            rfc3339(now),
            test_id=test["id"],
            answer_by=test["answer_by"],
            reason="line up, nobody answering: no officer answered the operator test",
        )

    # -- the receiving side: an officer answers ----------------------------------------------

    def _received(self, conn: Connection, envelope: Envelope, now: str) -> None:
        body = envelope.body
        row = messages.get(conn, envelope.id)
        if row is None or store.get_operator_test(conn, body["test_id"]) is not None:
            return  # a duplicate test id: the first one stands
        store.insert_operator_test(
            conn,
            id=body["test_id"],
            direction="in",
            peer=envelope.from_,
            message_id=envelope.id,
            sent_at=envelope.created,
            answer_by=body["answer_by"],
            state="pending",
        )

    def answer(self, test_id: str, officer: str) -> dict[str, Any]:
        """``officer`` answers the peer's operator test ``test_id``."""

        def work(conn: Connection) -> dict[str, Any]:
            test = store.get_operator_test(conn, test_id)
            if test is None or test["direction"] != "in":
                raise NotFound(f"no operator test {test_id} from a peer")
            if test["state"] != "pending":
                raise Conflict(f"operator test {test_id} was answered by {test['answered_by']}")
            sent = messages.get(conn, test["message_id"])
            assert sent is not None  # stored with the test
            answer_id = self.line.enqueue(
                conn,
                to=test["peer"],
                type_="operator_test_answer",
                body={"test_id": test_id, "test_hash": sent["hash"], "officer": officer},
                precedence="IMMEDIATE",
                lang=self.line.identity.lang,
                user=officer,
            )
            store.set_operator_test(
                conn,
                test_id,
                state="answered",
                answered_at=self.line.now(),
                answered_by=officer,
                answer_message_id=answer_id,
            )
            return _shown(conn, _found(store.get_operator_test(conn, test_id), test_id))

        record = self.line.db.transaction(work)
        self.line.on_queued(record["peer"])
        return record

    def _answered(self, conn: Connection, envelope: Envelope, now: str) -> None:
        body = envelope.body
        test = store.get_operator_test(conn, body["test_id"])
        if test is None or test["direction"] != "out" or test["peer"] != envelope.from_:
            raise MalformedMessage(f"operator_test_answer names unknown test {body['test_id']}")
        sent = messages.get(conn, test["message_id"])
        if sent is None or sent["hash"] != body["test_hash"]:
            raise MalformedMessage("operator_test_answer names the wrong test hash")
        if test["state"] not in ("pending", "unanswered"):
            return  # answered already
        in_time = parse_rfc3339(envelope.created) <= parse_rfc3339(test["answer_by"])
        state = "answered" if in_time else "answered_late"
        store.set_operator_test(
            conn,
            test["id"],
            state=state,
            answered_at=envelope.created,
            answered_by=body["officer"][:100],
            answer_message_id=envelope.id,
        )
        if test["state"] == "unanswered":
            reason = f"{body['officer']} answered the operator test"
            reason += "" if in_time else " late"
            self._clear_unless_another(conn, envelope.from_, now, reason[:500])

    def _clear_unless_another(self, conn: Connection, peer: str, now: str, reason: str) -> None:
        """Clear the peer's alarm only when none of its tests is still unanswered: a late
        answer to the 06:00 test says nothing of the 18:00 one nobody answered."""
        waiting = [
            t
            for t in store.operator_tests_listing(conn, direction="out", state="unanswered")
            if t["peer"] == peer
        ]
        if not waiting:
            clear_alarm(conn, ALARM, peer, now, reason)
            return
        oldest = min(waiting, key=lambda t: parse_rfc3339(t["answer_by"]))
        note_on_alarm(conn, ALARM, peer, test_id=oldest["id"], answer_by=oldest["answer_by"])

    # -- reading ---------------------------------------------------------------------------

    def listing(self, direction: str | None = None, state: str | None = None) -> list[Any]:
        """Operator tests, newest first: ``direction`` in (ours to peers) or out."""
        if direction not in (None, "in", "out"):
            raise ValidationError("direction must be 'in' or 'out'", field="direction")
        if state not in (None, *STATES):
            raise ValidationError(f"state must be one of {', '.join(STATES)}", field="state")
        with self.line.db.read() as conn:
            rows = store.operator_tests_listing(conn, direction=direction, state=state)
            return [_shown(conn, r) for r in rows]


def _shown(conn: Connection, record: dict[str, Any]) -> dict[str, Any]:
    """The record with the test's signed text and its rendering in both languages."""
    row = messages.get(conn, record["message_id"])
    body = json.loads(row["envelope"])["body"] if row else {"text": "", "digits": ""}
    rendering = {lang: render_operator_test(record, body, lang) for lang in ("en", "ru")}
    return record | {"text": body["text"], "digits": body["digits"], "rendering": rendering}


def _found(record: dict[str, Any] | None, test_id: str) -> dict[str, Any]:
    if record is None:
        raise NotFound(f"no operator test {test_id}")
    return record
