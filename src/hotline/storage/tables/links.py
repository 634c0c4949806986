"""Tables for link tests, alarms and escalations (``services/line/links.py``,
``services/alarms.py``, ``services/line/deadlines.py``). Declared on the shared ``metadata``;
created by the Alembic revision ``0003_links`` on its own branch."""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, String, Table, Text

from hotline.storage.tables.core import TIME, metadata

link_tests = Table(
    "link_tests",
    metadata,
    Column("id", String(36), primary_key=True),  # the test id carried in the message
    Column("peer", String(32), nullable=False),
    Column("message_id", String(36), nullable=False),  # the link_test envelope
    Column("sent_at", TIME, nullable=False),
    Column("state", String(10), nullable=False),  # pending | passed | failed
    Column("reply_at", TIME, nullable=True),
    Column("rtt_ms", Integer, nullable=True),
    Column("failed_at", TIME, nullable=True),
    Column("reason", Text, nullable=True),
)
Index("ix_link_tests_peer_sent", link_tests.c.peer, link_tests.c.sent_at)

alarms = Table(
    "alarms",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(32), nullable=False),  # link_down | ack_overdue | log_fork ...
    Column("subject", String(100), nullable=False),  # a peer, a message id ...
    Column("raised_at", TIME, nullable=False),
    Column("state", String(10), nullable=False),  # open | cleared
    Column("detail", Text, nullable=False),  # JSON object
    Column("cleared_at", TIME, nullable=True),
    Column("cleared_by", String(100), nullable=True),  # a user, or "auto"
    Column("clear_reason", Text, nullable=True),
    Column("duration_s", Integer, nullable=True),
    Column("seen_by", String(100), nullable=True),  # acknowledged (silenced) by; 0008
    Column("seen_at", TIME, nullable=True),
)
Index("ix_alarms_open", alarms.c.state, alarms.c.kind, alarms.c.subject)

# One row per step an unacknowledged message has climbed on the peer's contact ladder.
escalations = Table(
    "escalations",
    metadata,
    Column("message_id", String(36), primary_key=True),  # the original message
    Column("step", Integer, primary_key=True),  # 1 = first contact after the addressee
    Column("contact_id", String(32), nullable=False),
    Column("escalation_message_id", String(36), nullable=False),
    Column("at", TIME, nullable=False),
)

# One row per peer and route: the link's state machine (services/line/linkstate.py), fed by
# every signal (deliveries, checkpoint exchanges, link tests). Created by ``0007_outage``.
link_state = Table(
    "link_state",
    metadata,
    Column("peer", String(32), primary_key=True),
    Column("route", String(10), primary_key=True),  # send | answer
    Column("state", String(10), nullable=False),  # up | degraded | down
    Column("first_failure_at", TIME, nullable=True),  # the outage's start, while not up
    Column("last_failure_at", TIME, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("source", String(20), nullable=True),  # the signal of the first failure
    Column("last_success_at", TIME, nullable=True),
    Column("changed_at", TIME, nullable=False),
)

# Operator tests (services/line/operator_tests.py): ours to the peers ("out") and the
# peers' to our officers ("in"). Created by ``0007_outage``.
operator_tests = Table(
    "operator_tests",
    metadata,
    Column("id", String(36), primary_key=True),  # the test id carried in the message
    Column("direction", String(3), nullable=False),  # out | in
    Column("peer", String(32), nullable=False),
    Column("message_id", String(36), nullable=False),  # the operator_test envelope
    Column("sent_at", TIME, nullable=False),
    Column("answer_by", TIME, nullable=False),
    # out: pending | answered | unanswered | answered_late; in: pending | answered
    Column("state", String(16), nullable=False),
    Column("answered_at", TIME, nullable=True),
    Column("answered_by", String(100), nullable=True),
    Column("answer_message_id", String(36), nullable=True),
)
Index("ix_operator_tests_state", operator_tests.c.direction, operator_tests.c.state)
