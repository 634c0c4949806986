"""The node's HTTP server: its listeners in one event loop, with limits before any work.

:func:`run` serves one or more :class:`Listener` (name, address, ASGI app, optional
``ssl.SSLContext``) with one ``uvicorn.Server`` each, started together and stopped
together: SIGTERM or SIGINT is handled once, here, and sets ``should_exit`` on every
server (uvicorn's own per-server signal capture is never installed, so two servers do not
fight over the handlers). A second SIGINT forces the exit. An app served by several
listeners runs its lifespan (the node's background jobs) once, and is shut down last.

What uvicorn offers is used as it stands: ``limit_concurrency`` (a request arriving while
the listener is full gets 503), ``backlog``, ``timeout_keep_alive`` and
``h11_max_incomplete_event_size`` (request line and headers over ``max_header_bytes`` get
400). What it lacks is added by :class:`LimitedH11Protocol`, a subclass of uvicorn's h11
protocol, one class per listener:

- **header read timeout**: a connection whose request line and headers are not complete
  within ``header_timeout_s`` of the connection (or, on a kept-alive connection, of the
  first byte of the next request) is closed. A connection that sends nothing at all is
  closed too: uvicorn arms no timer before the first response;
- **body read timeout**: a body not complete within ``body_timeout_s`` of its headers:
  the connection is closed (the app, if still reading, sees the client gone);
- **connections per source address and per listener**: the connection over
  ``max_connections_per_source`` from one address gets ``429 too_many_connections`` in the
  one error shape and is closed before a byte of it is read. Over ``max_connections`` the
  connection that has waited longest for a request's headers is closed to make room, so
  half-sent requests cannot lock out whole ones; if none waits (all are busy with a
  request), the new connection gets ``503 busy``. ``backlog`` (256) also bounds how many
  connections one accept round takes before the requests of earlier ones are read;
- **connections counted before their TLS handshake**: asyncio calls a protocol's
  ``connection_made`` only once a TLS handshake is over, so a server created with ``ssl``
  never sees (nor bounds) a connection still in its handshake. A TLS listener is
  therefore created *without* ``ssl``: :class:`_TlsHandshake` takes each TCP connection,
  stops reading at once, counts it at the gate (over ``max_connections_per_source`` it is
  closed, without an answer: an answer would need the handshake the limit saves), then
  upgrades it with ``loop.start_tls`` (``tls_handshake_timeout_s``) and hands the TLS
  transport to the listener's h11 protocol, whose header timeout starts then. While it
  handshakes it counts as waiting, like a connection awaiting its headers (the first to
  close when the listener is full); a failed, refused (the context's ``sni_callback``
  answers an alert, an unpinned client certificate) or timed-out handshake just closes
  and frees its place;
- **write timeout**: a client that stops reading its answer (its receive window full)
  makes the transport pause writing; if it has not resumed within ``write_timeout_s``
  the connection is aborted (counted in ``_Gate.write_timed_out``), so a connection busy
  sending cannot be held for ever (nothing evicts a busy connection).

Why h11 and not httptools: h11 bounds the request line and headers
(``h11_max_incomplete_event_size``; uvicorn has no such option for httptools), is pure
Python with a state machine whose states (``IDLE`` → ``SEND_BODY`` → ``DONE``) say exactly
which part of a request is still awaited, which is all the two timeouts need, and keeps
one parser on every platform. Its cost (pure-Python parsing) is small beside what a
request does here (signatures, database).
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import resource
import signal
import ssl
import threading
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

import h11
import uvicorn
from starlette.types import ASGIApp
from uvicorn.protocols.http.h11_impl import H11Protocol

from hotline.config import NodeSettings
from hotline.errors import Busy, ConfigError, HotlineError, TooManyConnections
from hotline.services.auth import source_address

logger = logging.getLogger("hotline.server")

_SIGNALS = (signal.SIGINT, signal.SIGTERM)


#: Seconds a closed TLS connection waits for the client's close_notify.
TLS_SHUTDOWN_S = 2.0


@dataclass(frozen=True)
class Limits:
    """The connection-level limits of a listener (from :class:`NodeSettings`)."""

    header_timeout_s: float = 10.0
    body_timeout_s: float = 30.0
    tls_handshake_timeout_s: float = 10.0
    write_timeout_s: float = 30.0
    max_connections: int = 1000
    max_connections_per_source: int = 64
    max_header_bytes: int = 16_384
    keep_alive_s: float = 5.0
    backlog: int = 256

    @classmethod
    def from_settings(cls, settings: NodeSettings) -> Limits:
        return cls(
            header_timeout_s=settings.header_timeout_s,
            body_timeout_s=settings.body_timeout_s,
            tls_handshake_timeout_s=settings.tls_handshake_timeout_s,
            write_timeout_s=settings.write_timeout_s,
            max_connections=settings.max_connections,
            max_connections_per_source=settings.max_connections_per_source,
            max_header_bytes=settings.max_header_bytes,
        )


@dataclass(frozen=True)
class Listener:
    """One address the node listens on, the app it serves there, and its TLS context."""

    name: str
    host: str
    port: int
    app: ASGIApp
    ssl: ssl.SSLContext | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'https' if self.ssl else 'http'}://{host}:{self.port}"


class _Slot(Protocol):
    """What the gate counts: a connection (in its TLS handshake, or speaking HTTP)."""

    source: str

    def close(self, why: str) -> None: ...


@dataclass
class _Gate:
    """Open connections of one listener, in all and per source address, and those of
    them waiting (for a request's headers, or in their TLS handshake), oldest first (the
    ones to close when full)."""

    limits: Limits
    per_source: dict[str, int] = field(default_factory=dict)
    open: int = 0
    waiting: dict[_Slot, None] = field(default_factory=dict)
    refused: int = 0
    evicted: int = 0
    timed_out: int = 0
    write_timed_out: int = 0

    def admit(self, connection: _Slot) -> HotlineError | None:
        """Count a new connection in, or say why it is refused (it is then not counted).

        Over ``max_connections_per_source`` it is refused. Over ``max_connections`` the
        connection that has waited longest for a request's headers is closed to make
        room: a request that arrives whole is served while half-sent ones hold the
        listener (a new connection is the last to go: ``max_connections`` newer ones
        must come before its request is read). If none waits, it is refused."""
        source = connection.source
        held = self.per_source.get(source, 0)
        if held >= self.limits.max_connections_per_source:
            self.refused += 1
            return TooManyConnections(
                f"{source} already holds {held} connections to this listener; the limit "
                f"is {self.limits.max_connections_per_source}",
                hint="reuse connections (keep-alive) or close idle ones",
            )
        if self.open >= self.limits.max_connections:
            oldest = next(iter(self.waiting), None)
            if oldest is None:
                self.refused += 1
                return Busy(
                    f"this listener already holds {self.limits.max_connections} connections",
                    hint="retry in a few seconds",
                )
            self.evicted += 1
            oldest.close("a newer connection needed its place")
        self.per_source[source] = held + 1
        self.open += 1
        return None

    def release(self, connection: _Slot) -> None:
        self.waiting.pop(connection, None)
        self.open -= 1
        held = self.per_source.get(connection.source, 0) - 1
        if held > 0:
            self.per_source[connection.source] = held
        else:
            self.per_source.pop(connection.source, None)


def _raw_answer(error: HotlineError) -> bytes:
    """A whole HTTP/1.1 answer in the one error shape, written before any request is read."""
    body = json.dumps({"error": error.to_dict()}).encode("utf-8")
    reason = {429: "Too Many Requests", 503: "Service Unavailable"}.get(error.http_status, "")
    head = (
        f"HTTP/1.1 {error.http_status} {reason}\r\n"
        "content-type: application/json\r\n"
        f"content-length: {len(body)}\r\n"
        "retry-after: 5\r\n"
        "connection: close\r\n\r\n"
    )
    return head.encode("ascii") + body


class LimitedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with header, body and write timeouts and connection bounds.

    Subclassed once per listener by :func:`protocol_for` (``gate`` is the listener's).
    """

    gate: ClassVar[_Gate]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.source = ""
        self._admitted = False
        self._adopted = False
        self._header_timer: asyncio.TimerHandle | None = None
        self._body_timer: asyncio.TimerHandle | None = None
        self._write_timer: asyncio.TimerHandle | None = None

    def adopt(self, source: str) -> None:
        """Take over the gate's place of a connection counted before its TLS handshake
        (call before :meth:`connection_made`)."""
        self.source = source
        self._adopted = True

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if self._adopted:
            self._admitted = True
            self._watch()
            return
        self.source = source_of(self.client[0]) if self.client else "?"
        refusal = self.gate.admit(self)
        if refusal is not None:
            self.connections.discard(self)  # it holds no place: it never reads a byte
            transport.write(_raw_answer(refusal))
            transport.close()
            return
        self._admitted = True
        self._watch()

    def connection_lost(self, exc: Exception | None) -> None:
        self._write_timer = _cancel(self._write_timer)
        self._let_go()
        super().connection_lost(exc)

    def pause_writing(self) -> None:
        """The client does not read (its window is full): it has ``write_timeout_s``."""
        super().pause_writing()
        if self._write_timer is None:
            self._write_timer = self.loop.call_later(
                self.gate.limits.write_timeout_s, self._write_stalled
            )

    def resume_writing(self) -> None:
        self._write_timer = _cancel(self._write_timer)
        super().resume_writing()

    def _write_stalled(self) -> None:
        # Armed until the connection is lost, even once closed (a close waits for the
        # buffer to drain): abort drops what the client did not read.
        self._write_timer = None
        self.gate.write_timed_out += 1
        logger.info(
            "aborting a connection from %s: it read nothing of its answer for %g s",
            self.source,
            self.gate.limits.write_timeout_s,
        )
        self._let_go()
        self.transport.abort()

    def data_received(self, data: bytes) -> None:
        if not self._admitted:
            return  # refused or closed: nothing more of it is read
        super().data_received(data)
        self._watch()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self._admitted:
            self._watch()

    def close(self, why: str) -> None:
        """Close this connection now (timed out, or its place is needed)."""
        if self._admitted:
            logger.info("closing a connection from %s: %s", self.source, why)
        self._let_go()
        if not self.transport.is_closing():
            self.transport.close()

    def _let_go(self) -> None:
        self._header_timer = _cancel(self._header_timer)
        self._body_timer = _cancel(self._body_timer)
        if self._admitted:
            self._admitted = False
            self.gate.release(self)

    def _watch(self) -> None:
        """Arm the timer of the part of a request still awaited, cancel the other."""
        if self.transport.is_closing():
            self._let_go()
            return
        state = self.conn.their_state
        if state is h11.IDLE:  # awaiting a request line and headers (or idle, kept alive)
            self.gate.waiting.setdefault(self, None)
            self._body_timer = _cancel(self._body_timer)
            if self._header_timer is None and self._awaiting_headers():
                self._header_timer = self.loop.call_later(
                    self.gate.limits.header_timeout_s, self._timed_out, "its headers"
                )
            return
        self.gate.waiting.pop(self, None)
        self._header_timer = _cancel(self._header_timer)
        if state is h11.SEND_BODY:
            if self._body_timer is None:
                self._body_timer = self.loop.call_later(
                    self.gate.limits.body_timeout_s, self._timed_out, "its body"
                )
        else:
            self._body_timer = _cancel(self._body_timer)

    def _awaiting_headers(self) -> bool:
        # Between requests of a kept-alive connection, with nothing received yet,
        # uvicorn's keep-alive timer is the one that runs.
        return self.timeout_keep_alive_task is None

    def _timed_out(self, part: str) -> None:
        self._header_timer = self._body_timer = None
        self.gate.timed_out += 1
        self.close(f"{part} did not arrive in time")


