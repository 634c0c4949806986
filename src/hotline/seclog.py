"""The security log and the access log: one JSON object per line, for a log collector.

Every part of the node that accepts or refuses a person or a peer calls
:func:`event` with a stable event name and its facts (user, source address, code …);
nothing else. Each record is one line of JSON (written by ``structlog``)::

    {"time": "2026-12-06T22:32:14.123Z", "event": "login_failed", "party": "us",
     "user": "duty1", "source": "10.0.0.7", "code": "unauthenticated"}

``time`` is UTC (RFC 3339, milliseconds), ``party`` the node's own party; the request's
``source``, ``method`` and ``path`` are added when the event happens while answering a
request (and the caller did not give them). Values are cut to 200 characters and facts
named like a secret (``password``, ``token``, ``secret``) are never written.

Where the lines go is a setting of the node (``security_log``, ``access_log``): a file
(relative paths are in the node's folder; created mode 0600, reopened when a rotation
tool moved it away), ``-`` for standard error (journald keeps it under systemd), or
empty for nowhere. ``docs/operator-guide.md`` says how to ship them to a collector.

A node's logs are :class:`NodeLogs`; the HTTP app binds them (and the request's facts)
for the time of each request (:func:`request`), and a process that serves or administers
one node installs them as the default (:func:`install`) for its background threads and
commands. An event with neither goes to the standard ``logging`` logger
``hotline.security``, as JSON.

Event names in use: ``login_ok``, ``login_failed``, ``login_paused``, ``logout``,
``token_revoked``, ``auth_refused`` (401), ``forbidden`` (403), ``user_added``,
``user_disabled``, ``user_enabled``, ``password_changed``, ``peer_pinned``,
``peer_key_changed``, ``peer_card_updated``, ``peer_refused`` (a peer's request refused,
with its code), the key changes ``key_rotated``, ``key_revoked`` (this node's own),
``peer_key_rotated``, ``peer_key_revoked``, ``peer_key_revocation_held``,
``peer_key_rotation_held``,
``peer_key_confirmed`` (a peer's),
``tls_refused``, ``internal_error`` (an answer 500: the exception's type, never its
text), ``feed_added``, ``feed_removed`` (a track feed configured: what may put tracks in
the picture), ``handover_signed`` (a watch handover signed, ``role`` outgoing or
incoming), ``handover_withdrawn``. The access log writes ``request`` records.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

import structlog

__all__ = [
    "JsonLines",
    "NodeLogs",
    "RequestFacts",
    "current_request",
    "event",
    "identify",
    "install",
    "open_logs",
    "request",
    "uninstall",
]

_logger = logging.getLogger("hotline.security")

#: Facts never written, whatever a caller passes.
SECRET_NAMES = frozenset({"password", "token", "secret", "authorization", "cookie"})
#: Longest text value written (a peer's claimed name could be a megabyte).
MAX_VALUE = 200
STDERR = "-"


class JsonLines:
    """Where one log's lines go: a file (mode 0600, reopened after rotation), stderr, or
    nowhere. Thread safe: one line is written whole."""

    def __init__(self, target: str, directory: Path) -> None:
        self.target = target
        self.path: Path | None = None
        if target and target != STDERR:
            path = Path(target)
            self.path = path if path.is_absolute() else directory / path
        self._lock = threading.Lock()
        self._file: TextIO | None = None
        self._inode: tuple[int, int] | None = None

    def msg(self, line: str) -> None:
        """Write one rendered line (structlog's logger method)."""
        if not self.target:
            return
        with self._lock:
            if self.path is not None:
                try:
                    file = self._open()
                    file.write(line + "\n")
                    file.flush()
                    return
                except OSError as exc:  # a log must never stop the node: say so, and go on
                    _logger.error("cannot write %s (%s); the record follows", self.path, exc)
            sys.stderr.write(line + "\n")
            sys.stderr.flush()

    def _open(self) -> TextIO:
        assert self.path is not None
        if self._file is not None:
            try:
                stat = os.stat(self.path)
                if (stat.st_dev, stat.st_ino) == self._inode:
                    return self._file
            except FileNotFoundError:
                pass
            self._file.close()  # moved away by a rotation tool: start a new file
            self._file = None
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        os.fchmod(fd, 0o600)  # also when the file existed with a wider mode
        stat = os.fstat(fd)
        self._inode = (stat.st_dev, stat.st_ino)
        self._file = os.fdopen(fd, "a", encoding="utf-8")
        return self._file

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None


def _utc_time(_logger: Any, _name: str, record: MutableMapping[str, Any]) -> dict[str, Any]:
    now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    first = {"time": now, "event": record.pop("event", None), "party": record.pop("party", None)}
    return first | dict(record)


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return value if len(value) <= MAX_VALUE else value[:MAX_VALUE] + "…"
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value[:20]]
    return _clean(str(value))


