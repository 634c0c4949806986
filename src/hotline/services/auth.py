"""Operators: passwords (Argon2id via ``argon2-cffi``) and bearer tokens.

Tokens are 256-bit random strings; the node stores only their SHA-256, so a stolen
database does not yield usable tokens. A login for an unknown user still spends the
time of one Argon2 verification, so timing does not reveal which names exist. Each
process keeps the tokens it has validated, and drops them all as soon as the node's
sessions generation moves (:meth:`Auth.authenticate`), so a session ended on one process
ends on all of them at their next request.

Passwords follow a policy (:func:`check_password`): at least :data:`MIN_PASSWORD`
characters, not one of the common passwords that ``zxcvbn`` lists (nor one of them with
digits or signs added), and not containing the user's name.

Guessing is slowed at its *source address*, never by locking an account (see
:class:`Auth`), and counted in the database (``storage/logins.py``), so every process of
the node and every restart count the same guesses. Argon2 itself is bounded: at most
``login_concurrency`` checks run at once in a process; a login that finds none free within
``login_busy_wait_s`` is answered :class:`~hotline.errors.Busy`.
"""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import math
import re
import secrets
import threading
import unicodedata
import weakref
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from hotline import seclog
from hotline.clock import Clock, parse_rfc3339, rfc3339
from hotline.domain.line import HIDDEN_CATEGORIES
from hotline.errors import AuthError, Busy, Conflict, LoginPaused, NotFound, ValidationError
from hotline.storage import logins, users
from hotline.storage.db import Database

ROLES = ("officer", "translator", "commander", "auditor", "admin", "feed")
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9._-]{1,63}$")
MIN_PASSWORD = 12
#: The source of a login made inside a node's own process (a script, a test): no address.
LOCAL = "local"
#: How the security log names a login's user when the name is no user's.
UNKNOWN = "(unknown name)"
#: How long a source an operator logged in from stays theirs (see :class:`Auth`).
KNOWN_SOURCE_DAYS = 30
#: How many validated tokens a process keeps (see :meth:`Auth.authenticate`).
TOKEN_CACHE_SIZE = 10_000

_hasher = PasswordHasher()
#: The hash an unknown name is checked against (same cost as a real one); made on first
#: use, not at import (half a second). ``hotline.testing`` may set it beforehand.
_DUMMY_HASH: str | None = None
_dummy_lock = threading.Lock()


def _dummy_hash() -> str:
    global _DUMMY_HASH
    with _dummy_lock:
        if _DUMMY_HASH is None:
            _DUMMY_HASH = _hasher.hash("not a real password, only spends the same time")
        return _DUMMY_HASH


#: zxcvbn's score (0-4) a password must reach: 3 is "safely unguessable" at a
#: slowed online attack, which is what a paused, Argon2-hashed login is.
MIN_STRENGTH = 3


def _strength(password: str, name: str) -> int:
    """zxcvbn's estimate (0-4) of how hard ``password`` is to guess (the name counts as a
    word an attacker knows); only the first 100 characters are scored, which keeps it
    fast."""
    from zxcvbn import zxcvbn

    return int(zxcvbn(password[:100], user_inputs=[name])["score"])


@cache
def _common_passwords() -> frozenset[str]:
    """zxcvbn's 30,000 most common passwords from leaked sets, read once, when needed."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


def source_address(host: str) -> str:
    """The address guesses are counted by: an IPv4 address as it is, an IPv6 address by
    its /64 (one host commonly holds a whole /64), anything else (``local``) as it is."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


_DECORATION = re.compile(r"^[\W\d_]*(.*?)[\W\d_]*$")


