"""Operators: passwords (Argon2id via ``argon2-cffi``) and bearer tokens.

Tokens are 256-bit random strings; the node stores only their SHA-256, so a stolen
database does not yield usable tokens. A login for an unknown user still spends the
time of one Argon2 verification, so timing does not reveal which names exist.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from hotline.clock import Clock, rfc3339
from hotline.errors import AuthError, Conflict, ValidationError
from hotline.storage import users
from hotline.storage.db import Database

ROLES = ("officer", "translator", "commander", "auditor", "admin", "feed")
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9._-]{1,63}$")
MIN_PASSWORD = 8

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("not a real password, only spends the same time")


@dataclass(frozen=True)
class User:
    name: str
    roles: tuple[str, ...]


class Auth:
    def __init__(self, db: Database, clock: Clock, token_ttl_s: int) -> None:
        self.db = db
        self.clock = clock
        self.token_ttl_s = token_ttl_s

    def add_user(self, name: str, password: str, roles: list[str] | None = None) -> User:
        roles = roles or ["officer"]
        if not NAME_PATTERN.match(name):
            raise ValidationError(
                f"user name {name!r} is not allowed",
                hint="2-64 characters: lowercase letters, digits, '.', '_', '-'",
            )
        if len(password) < MIN_PASSWORD:
            raise ValidationError(f"a password needs at least {MIN_PASSWORD} characters")
        unknown = sorted(set(roles) - set(ROLES))
        if unknown:
            raise ValidationError(f"unknown role(s) {', '.join(unknown)}", hint=f"roles: {ROLES}")
        with self.db.write() as conn:
            if users.get(conn, name) is not None:
                raise Conflict(f"user {name!r} already exists")
            users.add(conn, name, _hasher.hash(password), roles, rfc3339(self.clock.now()))
        return User(name, tuple(roles))

    def login(self, name: str, password: str) -> tuple[str, str]:
        """Check a password; return a new bearer token and its expiry time."""
        with self.db.read() as conn:
            row = users.get(conn, name)
        try:
            _hasher.verify(row.password_hash if row else _DUMMY_HASH, password)
        except (VerificationError, InvalidHashError):
            raise AuthError("wrong user name or password") from None
        if row is None or row.disabled:
            raise AuthError("wrong user name or password")
        token = secrets.token_urlsafe(32)
        now = self.clock.now()
        expires = rfc3339(now + timedelta(seconds=self.token_ttl_s))
        with self.db.write() as conn:
            users.add_token(conn, _token_hash(token), name, rfc3339(now), expires)
        return token, expires

    def authenticate(self, token: str) -> User:
        with self.db.read() as conn:
            name = users.token_user(conn, _token_hash(token), rfc3339(self.clock.now()))
            row = users.get(conn, name) if name else None
        if row is None or row.disabled:
            raise AuthError(
                "the bearer token is unknown or has expired", hint="log in again to get a new one"
            )
        return User(row.name, row.roles)

    def logout(self, token: str) -> None:
        with self.db.write() as conn:
            users.revoke_token(conn, _token_hash(token))


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
