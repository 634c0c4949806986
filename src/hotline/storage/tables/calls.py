"""Tables for calls, readouts and watch levels (``services/calls*.py``). Declared on the one
shared ``metadata`` so the migration check covers them; created by the Alembic revision
``0003_calls`` on its own branch (``down_revision = "0002"``).

Columns marked *local* never leave the node: no message body is built from them.
JSON columns hold lists or objects exactly as the service wrote them.
"""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Table, Text

from hotline.storage.tables.core import TIME, metadata

# One row per call request, on both nodes; its id is the request_id in the bodies.
call_requests = Table(
    "call_requests",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("peer", String(32), nullable=False),
    Column("requester_party", String(32), nullable=False),
    Column("requester", String(32), nullable=False),  # principal id
    Column("counterpart_party", String(32), nullable=False),
    Column("counterpart", String(32), nullable=False),  # principal id
    Column("principals", Text, nullable=False),  # JSON {requester: {...}, counterpart: {...}}
    Column("topics", Text, nullable=False),  # JSON list
    Column("message", Text, nullable=True),  # to the counterpart (travels)
    Column("precedence", String(10), nullable=False),
    Column("slots", Text, nullable=False),  # JSON list: the slots on the table now
    Column("answer_by", TIME, nullable=False),  # the running (or last) deadline
    Column("awaiting", String(32), nullable=True),  # the party that must answer; null: closed
    # requested | proposed | accepted | declined | unanswered | withdrawn | held
    Column("state", String(12), nullable=False),
    Column("accepted_slot", Text, nullable=True),  # JSON object
    Column("reason", Text, nullable=True),  # of a decline or a withdrawal
    Column("requested_at", TIME, nullable=False),
    Column("updated_at", TIME, nullable=False),
    Column("created_by", String(100), nullable=True),  # local: the user who asked
    Column("internal_note", Text, nullable=True),  # local
    Column("message_id", String(36), nullable=False),  # the call_request envelope
)
Index("ix_call_requests_open", call_requests.c.state, call_requests.c.answer_by)
Index(
    "ix_call_requests_pair",
    call_requests.c.requester_party,
    call_requests.c.requester,
    call_requests.c.counterpart_party,
    call_requests.c.counterpart,
)

# The timeline of each request, the same on both nodes: ``at`` is the acting side's time
# (the envelope's ``created``), or the deadline itself for ``unanswered``.
call_events = Table(
    "call_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("request_id", String(36), ForeignKey("call_requests.id"), nullable=False, index=True),
    Column("at", TIME, nullable=False),
    # requested | accepted | declined | proposed | withdrawn | unanswered | held
    Column("kind", String(12), nullable=False),
    Column("party", String(32), nullable=False),
    Column("detail", Text, nullable=False),  # JSON object
    Column("user", String(100), nullable=True),  # local
    Column("message_id", String(36), nullable=True),
)

# A held call; its id is the request's.
calls = Table(
    "calls",
    metadata,
    Column("id", String(36), ForeignKey("call_requests.id"), primary_key=True),
    Column("held_at", TIME, nullable=False),
    Column("minutes", Integer, nullable=False),
    Column("participants", Text, nullable=False),  # JSON list of people
    Column("interpreters", Text, nullable=False),  # JSON list of people
    Column("recorded_by_party", String(32), nullable=False),
    Column("recorded_by", String(100), nullable=True),  # local
    Column("recorded_at", TIME, nullable=False),
    Column("private_parties", String(200), nullable=False),  # comma separated, sorted
    Column("internal_note", Text, nullable=True),  # local
    Column("message_id", String(36), nullable=False),  # the call_record envelope
)

# Readouts: this side's (any visibility) and the peer's (shared or public, as received).
call_readouts = Table(
    "call_readouts",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("call_id", String(36), ForeignKey("calls.id"), nullable=False, index=True),
    Column("party", String(32), nullable=False),  # whose readout
    Column("visibility", String(8), nullable=False),  # internal | shared | public
    Column("status", String(20), nullable=False),  # kept | awaiting_approval | sent | received
    Column("lang", String(2), nullable=False),
    Column("title", String(300), nullable=False),
    Column("text", Text, nullable=False),
    Column("issued_by", String(200), nullable=True),
    Column("written_by", String(100), nullable=True),  # local
    Column("written_at", TIME, nullable=False),
    Column("approved_by", String(100), nullable=True),  # local
    Column("approved_at", TIME, nullable=True),
    Column("published_at", TIME, nullable=True),
    Column("message_id", String(36), nullable=True),  # the call_readout envelope
)

# This party's watch-level changes: proposed by one person, approved by another.
watch_changes = Table(
    "watch_changes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("from_level", String(32), nullable=False),
    Column("to_level", String(32), nullable=False),
    Column("reason", Text, nullable=False),  # local
    Column("notify_peer", String(32), nullable=True),
    Column("message", Text, nullable=True),  # to the peer, when notified
    Column("state", String(10), nullable=False),  # pending | approved | rejected
    Column("proposed_by", String(100), nullable=False),
    Column("proposed_at", TIME, nullable=False),
    Column("decided_by", String(100), nullable=True),
    Column("decided_at", TIME, nullable=True),
    Column("decision_note", Text, nullable=True),  # local
    Column("message_id", String(36), nullable=True),  # the watch_level envelope
)
Index("ix_watch_changes_state", watch_changes.c.state)

# Watch levels the peers notified to this node.
peer_watch_levels = Table(
    "peer_watch_levels",
    metadata,
    Column("message_id", String(36), primary_key=True),
    Column("peer", String(32), nullable=False),
    Column("body", Text, nullable=False),  # JSON: the watch_level body as received
    Column("effective_at", TIME, nullable=False),
    Column("received_at", TIME, nullable=False),
)
Index("ix_peer_watch_levels_peer", peer_watch_levels.c.peer, peer_watch_levels.c.effective_at)