#: The source a connection is counted against: its IPv4 address, or the /64 of its IPv6
#: address (one host is given a whole /64). The same rule counts password guesses.
source_of = source_address


def _cancel(timer: asyncio.TimerHandle | None) -> asyncio.TimerHandle | None:
    """Cancel ``timer`` if armed; returns ``None``, the value of a timer not armed."""
    if timer is not None:
        timer.cancel()
    return None


def protocol_for(limits: Limits) -> type[LimitedH11Protocol]:
    """A protocol class of its own for one listener: its counters are the listener's."""
    return type("ListenerProtocol", (LimitedH11Protocol,), {"gate": _Gate(limits)})


class _TlsHandshake(asyncio.Protocol):
    """A TCP connection to a TLS listener from its first moment: counted at the gate,
    upgraded to TLS, then handed to the listener's h11 protocol.

    Until the hand-over it is also the TLS transport's protocol: what arrives between the
    end of the handshake and the hand-over (a client's first request may come with its
    last handshake message) is kept and passed on.
    """

    def __init__(self, server: _Server) -> None:
        self.server = server
        self.gate = server.gate
        self.source = "?"
        self.transport: asyncio.Transport | None = None
        self._admitted = False
        self._received: list[bytes] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        # Not a byte is read here: start_tls resumes reading for the TLS protocol.
        transport.pause_reading()
        self.transport = transport
        peer = transport.get_extra_info("peername")
        self.source = source_of(str(peer[0])) if isinstance(peer, tuple) and peer else "?"
        if self.gate.admit(self) is not None:
            # No answer: an answer would need the very handshake the limit saves.
            transport.abort()
            return
        self._admitted = True
        self.gate.waiting[self] = None
        task = asyncio.get_running_loop().create_task(self._upgrade(transport))
        self.server.handshakes[self] = task
        task.add_done_callback(lambda _task: self.server.handshakes.pop(self, None))

    def data_received(self, data: bytes) -> None:
        self._received.append(data)  # decrypted, between the handshake and the hand-over

    def close(self, why: str) -> None:
        """Close this connection now (its place is needed, or the server stops); once
        handed to the h11 protocol, that one is what closes it."""
        if not self._admitted:
            return
        logger.info("closing a connection from %s in its TLS handshake: %s", self.source, why)
        self._let_go()
        if self.transport is not None:
            self.transport.abort()

    def _let_go(self) -> None:
        if self._admitted:
            self._admitted = False
            self.gate.release(self)

    async def _upgrade(self, transport: asyncio.Transport) -> None:
        assert self.server.listener.ssl is not None
        try:
            if transport.is_closing():  # closed before this task ran: no handshake
                return
            try:
                tls = await asyncio.get_running_loop().start_tls(
                    transport,
                    self,
                    self.server.listener.ssl,
                    server_side=True,
                    ssl_handshake_timeout=self.server.limits.tls_handshake_timeout_s,
                    # A connection the node closes (a timeout, room made) waits this long
                    # for the client's close_notify, not asyncio's 30 s: a client that
                    # never answers must not keep its file and its place.
                    ssl_shutdown_timeout=TLS_SHUTDOWN_S,
                )
            except ConnectionAbortedError:  # tls_handshake_timeout_s passed
                if self._admitted:
                    self.gate.timed_out += 1
                return
            except OSError:  # refused (an alert, an unpinned certificate), reset, closed
                return
            # None: closed (evicted, or by the client) once the handshake was over.
            if tls is None or not self._admitted or tls.is_closing():
                if tls is not None:
                    tls.abort()
                return
            self._hand_over(tls)
        finally:
            self._let_go()

    def _hand_over(self, tls: asyncio.Transport) -> None:
        http = self.server.http_protocol()
        self.gate.waiting.pop(self, None)
        self._admitted = False  # its place at the gate is the h11 protocol's now
        http.adopt(self.source)
        tls.set_protocol(http)
        http.connection_made(tls)
        received, self._received = b"".join(self._received), []
        if received:
            http.data_received(received)