def check_password(name: str, password: str) -> None:
    """Refuse a password that is short, common, contains the user's name, or is easy to
    guess by zxcvbn's estimate, saying why."""
    if len(password) < MIN_PASSWORD:
        raise ValidationError(
            f"a password needs at least {MIN_PASSWORD} characters, not {len(password)}",
            hint="a few unrelated words make a long password that is easy to type",
            field="password",
        )
    lowered = password.lower()
    core = _DECORATION.sub(r"\1", lowered)  # without leading and trailing digits and signs
    common = _common_passwords()
    if lowered in common or (core and core in common) or lowered.replace(" ", "") in common:
        raise ValidationError(
            "this password is one of the most common passwords (or one of them with digits "
            "or signs added): it would be among the first guessed",
            hint="choose a password of your own, e.g. a few unrelated words",
            field="password",
        )
    if len(name) >= 3 and name.lower() in lowered:
        raise ValidationError(
            f"the password contains the user name {name!r}",
            hint="choose a password that does not contain the user name",
            field="password",
        )
    if _strength(password, name) < MIN_STRENGTH:
        raise ValidationError(
            "this password is too easy to guess (repeated or sequential characters, "
            "keyboard rows, common words)",
            hint="a few unrelated words make a long password that is easy to type",
            field="password",
        )


@dataclass(frozen=True)
class User:
    name: str
    roles: tuple[str, ...]


@dataclass(frozen=True)
class _Attempt:
    """One login attempt, before its password is checked."""

    name: str
    source: str
    row: users.UserRow | None
    known: bool  # from an address the user has logged in from lately
    shown: str  # the name as the security log shows it
    counted: str  # the name as failures are counted (a digest when it is no user's)


