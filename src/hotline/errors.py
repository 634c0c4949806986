"""Errors raised by hotline: one base class, each carrying a stable code.

Every error a person may meet says what was wrong, names the thing it concerns and,
where one exists, a hint at what to do. The ``code`` is stable and machine readable:
it travels in HTTP error bodies (``{"error": {"code", "message", "hint"}}``) and is
what tests and the peer node match on, never the wording.

The tree::

    HotlineError
    ├── ConfigError                 settings missing or inconsistent
    │   └── UnsafePermissions       a key, database or node folder open to other users
    ├── InternalError               the node failed unexpectedly (a bug): the last-resort 500
    ├── ValidationError             input that does not fit its schema
    │   └── UnsupportedContent      an attachment whose bytes are not an allowed type
    ├── WireError                   an envelope or receipt the line refuses
    │   ├── MalformedMessage        not JSON, or missing / mistyped fields
    │   ├── MessageTooLarge         body over the size limit
    │   ├── UnknownKey              signed with a key this node has not pinned
    │   ├── KeyRevoked              signed by a key after its revocation (or retirement) time
    │   ├── KeyChangePending        a peer's key revocation awaits confirmation out of band
    │   ├── BadSignature            the signature does not verify
    │   ├── WrongRecipient          addressed to another party
    │   ├── SequenceGap             seq skips ahead of the next expected number
    │   ├── PrevMismatch            prev is not the hash of the previous envelope
    │   ├── ClockSkew               created outside the allowed skew window
    │   ├── ReplayConflict          a known id arrives with different content
    │   ├── PhrasebookMismatch      a coded message from a phrasebook this node lacks
    │   ├── ChunkMismatch           an attachment chunk or file that is not what was signed
    │   └── LogFork                 a log contradicts a checkpoint signed of it (fork, rollback)
    ├── AuthError                   no or bad credentials (HTTP 401)
    │   └── LoginRequired           the console has no session: it shows the login page
    ├── Forbidden                   authenticated but not allowed (HTTP 403)
    ├── TooManyAttempts             too many failed logins in a row (HTTP 429)
    │   └── LoginPaused             logging in from this source is paused (HTTP 429)
    ├── TooManyConnections          too many open connections from one address (HTTP 429)
    ├── Busy                        at a bound: password checks or connections (HTTP 503)
    │   └── DatabaseUnavailable     the database cannot be reached (failover): retry (HTTP 503)
    ├── NotFound                    no such message, peer, user (HTTP 404)
    ├── Conflict                    the request contradicts stored state (HTTP 409)
    │   └── VolumeConflict          a notice's volumes conflict; not sent without a reason
    ├── Unreachable                 a node could not be reached over HTTP
    ├── PeerRefused                 a peer refused a request for a reason that is not evidence
    └── ApiError                    an error a node answered to a client (code passed through)
"""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = [
    "ApiError",
    "AuthError",
    "BadSignature",
    "Busy",
    "ChunkMismatch",
    "ClockSkew",
    "ConfigError",
    "Conflict",
    "DatabaseUnavailable",
    "Forbidden",
    "HotlineError",
    "InternalError",
    "KeyChangePending",
    "KeyRevoked",
    "LogFork",
    "LoginPaused",
    "LoginRequired",
    "MalformedMessage",
    "MessageTooLarge",
    "NotFound",
    "PeerRefused",
    "PhrasebookMismatch",
    "PrevMismatch",
    "ReplayConflict",
    "SequenceGap",
    "TooManyAttempts",
    "TooManyConnections",
    "UnknownKey",
    "Unreachable",
    "UnsafePermissions",
    "UnsupportedContent",
    "ValidationError",
    "VolumeConflict",
    "WireError",
    "WrongRecipient",
]


class HotlineError(Exception):
    """Base class: a message for a person, a stable ``code`` and an optional hint."""

    code: ClassVar[str] = "error"
    http_status: ClassVar[int] = 400

    def __init__(self, message: str, *, hint: str | None = None, **context: Any) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.context = context

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape used in HTTP error bodies."""
        out: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.hint:
            out["hint"] = self.hint
        if self.context:
            out["context"] = {k: _jsonable(v) for k, v in self.context.items()}
        return out

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message} (hint: {self.hint})"

    def headers(self) -> dict[str, str]:
        """HTTP headers that go with this error's answer (e.g. ``Retry-After``)."""
        return {}


def _jsonable(value: Any) -> Any:
    if isinstance(value, str | int | bool) or value is None:
        return value
    return str(value)


class ConfigError(HotlineError):
    code = "config"
    http_status = 500


class UnsafePermissions(ConfigError):
    """A secret's file or folder (signing key, database, node folder) that group or
    others may access: the node refuses to start until it is private."""

    code = "unsafe_permissions"


class InternalError(HotlineError):
    """What a client is told when the node failed in a way no code foresaw (a bug): built
    by the HTTP edge's last resort (``hotline.hygiene``), never raised by the services."""

    code = "internal"
    http_status = 500