class _Server(uvicorn.Server):
    """A uvicorn server that binds its listener itself; a TLS listener's connections are
    counted before their handshake (:class:`_TlsHandshake`)."""

    def __init__(self, listener: Listener, limits: Limits, *, lifespan: bool) -> None:
        self.listener = listener
        self.protocol = protocol_for(limits)
        self.limits = limits
        self.handshakes: dict[_TlsHandshake, asyncio.Task[None]] = {}
        super().__init__(
            uvicorn.Config(
                listener.app,
                host=listener.host,
                port=listener.port,
                http=self.protocol,
                lifespan="on" if lifespan else "off",
                log_level="warning",
                access_log=False,  # the node's own access log (hotline.hygiene) has each request
                # The client address is the connection's: login pauses and the per-source
                # bounds count it, and no header a client sends can change it.
                proxy_headers=False,
                server_header=False,
                # A backstop: the gate keeps connections (so requests) at max_connections.
                limit_concurrency=2 * limits.max_connections + 1,
                backlog=limits.backlog,
                timeout_keep_alive=max(1, round(limits.keep_alive_s)),
                h11_max_incomplete_event_size=limits.max_header_bytes,
            )
        )

    @property
    def gate(self) -> _Gate:
        return self.protocol.gate

    async def startup(self, sockets: Any = None) -> None:
        config = self.config
        if not config.loaded:
            config.load()
        self.lifespan = config.lifespan_class(config)
        await self.lifespan.startup()
        if self.lifespan.should_exit:
            raise ConfigError(f"the {self.listener.name} listener's app failed to start")

        loop = asyncio.get_running_loop()
        factory: Callable[[], asyncio.Protocol] = self.http_protocol
        if self.listener.ssl is not None:
            factory = functools.partial(_TlsHandshake, self)
        try:
            # Never ssl= here: asyncio would hide connections until their handshake is over.
            server = await loop.create_server(
                factory,
                host=self.listener.host,
                port=self.listener.port,
                backlog=config.backlog,
            )
        except OSError as exc:
            await self.lifespan.shutdown()
            raise ConfigError(
                f"cannot listen on {self.listener.url} ({self.listener.name}): {exc.strerror}",
                hint="is another node or program using that address and port?",
            ) from exc
        self.servers = [server]
        self.started = True

    def http_protocol(self) -> LimitedH11Protocol:
        """A new h11 protocol of this listener, for one connection."""
        return self.protocol(
            config=self.config,
            server_state=self.server_state,
            app_state=self.lifespan.state,
            _loop=asyncio.get_running_loop(),
        )

    async def shutdown(self, sockets: Any = None) -> None:
        # Accept no more, then drop the connections still in their TLS handshake.
        for server in self.servers:
            server.close()
        for handshake in list(self.handshakes):
            handshake.close("the server is stopping")
        if self.handshakes:
            await asyncio.wait(list(self.handshakes.values()), timeout=5)
        # An idle keep-alive connection is dropped at once: closed gracefully, a TLS
        # connection waits for the client's close_notify (asyncio: up to 30 s), and a
        # peer's pooled client never sends one while idle.
        for connection in list(self.server_state.connections):
            transport = getattr(connection, "transport", None)
            cycle = getattr(connection, "cycle", None)
            idle = cycle is None or getattr(cycle, "response_complete", False)
            if transport is not None and idle:
                transport.abort()
        await super().shutdown(sockets)


