"""Operators: passwords (Argon2id via ``argon2-cffi``) and bearer tokens.

Tokens are 256-bit random strings; the node stores only their SHA-256, so a stolen
database does not yield usable tokens. A login for an unknown user still spends the
time of one Argon2 verification, so timing does not reveal which names exist.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import threading
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from hotline.clock import Clock, rfc3339
from hotline.errors import AuthError, Conflict, NotFound, TooManyAttempts, ValidationError
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
    """Operators, their passwords and bearer tokens.

    Guessing is slowed: after ``max_failures`` wrong passwords for one user name within
    ``lockout_s``, that name cannot log in for ``lockout_s`` (counted from the last failure;
    a right password meanwhile is refused too, and says so). The count lives in this
    process's memory: a restart forgets it.
    """

    def __init__(
        self,
        db: Database,
        clock: Clock,
        token_ttl_s: int,
        *,
        max_failures: int = 5,
        lockout_s: int = 300,
    ) -> None:
        self.db = db
        self.clock = clock
        self.token_ttl_s = token_ttl_s
        self.max_failures = max_failures
        self.lockout_s = lockout_s
        self._failures: dict[str, list[float]] = {}
        self._failures_lock = threading.Lock()

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

    def users(self) -> list[dict[str, Any]]:
        """Every operator: name, roles, since when, and whether disabled (no hashes)."""
        with self.db.read() as conn:
            rows = users.all_users(conn)
        return [
            {"name": r.name, "roles": list(r.roles), "created_at": r.created_at,
             "disabled": r.disabled}
            for r in rows
        ]  # fmt: skip

    def set_disabled(self, name: str, disabled: bool) -> int:
        """Disable an operator (every token and console session ends at once; their name
        and history stay) or enable them again; returns the sessions ended."""
        with self.db.write() as conn:
            if users.get(conn, name) is None:
                raise NotFound(f"no user {name!r} on this node")
            users.set_disabled(conn, name, disabled)
            return users.revoke_all(conn, name) if disabled else 0

    def set_password(self, name: str, password: str) -> int:
        """Give an operator a new password; their tokens and sessions end (returns how many)."""
        if len(password) < MIN_PASSWORD:
            raise ValidationError(f"a password needs at least {MIN_PASSWORD} characters")
        with self.db.write() as conn:
            if users.get(conn, name) is None:
                raise NotFound(f"no user {name!r} on this node")
            users.set_password(conn, name, _hasher.hash(password))
            return users.revoke_all(conn, name)

    def login(self, name: str, password: str) -> tuple[str, str]:
        """Check a password; return a new bearer token and its expiry time."""
        self._check_not_locked(name)
        with self.db.read() as conn:
            row = users.get(conn, name)
        try:
            _hasher.verify(row.password_hash if row else _DUMMY_HASH, password)
        except (VerificationError, InvalidHashError):
            self._failed(name)
            raise AuthError("wrong user name or password") from None
        if row is None or row.disabled:
            self._failed(name)
            raise AuthError("wrong user name or password")
        with self._failures_lock:
            self._failures.pop(name, None)
        token = secrets.token_urlsafe(32)
        now = self.clock.now()
        expires = rfc3339(now + timedelta(seconds=self.token_ttl_s))
        with self.db.write() as conn:
            if _hasher.check_needs_rehash(row.password_hash):
                # made with other Argon2 parameters (older, or a test launcher's cheap
                # ones): keep it no weaker than this node's own from now on
                users.set_password(conn, name, _hasher.hash(password))
            users.add_token(conn, _token_hash(token), name, rfc3339(now), expires)
        return token, expires

    def _recent_failures(self, name: str, now: float) -> list[float]:
        return [t for t in self._failures.get(name, []) if now - t < self.lockout_s]

    def _check_not_locked(self, name: str) -> None:
        now = self.clock.now().timestamp()
        with self._failures_lock:
            recent = self._recent_failures(name, now)
        if len(recent) >= self.max_failures:
            wait = int(self.lockout_s - (now - recent[-1])) + 1
            raise TooManyAttempts(
                f"too many wrong passwords for {name!r}: logging in is paused for {wait} s",
                hint="wait, or ask an administrator if the account is under attack",
            )

    def _failed(self, name: str) -> None:
        now = self.clock.now().timestamp()
        with self._failures_lock:
            self._failures[name] = [*self._recent_failures(name, now), now][-self.max_failures :]
            if len(self._failures) > 10_000:  # names tried at random: keep memory bounded
                self._failures.pop(next(iter(self._failures)))

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
