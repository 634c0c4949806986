"""Operators and their bearer tokens (only token hashes are stored)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from hotline.storage.tables.core import tokens, users


@dataclass(frozen=True)
class UserRow:
    name: str
    password_hash: str
    roles: tuple[str, ...]
    created_at: str
    disabled: bool


def add(conn: Connection, name: str, password_hash: str, roles: list[str], at: str) -> None:
    conn.execute(
        insert(users).values(
            name=name, password_hash=password_hash, roles=",".join(roles), created_at=at, disabled=0
        )
    )


def set_password(conn: Connection, name: str, password_hash: str) -> None:
    conn.execute(update(users).where(users.c.name == name).values(password_hash=password_hash))


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
    )


def set_disabled(conn: Connection, name: str, disabled: bool) -> None:
    conn.execute(update(users).where(users.c.name == name).values(disabled=int(disabled)))


def revoke_all(conn: Connection, name: str) -> int:
    """End every session and token of ``name``; returns how many there were."""
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
    conn.execute(delete(tokens).where(tokens.c.token_hash == token_hash))