async def serve(
    listeners: Sequence[Listener],
    limits: Limits,
    *,
    started: Callable[[], Awaitable[None] | None] | None = None,
) -> None:
    """Serve every listener until SIGTERM/SIGINT (or until one server must exit)."""
    if not listeners:
        raise ConfigError("no listener to serve")
    seen: set[int] = set()
    servers: list[_Server] = []
    for listener in listeners:
        servers.append(_Server(listener, limits, lifespan=id(listener.app) not in seen))
        seen.add(id(listener.app))
    loop = asyncio.get_running_loop()
    handled = threading.current_thread() is threading.main_thread()

    def on_signal(sig: int) -> None:
        force = sig == signal.SIGINT and all(s.should_exit for s in servers)
        for server in servers:
            server.should_exit = True
            server.force_exit = server.force_exit or force

    if handled:
        for sig in _SIGNALS:
            loop.add_signal_handler(sig, on_signal, sig)
    up: list[_Server] = []
    try:
        for server in servers:
            await server.startup()
            up.append(server)
        if started is not None:
            done = started()
            if done is not None:
                await done
        await _main_loop(servers)
    finally:
        if handled:
            for sig in _SIGNALS:
                loop.remove_signal_handler(sig)
        # Stop accepting everywhere first; the servers that own a lifespan (the node's
        # jobs) last, once the others have drained.
        for server in up:
            server.should_exit = True
        await asyncio.gather(*(s.shutdown() for s in up if s.config.lifespan == "off"))
        await asyncio.gather(*(s.shutdown() for s in up if s.config.lifespan != "off"))


async def _main_loop(servers: Sequence[_Server]) -> None:
    counter = 0
    while True:
        exits = [await server.on_tick(counter) for server in servers]
        if any(exits):
            return
        counter = (counter + 1) % 864_000
        await asyncio.sleep(0.1)


def run(listeners: Sequence[Listener], limits: Limits) -> None:
    """Serve ``listeners`` in a new event loop until SIGTERM or SIGINT."""
    _enough_files(len(listeners), limits)
    asyncio.run(serve(listeners, limits))


def _enough_files(listeners: int, limits: Limits) -> None:
    """Raise the soft limit on open files so that the connection bounds, not the file
    table, are what a flood meets (each refused connection holds a file for a moment)."""
    needed = listeners * limits.max_connections * 2 + 256
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        raised = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (raised, hard))
        if raised < needed:
            logger.warning(
                "open files are limited to %d; max_connections %d wants %d: lower it, or "
                "raise the limit (ulimit -n, LimitNOFILE=)",
                raised,
                limits.max_connections,
                needed,
            )
