"""Operators and their bearer tokens (only token hashes are stored).

Every function here that ends sessions (:func:`revoke_all`, :func:`revoke_token`,
:func:`set_disabled`, :func:`set_password`) also bumps the sessions generation in the
same transaction: that is what tells every process's token cache (``services/auth.py``)
to forget what it had validated, at the next request.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, bindparam, delete, insert, select, update

from hotline.storage.tables.core import tokens, users
from hotline.storage.tables.sessions import sessions_gen

# Built once: read on every authenticated request.
_GENERATION = select(sessions_gen.c.generation).where(sessions_gen.c.id == 1)
_BUMP = (
    update(sessions_gen)
    .where(sessions_gen.c.id == 1)
    .values(generation=sessions_gen.c.generation + 1)
)
_TOKEN_SESSION = (
    select(users, tokens.c.expires_at)
    .select_from(tokens.join(users, tokens.c.user == users.c.name))
    .where(tokens.c.token_hash == bindparam("h"), tokens.c.expires_at > bindparam("now"))
)


@dataclass(frozen=True)
class UserRow:
    name: str
    password_hash: str
    roles: tuple[str, ...]
    created_at: str
    disabled: bool
    display_name: str | None = None


def add(
    conn: Connection,
    name: str,
    password_hash: str,
    roles: list[str],
    at: str,
    display_name: str | None = None,
) -> None:
    conn.execute(
        insert(users).values(
            name=name,
            password_hash=password_hash,
            roles=",".join(roles),
            created_at=at,
            disabled=0,
            display_name=display_name,
        )
    )


def set_display_name(conn: Connection, name: str, display_name: str | None) -> None:
    conn.execute(update(users).where(users.c.name == name).values(display_name=display_name))


def set_password(conn: Connection, name: str, password_hash: str) -> None:
    conn.execute(update(users).where(users.c.name == name).values(password_hash=password_hash))
    bump_generation(conn)


def get(conn: Connection, name: str) -> UserRow | None:
    row = conn.execute(select(users).where(users.c.name == name)).mappings().first()
    return None if row is None else _row(row)


def _row(row: Any) -> UserRow:
    return UserRow(
        name=row["name"],
        password_hash=row["password_hash"],
        roles=tuple(r for r in row["roles"].split(",") if r),
        created_at=row["created_at"],
        disabled=bool(row["disabled"]),
        display_name=row.get("display_name"),
    )


def set_disabled(conn: Connection, name: str, disabled: bool) -> None:
    conn.execute(update(users).where(users.c.name == name).values(disabled=int(disabled)))
    bump_generation(conn)


def revoke_all(conn: Connection, name: str) -> int:
    """End every session and token of ``name``; returns how many there were."""
    bump_generation(conn)
    return int(conn.execute(delete(tokens).where(tokens.c.user == name)).rowcount or 0)


def all_users(conn: Connection) -> list[UserRow]:
    rows = conn.execute(select(users).order_by(users.c.name)).mappings()
    return [_row(r) for r in rows]


def add_token(conn: Connection, token_hash: str, user: str, at: str, expires_at: str) -> None:
    conn.execute(
        insert(tokens).values(
            token_hash=token_hash, user=user, created_at=at, expires_at=expires_at
        )
    )


def token_user(conn: Connection, token_hash: str, now: str) -> str | None:
    row = conn.execute(
        select(tokens.c.user).where(tokens.c.token_hash == token_hash, tokens.c.expires_at > now)
    ).first()
    return None if row is None else str(row[0])


def revoke_token(conn: Connection, token_hash: str) -> None:
    bump_generation(conn)
    conn.execute(delete(tokens).where(tokens.c.token_hash == token_hash))


def token_session(conn: Connection, token_hash: str, now: str) -> tuple[UserRow, str] | None:
    """The user of an unexpired token and the token's expiry, in one statement; None for
    an unknown or expired token."""
    row = conn.execute(_TOKEN_SESSION, {"h": token_hash, "now": now}).mappings().first()
    return None if row is None else (_row(row), str(row["expires_at"]))


def generation(conn: Connection) -> int | None:
    """The sessions generation (None in a database without its row: then nothing may be
    cached)."""
    value = conn.execute(_GENERATION).scalar()
    return None if value is None else int(value)


def bump_generation(conn: Connection) -> None:
    """Tell every process's token cache that a session may have ended (caller's
    transaction: the change and the bump commit together)."""
    conn.execute(_BUMP)