class Records:
    """One log (security or access) of one node: JSON lines with the time and the party."""

    def __init__(self, sink: JsonLines, party: str) -> None:
        self.sink = sink
        self._log = structlog.wrap_logger(
            sink,
            processors=[_utc_time, structlog.processors.JSONRenderer(ensure_ascii=False)],
            wrapper_class=structlog.BoundLogger,
            cache_logger_on_first_use=False,
        ).bind(party=party)

    def write(self, name: str, facts: dict[str, Any]) -> None:
        clean = {k: _clean(v) for k, v in facts.items() if k.lower() not in SECRET_NAMES}
        clean.pop("event", None)
        clean.pop("party", None)
        self._log.msg(name, **clean)


@dataclass
class NodeLogs:
    """A node's security log and access log."""

    security: Records
    access: Records

    def close(self) -> None:
        self.security.sink.close()
        self.access.sink.close()


def open_logs(directory: Path, party: str, *, security: str, access: str) -> NodeLogs:
    """The logs of the node in ``directory`` (targets as the settings give them)."""
    return NodeLogs(
        Records(JsonLines(security, directory), party),
        Records(JsonLines(access, directory), party),
    )


@dataclass
class RequestFacts:
    """What the security log knows of the request being answered (filled as it goes)."""

    method: str
    path: str
    source: str | None
    user: str | None = None
    events: list[str] = field(default_factory=list)


_installed: NodeLogs | None = None
_bound: ContextVar[tuple[NodeLogs, RequestFacts] | None] = ContextVar(
    "hotline_seclog", default=None
)


def install(logs: NodeLogs | None) -> None:
    """Make ``logs`` this process's logs outside requests (a served node, a command)."""
    global _installed
    _installed = logs


def uninstall(logs: NodeLogs) -> None:
    """Stop using ``logs`` outside requests, if they are the installed ones."""
    global _installed
    if _installed is logs:
        _installed = None


@contextmanager
def request(logs: NodeLogs, facts: RequestFacts) -> Iterator[RequestFacts]:
    """Bind ``logs`` and the request's ``facts`` while the request is answered."""
    token = _bound.set((logs, facts))
    try:
        yield facts
    finally:
        _bound.reset(token)


def current_request() -> RequestFacts | None:
    bound = _bound.get()
    return None if bound is None else bound[1]


def identify(user: str) -> None:
    """The request being answered is by ``user`` (authenticated): the logs name them."""
    facts = current_request()
    if facts is not None:
        facts.user = user


def event(name: str, **facts: Any) -> None:
    """Record one security event ``name`` with its ``facts`` (no secrets, ever)."""
    bound = _bound.get()
    if bound is not None:
        logs, req = bound
        req.events.append(name)
        for key in ("source", "method", "path", "user"):
            value = getattr(req, key)
            if key not in facts and value is not None:
                facts[key] = value
        logs.security.write(name, facts)
    elif _installed is not None:
        _installed.security.write(name, facts)
    else:
        clean = {k: _clean(v) for k, v in facts.items() if k.lower() not in SECRET_NAMES}
        _logger.warning("%s", json.dumps({"event": name, **clean}, ensure_ascii=False))
