"""Failed logins and operators' known sources (``services/auth.py`` bounds guessing with
them). Every process of a node reads and writes the same rows, so a second process or a
restart counts the same guesses."""

from __future__ import annotations

from sqlalchemy import Connection, delete, func, insert, select

from hotline.storage.tables.logins import SOURCE_LENGTH, login_failures, login_sources


def source_text(source: str) -> str:
    """A source address as stored: cut to the column's length."""
    return source[:SOURCE_LENGTH]


def add_failure(conn: Connection, user: str, source: str, at: str) -> None:
    conn.execute(insert(login_failures).values(user=user, source=source_text(source), at=at))


def recent_from_source(conn: Connection, source: str, since: str, limit: int) -> list[str]:
    """The times of the newest ``limit`` failures from ``source`` since ``since``, newest
    first (any names)."""
    stmt = (
        select(login_failures.c.at)
        .where(login_failures.c.source == source_text(source), login_failures.c.at >= since)
        .order_by(login_failures.c.at.desc())
        .limit(limit)
    )
    return [str(r[0]) for r in conn.execute(stmt)]


def recent_for_pair(conn: Connection, user: str, source: str, since: str, limit: int) -> list[str]:
    """The times of the newest ``limit`` failures for ``user`` from ``source``, newest first."""
    stmt = (
        select(login_failures.c.at)
        .where(
            login_failures.c.user == user,
            login_failures.c.source == source_text(source),
            login_failures.c.at >= since,
        )
        .order_by(login_failures.c.at.desc())
        .limit(limit)
    )
    return [str(r[0]) for r in conn.execute(stmt)]


def count_for_user(conn: Connection, user: str, since: str) -> int:
    """Failures for ``user`` from every source since ``since``."""
    stmt = (
        select(func.count())
        .select_from(login_failures)
        .where(login_failures.c.user == user, login_failures.c.at >= since)
    )
    return int(conn.execute(stmt).scalar() or 0)


def clear_pair(conn: Connection, user: str, source: str) -> None:
    """Forget the failures of ``user`` from ``source`` (they have just logged in there)."""
    conn.execute(
        delete(login_failures).where(
            login_failures.c.user == user, login_failures.c.source == source_text(source)
        )
    )


def prune_failures(conn: Connection, before: str) -> int:
    """Drop failures older than ``before`` (out of every window); returns how many."""
    done = conn.execute(delete(login_failures).where(login_failures.c.at < before))
    return int(done.rowcount or 0)


def count_failures(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(login_failures)).scalar() or 0)


def is_known_source(conn: Connection, user: str, source: str, since: str) -> bool:
    """Whether ``user`` logged in from ``source`` since ``since``."""
    stmt = select(login_sources.c.last_ok).where(
        login_sources.c.user == user,
        login_sources.c.source == source_text(source),
        login_sources.c.last_ok >= since,
    )
    return conn.execute(stmt).first() is not None


def remember_source(conn: Connection, user: str, source: str, at: str, forget_before: str) -> None:
    """``user`` logged in from ``source`` at ``at``; sources unused since ``forget_before``
    are forgotten."""
    conn.execute(
        delete(login_sources).where(
            (login_sources.c.last_ok < forget_before)
            | ((login_sources.c.user == user) & (login_sources.c.source == source_text(source)))
        )
    )
    conn.execute(insert(login_sources).values(user=user, source=source_text(source), last_ok=at))
