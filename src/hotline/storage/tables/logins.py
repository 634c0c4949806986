"""The tables that bound password guessing (``services/auth.py``), shared by every process
of the node: failed logins, and the sources each operator last logged in from. Declared
on the shared ``metadata``; created by the Alembic revision ``0005_operators``."""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, PrimaryKeyConstraint, String, Table

from hotline.storage.tables.core import TIME, metadata

#: Longest source address kept (an IPv6 address with a zone fits).
SOURCE_LENGTH = 64

# One row per wrong password (or unknown or disabled name); pruned when older than the
# counting window.
login_failures = Table(
    "login_failures",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user", String(100), nullable=False),  # the name tried, known or not
    Column("source", String(SOURCE_LENGTH), nullable=False),  # the client's address
    Column("at", TIME, nullable=False),
)
Index("ix_login_failures_source", login_failures.c.source, login_failures.c.at)
Index("ix_login_failures_user", login_failures.c.user, login_failures.c.at)

# Where each operator last logged in from, and when: their own workstations, which keep
# their full allowance of wrong passwords while the name is under attack from elsewhere.
login_sources = Table(
    "login_sources",
    metadata,
    Column("user", String(100), nullable=False),
    Column("source", String(SOURCE_LENGTH), nullable=False),
    Column("last_ok", TIME, nullable=False),
    PrimaryKeyConstraint("user", "source", name="pk_login_sources"),
)
