"""The node's tables (SQLAlchemy Core). Alembic migrations create them; keep the two equal
(``tests/storage/test_migrations.py`` compares them).

Times are stored as RFC 3339 UTC strings with milliseconds (``2026-11-21T14:30:05.123Z``):
they sort correctly as text, read the same on SQLite and PostgreSQL, and are exactly
what travels on the wire.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

TIME = String(30)

peers = Table(
    "peers",
    metadata,
    Column("party", String(32), primary_key=True),
    Column("name_en", String(200), nullable=False),
    Column("name_ru", String(200), nullable=False),
    Column("lang", String(2), nullable=False),
    Column("public_key", String(64), nullable=False),
    Column("fingerprint", String(80), nullable=False),
    Column("endpoints", Text, nullable=False),  # JSON list, in failover order
    Column("card", Text, nullable=False),  # the signed card as imported
    Column("added_at", TIME, nullable=False),
)

# One row per (peer, direction): the head of the hash chain in that channel.
channels = Table(
    "channels",
    metadata,
    Column("peer", String(32), primary_key=True),
    Column("direction", String(3), primary_key=True),  # "out" | "in"
    Column("last_seq", BigInteger, nullable=False),
    Column("last_hash", String(64), nullable=False),
    Column("last_created", TIME, nullable=True),
)

messages = Table(
    "messages",
    metadata,
    Column("id", String(36), primary_key=True),  # the envelope id
    Column("direction", String(3), nullable=False),
    Column("peer", String(32), nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("created", TIME, nullable=False),
    Column("precedence", String(10), nullable=False),
    Column("type", String(40), nullable=False),
    Column("lang", String(2), nullable=False),
    Column("envelope", Text, nullable=False),  # canonical JSON, exactly as signed
    Column("hash", String(64), nullable=False),
    # queued -> sent -> delivered -> acknowledged (outbound); received -> acknowledged (inbound)
    Column("state", String(16), nullable=False),
    Column("client_ref", String(100), nullable=True),  # sender-side idempotency key
    Column("created_by", String(100), nullable=True),
    Column("received_at", TIME, nullable=True),
    Column("delivered_at", TIME, nullable=True),
    Column("receipt", Text, nullable=True),  # canonical JSON of the signed receipt
    Column("attempts", Integer, nullable=False, default=0),
    Column("acked_at", TIME, nullable=True),
    Column("acked_by", String(100), nullable=True),
    Column("ack_message_id", String(36), nullable=True),
    # when the deadline service must next look at an outbound message a person
    # acknowledges (its deadline, then each escalation rung's); NULL once acknowledged and
    # for every other message, so a tick reads only what is due, through its index
    Column("due_at", TIME, nullable=True),
    UniqueConstraint("direction", "peer", "seq", name="uq_messages_channel_seq"),
    UniqueConstraint("client_ref", name="uq_messages_client_ref"),
)
Index("ix_messages_pending", messages.c.direction, messages.c.peer, messages.c.state)
Index("ix_messages_due", messages.c.due_at)

# The trail: every step in a message's life, in order.
events = Table(
    "events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("message_id", String(36), ForeignKey("messages.id"), nullable=False, index=True),
    Column("at", TIME, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("detail", Text, nullable=False),  # JSON object
)

users = Table(
    "users",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("password_hash", String(200), nullable=False),
    Column("roles", String(200), nullable=False),  # comma separated
    Column("created_at", TIME, nullable=False),
    Column("disabled", Integer, nullable=False, default=0),
    # how the person is named to the other side, in the envelopes they send (0009_officers)
    Column("display_name", String(200), nullable=True),
)

tokens = Table(
    "tokens",
    metadata,
    Column("token_hash", String(64), primary_key=True),  # SHA-256 of the bearer token
    Column("user", String(100), ForeignKey("users.name"), nullable=False),
    Column("created_at", TIME, nullable=False),
    Column("expires_at", TIME, nullable=False),
)

# The append-only Merkle log (RFC 9162): what was sent, received and receipted.
log_entries = Table(
    "log_entries",
    metadata,
    Column("idx", BigInteger, primary_key=True, autoincrement=False),
    Column("kind", String(20), nullable=False),  # envelope_out | envelope_in | receipt_in ...
    Column("ref", String(36), nullable=False, index=True),  # message id
    Column("entry", LargeBinary, nullable=False),  # the canonical bytes logged
    Column("leaf_hash", LargeBinary(32), nullable=False),
    Column("at", TIME, nullable=False),
)

# A single row (id = 1): the log's size and its compact range, to append in O(log n).
log_state = Table(
    "log_state",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("size", BigInteger, nullable=False),
    Column("frontier", Text, nullable=False),  # JSON list of hex subtree hashes
)

# Human translations of received (or sent) messages, and their certification by a second
# person. A machine draft is stored only as a marked draft and is never certified.
translations = Table(
    "translations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("message_id", String(36), ForeignKey("messages.id"), nullable=False, index=True),
    Column("lang", String(2), nullable=False),
    Column("text", Text, nullable=False),
    Column("translator", String(100), nullable=False),
    Column("created_at", TIME, nullable=False),
    Column("machine", Integer, nullable=False, default=0),  # 1: machine draft, not certified
    Column("certified_by", String(100), nullable=True),
    Column("certified_at", TIME, nullable=True),
)