class ValidationError(HotlineError):
    code = "invalid"
    http_status = 422


class UnsupportedContent(ValidationError):
    """An attachment's bytes are none of the allowed types, or not the type declared."""

    code = "unsupported_content"
    http_status = 415


class WireError(HotlineError):
    code = "wire"
    http_status = 400


class MalformedMessage(WireError):
    code = "malformed"


class MessageTooLarge(WireError):
    code = "too_large"
    http_status = 413


class UnknownKey(WireError):
    code = "unknown_key"
    http_status = 403


class KeyRevoked(WireError):
    """Signed by a peer's key at a time it was no longer valid: after its revocation
    time (a compromised key), or after the rotation that retired it."""

    code = "key_revoked"
    http_status = 403


class KeyChangePending(WireError):
    """A peer's key revocation arrived; it is held until an officer confirms the new
    fingerprint out of band (``hotline peer confirm-key``)."""

    code = "key_change_pending"
    http_status = 403


class BadSignature(WireError):
    code = "bad_signature"
    http_status = 403


class WrongRecipient(WireError):
    code = "wrong_recipient"
    http_status = 421


class SequenceGap(WireError):
    code = "seq_gap"
    http_status = 409


class PrevMismatch(WireError):
    code = "prev_mismatch"
    http_status = 409


class ClockSkew(WireError):
    code = "clock_skew"


class ReplayConflict(WireError):
    code = "replay_conflict"
    http_status = 409


class PhrasebookMismatch(WireError):
    code = "phrasebook_mismatch"
    http_status = 409


class ChunkMismatch(WireError):
    """A chunk (or a whole attachment) a peer served does not hash to what was announced
    or signed: refused, nothing stored is touched."""

    code = "chunk_mismatch"
    http_status = 409


class LogFork(WireError):
    code = "log_fork"
    http_status = 409


class AuthError(HotlineError):
    code = "unauthenticated"
    http_status = 401


class LoginRequired(AuthError):
    """No valid console session: the console answers with the login page, not an error."""

    def __init__(self, message: str = "log in to the console first", **context: Any) -> None:
        super().__init__(message, **context)


class Forbidden(HotlineError):
    code = "forbidden"
    http_status = 403


class TooManyAttempts(HotlineError):
    code = "rate_limited"
    http_status = 429


class LoginPaused(TooManyAttempts):
    """Too many wrong passwords from one source address (or for one name from it): that
    source waits ``retry_after_s`` seconds; the named user can still log in elsewhere."""

    code = "too_many_attempts"

    def __init__(self, message: str, *, retry_after_s: int, hint: str | None = None) -> None:
        super().__init__(message, hint=hint, retry_after_s=retry_after_s)
        self.retry_after_s = retry_after_s

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after_s)}


class TooManyConnections(HotlineError):
    """The source address already holds ``max_connections_per_source`` connections."""

    code = "too_many_connections"
    http_status = 429


class Busy(HotlineError):
    """The node is at a bound (concurrent password checks, or a listener full of busy
    connections): try again in a moment."""

    code = "busy"
    http_status = 503

    def __init__(self, message: str, *, retry_after_s: int = 1, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.retry_after_s = retry_after_s

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after_s)}


class DatabaseUnavailable(Busy):
    """The database did not answer: its server died, or a standby is being promoted.

    Nothing of the request was committed unless the commit itself was in flight, when
    nobody can know; retrying with the same ``client_ref`` is safe either way, so the
    client is told to retry rather than shown a 500.
    """

    code = "database_unavailable"


class NotFound(HotlineError):
    code = "not_found"
    http_status = 404


class Conflict(HotlineError):
    code = "conflict"
    http_status = 409


class VolumeConflict(Conflict):
    """A notice's volumes conflict with the other side's: sent only with a reason given
    (``accept_conflict`` in the API, ``--accept-conflict REASON`` on the command line)."""

    code = "volume_conflict"


class Unreachable(HotlineError):
    code = "unreachable"
    http_status = 503


class PeerRefused(HotlineError):
    """A peer refused a request for a reason that is not evidence (unknown key, malformed …)."""

    code = "peer_refused"
    http_status = 502

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message, peer_status=status, peer_code=code)


class ApiError(HotlineError):
    """An error answered by a node to a client: its code and message are passed through.

    ``error_code`` is the node's code (``not_found`` …); ``status`` its HTTP status.
    """

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        nested = body.get("error")
        error: dict[str, Any] = nested if isinstance(nested, dict) else body
        super().__init__(str(error.get("message", body)), hint=error.get("hint"))
        self.status = status
        self.error_code = str(error.get("code", "error"))


class Redo(Exception):
    """Not an error: a signal inside the node that a transaction must be rolled back and
    done again another way (the receiver stores a batch again with a savepoint per
    envelope when writes failed outside one; see ``services/line/receive.py``). It never
    leaves the function that catches it, so it is outside the tree above."""