class Auth:
    """Operators, their passwords and bearer tokens.

    Guessing is slowed at the source address it comes from, so that nobody can lock an
    officer out by guessing their password from elsewhere. Within ``lockout_s`` seconds:

    * ``source_max_failures`` wrong passwords from one address (any names) pause that
      address for every name;
    * ``max_failures`` wrong passwords for one name from one address pause that address
      for that name;
    * once a name has had ``user_max_failures`` wrong passwords from all addresses (an
      attack spread over many), an address the user has not logged in from within
      :data:`KNOWN_SOURCE_DAYS` gets one wrong guess for that name; their own keep theirs.

    A pause lasts until enough failures leave the window (``Retry-After`` says when). A
    right password from an address clears that name's failures there and nothing else.
    Failures older than the window are deleted as new ones are counted.
    """

    def __init__(
        self,
        db: Database,
        clock: Clock,
        token_ttl_s: int,
        *,
        max_failures: int = 5,
        lockout_s: int = 300,
        source_max_failures: int = 20,
        user_max_failures: int = 20,
        concurrency: int = 2,
        busy_wait_s: float = 2.0,
    ) -> None:
        self.db = db
        self.clock = clock
        self.token_ttl_s = token_ttl_s
        self.max_failures = max_failures
        self.lockout_s = lockout_s
        self.source_max_failures = source_max_failures
        self.user_max_failures = user_max_failures
        self.busy_wait_s = busy_wait_s
        self._checks = threading.BoundedSemaphore(concurrency)
        # one more, kept for an operator at an address they have logged in from: a flood
        # of logins from elsewhere does not keep them out
        self._known_checks = threading.BoundedSemaphore(1)
        # logins from a server's event loop (:meth:`login_async`) run on threads of their
        # own, a few more than the checks (one kept for known addresses), and wait for one
        # in the loop
        self._login_threads = concurrency + 3
        self._executor: ThreadPoolExecutor | None = None
        # validated tokens: hash -> (user, expires_at), while the sessions generation is
        # ``_cache_generation`` (see :meth:`authenticate`)
        self._cache: dict[str, tuple[User, str]] = {}
        self._cache_generation: int | None = None
        self._cache_lock = threading.Lock()
        self._gates: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, tuple[asyncio.Semaphore, asyncio.Semaphore]
        ] = weakref.WeakKeyDictionary()

    # -- operators -------------------------------------------------------------------------

    def add_user(
        self,
        name: str,
        password: str,
        roles: list[str] | None = None,
        display_name: str | None = None,
    ) -> User:
        roles = roles or ["officer"]
        display_name = _display_name(display_name)
        if not NAME_PATTERN.match(name):
            raise ValidationError(
                f"user name {name!r} is not allowed",
                hint="2-64 characters: lowercase letters, digits, '.', '_', '-'",
            )
        check_password(name, password)
        unknown = sorted(set(roles) - set(ROLES))
        if unknown:
            raise ValidationError(f"unknown role(s) {', '.join(unknown)}", hint=f"roles: {ROLES}")
        with self.db.write() as conn:
            if users.get(conn, name) is not None:
                raise Conflict(f"user {name!r} already exists")
            now = rfc3339(self.clock.now())
            users.add(conn, name, _hasher.hash(password), roles, now, display_name)
        return User(name, tuple(roles))

    def set_display_name(self, name: str, display_name: str | None) -> None:
        """Name an operator to the other side (signed into the envelopes they send from
        now on; those already sent keep the name they were signed with); None: no name."""
        display_name = _display_name(display_name)
        with self.db.write() as conn:
            if users.get(conn, name) is None:
                raise NotFound(f"no user {name!r} on this node")
            users.set_display_name(conn, name, display_name)

    def users(self) -> list[dict[str, Any]]:
        """Every operator: name, roles, since when, and whether disabled (no hashes)."""
        with self.db.read() as conn:
            rows = users.all_users(conn)
        return [
            {"name": r.name, "display_name": r.display_name, "roles": list(r.roles),
             "created_at": r.created_at, "disabled": r.disabled}
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
        check_password(name, password)
        with self.db.write() as conn:
            if users.get(conn, name) is None:
                raise NotFound(f"no user {name!r} on this node")
            users.set_password(conn, name, _hasher.hash(password))
            return users.revoke_all(conn, name)

    # -- logging in ------------------------------------------------------------------------

    def login(self, name: str, password: str, *, source: str = LOCAL) -> tuple[str, str]:
        """Check a password from ``source`` (the client's address); return a new bearer
        token and its expiry time.

        Raises :class:`LoginPaused` when ``source`` is paused (for this name or every
        name), :class:`Busy` when no password check is free in time, :class:`AuthError`
        for a wrong name or password.
        """
        return self._check(self._attempt(name, source), password)

    async def login_async(
        self, name: str, password: str, *, source: str = LOCAL
    ) -> tuple[str, str]:
        """:meth:`login`, from a server's event loop. The pause is checked first (a quick
        read); then the login waits in the loop for one of a few threads of its own (a login
        from the user's own address for the one kept for such), so a flood of logins never
        holds the worker threads the rest of the node needs (a peer's delivery is verified
        on them); none free within ``busy_wait_s``: :class:`Busy`."""
        loop = asyncio.get_running_loop()
        if self._executor is None:
            self._executor = ThreadPoolExecutor(self._login_threads + 1, "login")
        attempt = await loop.run_in_executor(self._executor, self._attempt, name, source)
        gates = self._gates.get(loop)
        if gates is None:
            gates = (asyncio.Semaphore(self._login_threads - 1), asyncio.Semaphore(1))
            gates = self._gates.setdefault(loop, gates)
        gate = gates[1] if attempt.known else gates[0]
        try:
            async with asyncio.timeout(self.busy_wait_s):
                await gate.acquire()
        except TimeoutError:
            raise self._busy(attempt.shown, source) from None
        try:
            return await loop.run_in_executor(self._executor, self._check, attempt, password)
        finally:
            gate.release()

    def _attempt(self, name: str, source: str) -> _Attempt:
        """Who is trying from where, refused at once if that source is paused."""
        source = source_address(source)
        now = self.clock.now()
        with self.db.read() as conn:
            row = users.get(conn, name)
            known = row is not None and logins.is_known_source(
                conn, name, source, rfc3339(now - timedelta(days=KNOWN_SOURCE_DAYS))
            )
        # a name that is no user's is neither logged nor stored as it is: it may be a
        # password typed in the wrong box (its digest still counts its guesses)
        shown = name if row is not None else UNKNOWN
        counted = name if row is not None else "#" + _token_hash(name)[:40]
        attempt = _Attempt(name, source, row, known, shown, counted)
        self._check_not_paused(counted, source, shown)
        return attempt

    def _check(self, attempt: _Attempt, password: str) -> tuple[str, str]:
        """Check the password (in one of the few slots), then issue a token."""
        name, source, row, shown = attempt.name, attempt.source, attempt.row, attempt.shown
        with self._check_slot(shown, source, known=attempt.known):
            # Again, now that a slot is held, and the failure recorded before the slot is
            # let go: guesses sent at once all passed the first check before any failed,
            # so at most a slot's worth more than the pause allows are ever checked.
            self._check_not_paused(attempt.counted, source, shown)
            try:
                _hasher.verify(row.password_hash if row else _dummy_hash(), password)
                right = True
            except (VerificationError, InvalidHashError):
                right = False
            if not right or row is None or row.disabled:
                self._failed(attempt.counted, source, shown)
                raise AuthError("wrong user name or password")
        token = secrets.token_urlsafe(32)
        now = self.clock.now()
        expires = rfc3339(now + timedelta(seconds=self.token_ttl_s))
        with self.db.write() as conn:
            if _hasher.check_needs_rehash(row.password_hash):
                # made with other Argon2 parameters (older, or a test launcher's cheap
                # ones): keep it no weaker than this node's own from now on
                users.set_password(conn, name, _hasher.hash(password))
            users.add_token(conn, _token_hash(token), name, rfc3339(now), expires)
            logins.clear_pair(conn, name, source)
            forget = rfc3339(now - timedelta(days=KNOWN_SOURCE_DAYS))
            logins.remember_source(conn, name, source, rfc3339(now), forget)
        seclog.event("login_ok", user=name, source=source)
        return token, expires

    @staticmethod
    def _busy(shown: str | None, source: str) -> Busy:
        """The answer when no check is free (``shown``: the name as the log may show it;
        None where it is not known yet: the event loop reads no database)."""
        seclog.event("login_paused", user=shown, source=source, code=Busy.code, scope="busy")
        return Busy(
            "the node is checking as many passwords as it may at once: try again shortly",
            retry_after_s=1,
            hint="many logins are arriving at once; if nobody should be logging in, "
            "this may be an attack (see the security log)",
        )

    @contextmanager
    def _check_slot(self, name: str, source: str, *, known: bool) -> Iterator[None]:
        """One of the process's few Argon2 slots, or :class:`Busy` after ``busy_wait_s``.

        A login from an address the user has logged in from (``known``) may also take the
        slot kept for such logins."""
        slot = self._checks
        if known and self._known_checks.acquire(timeout=self.busy_wait_s / 2):
            slot = self._known_checks
        elif not self._checks.acquire(timeout=self.busy_wait_s / 2 if known else self.busy_wait_s):
            raise self._busy(name, source)
        try:
            yield
        finally:
            slot.release()

    def _check_not_paused(self, name: str, source: str, shown: str) -> None:
        if self.lockout_s <= 0:
            return
        now = self.clock.now()
        since = rfc3339(now - timedelta(seconds=self.lockout_s))
        with self.db.read() as conn:
            from_source = logins.recent_from_source(conn, source, since, self.source_max_failures)
            allowance = self.max_failures
            if (
                self.max_failures > 1
                and logins.count_for_user(conn, name, since) >= self.user_max_failures
                and not logins.is_known_source(
                    conn, name, source, rfc3339(now - timedelta(days=KNOWN_SOURCE_DAYS))
                )
            ):
                allowance = 1  # the name is under attack from many addresses
            pair = logins.recent_for_pair(conn, name, source, since, allowance)
        if len(from_source) >= self.source_max_failures:
            wait = self._wait_s(from_source[-1], now.timestamp())
            seclog.event(
                "login_paused", user=shown, source=source, code=LoginPaused.code, scope="source",
                retry_after_s=wait,
            )  # fmt: skip
            raise LoginPaused(
                f"too many wrong passwords from this address ({source}): logging in from "
                f"it is paused for {wait} s",
                retry_after_s=wait,
                hint="wait; the pause ends by itself",
            )
        if len(pair) >= allowance:
            wait = self._wait_s(pair[-1], now.timestamp())
            seclog.event(
                "login_paused", user=shown, source=source, code=LoginPaused.code, scope="user",
                retry_after_s=wait,
            )  # fmt: skip
            raise LoginPaused(
                f"too many wrong passwords for this name from this address ({source}): "
                f"logging in with this name from it is paused for {wait} s",
                retry_after_s=wait,
                hint="wait, or log in from your own workstation; an administrator can set "
                "a new password (`hotline user password`)",
            )

    def _wait_s(self, oldest_counted: str, now: float) -> int:
        """Seconds until the failure at ``oldest_counted`` leaves the window (at least 1)."""
        left = parse_rfc3339(oldest_counted).timestamp() + self.lockout_s - now
        return max(1, math.ceil(left))

    def _failed(self, name: str, source: str, shown: str) -> None:
        now = self.clock.now()
        seclog.event("login_failed", user=shown, source=source, code=AuthError.code)
        if self.lockout_s <= 0:
            return
        with self.db.write() as conn:
            logins.prune_failures(conn, rfc3339(now - timedelta(seconds=self.lockout_s)))
            logins.add_failure(conn, name, source, rfc3339(now))

    # -- tokens ----------------------------------------------------------------------------

    def authenticate(self, token: str) -> User:
        """The user of a bearer token (or a console session's), or :class:`AuthError`.

        Validated tokens are kept in this process (by their hash, at most
        :data:`TOKEN_CACHE_SIZE`, each until its expiry by the node's clock), so a request
        costs one read of the one-row sessions generation instead of the token and user
        lookups. Every change that ends a session bumps that generation in its own
        transaction, on whichever process of the node makes it; the generation is read
        before the token, so a cached token is used only while no session has ended since
        it was checked, and a logout, revocation, disable or new password ends the session
        at the next request on every process.
        """
        token_hash = _token_hash(token)
        now = rfc3339(self.clock.now())
        with self.db.read() as conn:
            generation = users.generation(conn)
            with self._cache_lock:
                if generation is None or generation != self._cache_generation:
                    self._cache.clear()
                    self._cache_generation = generation
                hit = self._cache.get(token_hash)
            if hit is not None and now < hit[1]:
                return hit[0]
            found = users.token_session(conn, token_hash, now)
        if found is None or found[0].disabled:
            raise AuthError(
                "the bearer token is unknown or has expired", hint="log in again to get a new one"
            )
        row, expires = found
        user = User(row.name, row.roles)
        with self._cache_lock:
            if generation is not None and generation == self._cache_generation:
                self._cache[token_hash] = (user, expires)
                while len(self._cache) > TOKEN_CACHE_SIZE:
                    del self._cache[next(iter(self._cache))]  # the oldest validated
        return user

    def logout(self, token: str, *, source: str = LOCAL) -> None:
        token_hash = _token_hash(token)
        with self.db.write() as conn:
            name = users.token_user(conn, token_hash, rfc3339(self.clock.now()))
            users.revoke_token(conn, token_hash)
        if name is not None:
            seclog.event("logout", user=name, source=source)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _display_name(text: str | None) -> str | None:
    """A display name as the envelope carries it (``domain.line.Officer``): 1-200
    printable characters, surrounding spaces dropped; None or blank: no name."""
    if text is None or not text.strip():
        return None
    text = text.strip()
    if len(text) > 200 or any(unicodedata.category(c) in HIDDEN_CATEGORIES for c in text):
        raise ValidationError(
            "a display name is 1-200 printable characters",
            hint="no control or bidirectional characters",
            field="display_name",
        )
    return text
