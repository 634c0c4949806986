"""``hotline.server``: several listeners in one process, stopped together, lifespan once;
a TLS handshake that never comes is cut off; connections are counted before their TLS
handshake (bounded per source, evicted when the listener is full); a client that does not
read its answer is cut off after ``write_timeout_s``."""

from __future__ import annotations

import asyncio
import datetime
import select
import signal
import socket
import ssl
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from hotline.errors import Busy, TooManyConnections
from hotline.server import Limits, Listener, _Gate, _Server, source_of
from hotline.testing import HTTP_TIMEOUT_S, free_port, wait_for

SCRIPT = """
import ssl, sys
from pathlib import Path
from hotline.server import Limits, Listener, run

log = Path(sys.argv[1])

async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            kind = message["type"].split(".")[1]
            with log.open("a") as out:
                out.write(kind + "\\n")
            await send({"type": f"lifespan.{kind}.complete"})
            if kind == "shutdown":
                return
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})

tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
tls.load_cert_chain(sys.argv[4], sys.argv[5])
limits = Limits(tls_handshake_timeout_s=1.0, header_timeout_s=60.0)
run(
    [
        Listener("operator", "127.0.0.1", int(sys.argv[2]), app),
        Listener("federation", "127.0.0.1", int(sys.argv[3]), app, tls),
    ],
    limits,
)
"""


def _certificate(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.fixture
def two_listeners(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], int, int, Path]]:
    cert, key = _certificate(tmp_path)
    script = tmp_path / "serve.py"
    script.write_text(textwrap.dedent(SCRIPT))
    log = tmp_path / "lifespan.log"
    plain, tls = free_port(), free_port()
    process = subprocess.Popen(
        [sys.executable, str(script), str(log), str(plain), str(tls), str(cert), str(key)],
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "stderr.log").open("wb"),
    )
    try:
        yield process, plain, tls, log
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(HTTP_TIMEOUT_S)


def _answers(url: str, **options: object) -> bool:
    try:
        return httpx.get(url, timeout=HTTP_TIMEOUT_S, **options).status_code == 200  # type: ignore[arg-type]
    except httpx.HTTPError:
        return False


def test_listeners_serve_together_and_stop_together_on_sigterm(
    two_listeners: tuple[subprocess.Popen[bytes], int, int, Path],
) -> None:
    process, plain, tls, log = two_listeners
    wait_for(lambda: _answers(f"http://127.0.0.1:{plain}/"), "the plain listener", timeout=60)
    assert _answers(f"https://127.0.0.1:{tls}/", verify=False)
    # A connection that never starts its TLS handshake is closed after 1 s.
    with socket.create_connection(("127.0.0.1", tls), timeout=HTTP_TIMEOUT_S) as sock:
        assert b"" == sock.recv(1024)  # closed by the node, not by this timeout
    process.send_signal(signal.SIGTERM)
    assert 0 == process.wait(HTTP_TIMEOUT_S)
    # One app behind two listeners: its lifespan (the node's jobs) ran once.
    assert ["startup", "shutdown"] == log.read_text().split()
    for port in (plain, tls):
        with socket.socket() as sock, pytest.raises(ConnectionRefusedError):
            sock.connect(("127.0.0.1", port))


def test_a_busy_port_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        script = (
            "from hotline.server import Limits, Listener, run\n"
            "async def app(scope, receive, send): pass\n"
            f"run([Listener('operator', '127.0.0.1', {port}, app)], Limits())\n"
        )
        done = subprocess.run(
            [sys.executable, "-c", script],
            capture_output=True,
            timeout=HTTP_TIMEOUT_S,
            check=False,
        )
    assert 0 != done.returncode
    assert b"cannot listen on http://127.0.0.1:" in done.stderr


class _Connection:
    """What the gate sees of a connection: its source address, and closing it."""

    def __init__(self, gate: _Gate, source: str) -> None:
        self.gate, self.source, self.closed = gate, source, ""

    def close(self, why: str) -> None:
        self.closed = why
        self.gate.release(self)  # type: ignore[arg-type]


def test_the_gate_bounds_connections_per_source_and_makes_room_from_the_oldest_waiting() -> None:
    gate = _Gate(Limits(max_connections=3, max_connections_per_source=2))
    a1, a2, a3 = (_Connection(gate, "10.0.0.1") for _ in range(3))
    assert gate.admit(a1) is None and gate.admit(a2) is None  # type: ignore[arg-type]
    refused = gate.admit(a3)  # type: ignore[arg-type]
    assert isinstance(refused, TooManyConnections) and 429 == refused.http_status
    b1, b2 = (_Connection(gate, "10.0.0.2") for _ in range(2))
    assert gate.admit(b1) is None  # type: ignore[arg-type]
    # Full (3). a2 and b1 wait for headers, a1 is busy with a request: a2 waited longest.
    gate.waiting[a2] = None  # type: ignore[index]
    gate.waiting[b1] = None  # type: ignore[index]
    assert gate.admit(b2) is None  # type: ignore[arg-type]
    assert a2.closed and not a1.closed and not b1.closed
    gate.waiting.pop(b1)  # type: ignore[call-overload]
    busy = gate.admit(_Connection(gate, "10.0.0.3"))  # type: ignore[arg-type]
    assert isinstance(busy, Busy) and 503 == busy.http_status  # every one is busy
    assert (3, {"10.0.0.1": 1, "10.0.0.2": 2}) == (gate.open, gate.per_source)


def test_an_ipv6_host_is_counted_by_its_64() -> None:
    assert "2001:db8:1:2::/64" == source_of("2001:db8:1:2:aaaa::1")
    assert source_of("2001:db8:1:2::1") == source_of("2001:db8:1:2:ffff:ffff:ffff:ffff")
    assert "192.0.2.7" == source_of("::ffff:192.0.2.7") == source_of("192.0.2.7")


# -- one listener served in a thread of this process, so a test can read its gate ---------

LARGE = 64 * 1024 * 1024
CHUNK = b"x" * (1024 * 1024)


async def _app(scope: dict[str, object], receive: object, send: object) -> None:
    assert scope["type"] == "http"
    answer = send  # an ASGI send callable
    if scope["path"] == "/large":
        headers = [(b"content-length", str(LARGE).encode())]
        await answer({"type": "http.response.start", "status": 200, "headers": headers})  # type: ignore[operator]
        for _ in range(LARGE // len(CHUNK)):
            await answer({"type": "http.response.body", "body": CHUNK, "more_body": True})  # type: ignore[operator]
        await answer({"type": "http.response.body", "body": b""})  # type: ignore[operator]
        return
    await answer({"type": "http.response.start", "status": 200, "headers": []})  # type: ignore[operator]
    await answer({"type": "http.response.body", "body": b"ok"})  # type: ignore[operator]


class _Listening:
    """A ``_Server`` (one listener, TLS or not) in its own event loop in a thread."""

    def __init__(self, limits: Limits, tls: ssl.SSLContext | None) -> None:
        self.port = free_port()
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}"
        listener = Listener("federation", "127.0.0.1", self.port, _app, tls)  # type: ignore[arg-type]
        self.server = _Server(listener, limits, lifespan=False)
        self.gate = self.server.gate
        self._ready = threading.Event()
        self._failed: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # reported to the test thread
            self._failed = exc
            self._ready.set()

    async def _main(self) -> None:
        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        await self.server.startup()
        self._ready.set()
        await self._stop.wait()
        self.server.should_exit = True
        await self.server.shutdown()

    def __enter__(self) -> _Listening:
        self._thread.start()
        assert self._ready.wait(HTTP_TIMEOUT_S), "the listener did not start"
        if self._failed is not None:
            raise self._failed
        return self

    def __exit__(self, *_exc: object) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(HTTP_TIMEOUT_S)
        assert not self._thread.is_alive(), "the listener did not stop"
        assert not self.server.handshakes  # every handshake was dropped


@pytest.fixture
def tls_context(tmp_path: Path) -> ssl.SSLContext:
    cert, key = _certificate(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context


def _raw_connect(host: str, port: int, *, source: str = "127.0.0.1") -> socket.socket:
    """A TCP connection from ``source`` (any address of 127/8 on loopback)."""
    sock = socket.socket()
    sock.settimeout(HTTP_TIMEOUT_S)
    sock.bind((source, 0))
    sock.connect((host, port))
    return sock


def _ended(sockets: list[socket.socket], ended: set[socket.socket]) -> set[socket.socket]:
    """Add to ``ended`` the sockets the server has closed (EOF or reset); returns it."""
    waiting = [sock for sock in sockets if sock not in ended]
    readable, _, _ = select.select(waiting, [], [], 0) if waiting else ([], [], [])
    for sock in readable:
        try:
            if sock.recv(1024) == b"":
                ended.add(sock)
        except ConnectionResetError:
            ended.add(sock)
    return ended


def _client_tls() -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # the test's own throwaway certificate
    return context


def test_connections_in_their_tls_handshake_are_counted_per_source(
    tls_context: ssl.SSLContext,
) -> None:
    limits = Limits(
        max_connections_per_source=64, tls_handshake_timeout_s=120, header_timeout_s=120
    )
    with _Listening(limits, tls_context) as listening:
        gate = listening.gate
        idle: list[socket.socket] = []
        try:
            # 300 connections that never send a ClientHello, from one address.
            for _ in range(300):
                idle.append(_raw_connect("127.0.0.1", listening.port, source="127.0.0.2"))
            wait_for(
                lambda: gate.open == 64 and gate.refused == 236,
                "64 connections held and 236 refused",
                timeout=60,
            )
            assert {"127.0.0.2": 64} == gate.per_source
            assert 64 == len(gate.waiting)  # all in their handshake: the first to go if full
            ended: set[socket.socket] = set()
            wait_for(lambda: len(_ended(idle, ended)) >= 236, "236 refused ones closed", timeout=60)
            # Another address still completes a TLS request while the 64 are held.
            assert 200 == httpx.get(f"{listening.url}/health", verify=False).status_code
            assert 236 == len(_ended(idle, ended))  # the 64 held ones are still open
            assert 0 == gate.evicted and 0 == gate.timed_out
        finally:
            for sock in idle:
                sock.close()
        wait_for(lambda: gate.open == 0, "every place freed", timeout=60)
    assert not gate.per_source and not gate.waiting


def test_connections_in_their_tls_handshake_make_room_when_the_listener_is_full(
    tls_context: ssl.SSLContext,
) -> None:
    limits = Limits(max_connections=4, tls_handshake_timeout_s=120, header_timeout_s=120)
    with _Listening(limits, tls_context) as listening:
        gate = listening.gate
        idle = [_raw_connect("127.0.0.1", listening.port, source="127.0.0.2") for _ in range(4)]
        try:
            wait_for(lambda: gate.open == 4, "the listener full", timeout=60)
            assert 200 == httpx.get(f"{listening.url}/health", verify=False).status_code
            assert (1, 0) == (gate.evicted, gate.refused)
            ended: set[socket.socket] = set()
            wait_for(lambda: _ended(idle, ended), "the oldest one closed", timeout=60)
            assert {idle[0]} == ended  # the one that waited longest
        finally:
            for sock in idle:
                sock.close()
        wait_for(lambda: gate.open == 0, "every place freed", timeout=60)


def test_a_failed_or_late_tls_handshake_frees_its_place(tls_context: ssl.SSLContext) -> None:
    limits = Limits(tls_handshake_timeout_s=0.5, header_timeout_s=120)
    with _Listening(limits, tls_context) as listening:
        gate = listening.gate
        sockets = [_raw_connect("127.0.0.1", listening.port) for _ in range(6)]
        try:
            sockets[0].sendall(b"GET /health HTTP/1.1\r\nhost: x\r\n\r\n")  # not TLS
            ended: set[socket.socket] = set()
            wait_for(lambda: len(_ended(sockets, ended)) == 6, "all six closed", timeout=60)
            wait_for(lambda: gate.open == 0, "their places freed", timeout=60)
            assert (5, 0, 0) == (gate.timed_out, gate.refused, gate.evicted)
            assert not gate.per_source and not gate.waiting
        finally:
            for sock in sockets:
                sock.close()


@pytest.mark.parametrize("tls", [True, False], ids=["tls", "plain"])
def test_a_client_that_does_not_read_its_answer_is_cut_off(
    tls: bool, tls_context: ssl.SSLContext
) -> None:
    limits = Limits(write_timeout_s=1.0, header_timeout_s=120, body_timeout_s=120)
    with _Listening(limits, tls_context if tls else None) as listening:
        gate = listening.gate
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # a tiny window
        sock.settimeout(HTTP_TIMEOUT_S)
        sock.connect(("127.0.0.1", listening.port))
        if tls:
            sock = _client_tls().wrap_socket(sock)
        with sock:
            sock.sendall(b"GET /large HTTP/1.1\r\nhost: x\r\n\r\n")
            # It reads nothing of its 64 MiB answer.
            wait_for(
                lambda: gate.write_timed_out == 1 and gate.open == 0,
                "the connection aborted",
                timeout=60,
            )
            # Reading now, it gets what was already on its way, then the end.
            received = 0
            while True:
                try:
                    data = sock.recv(1024 * 1024)
                except TimeoutError:
                    raise
                except (ssl.SSLError, ConnectionResetError):
                    break
                if not data:
                    break
                received += len(data)
            assert 0 < received < LARGE
        assert (0, 0) == (gate.timed_out, gate.evicted)


# The ssl module reports an exception from the callback as "unraisable": expected here.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.parametrize("refusal", ["alert", "raise"])
def test_a_handshake_refused_by_the_sni_callback_just_closes(
    refusal: str, tls_context: ssl.SSLContext
) -> None:
    def on_client_hello(
        _ssl_object: ssl.SSLObject, _server_name: str | None, _context: ssl.SSLContext
    ) -> int | None:
        if refusal == "raise":
            raise RuntimeError("no context for this handshake")
        return ssl.ALERT_DESCRIPTION_HANDSHAKE_FAILURE

    tls_context.sni_callback = on_client_hello
    with _Listening(Limits(header_timeout_s=120), tls_context) as listening:
        gate = listening.gate
        for _ in range(3):
            with (
                _raw_connect("127.0.0.1", listening.port) as sock,
                pytest.raises((ssl.SSLError, ConnectionResetError)),
            ):
                _client_tls().wrap_socket(sock)
        wait_for(lambda: gate.open == 0, "their places freed", timeout=60)
        assert (0, 0, 0) == (gate.timed_out, gate.refused, gate.evicted)
        assert not gate.per_source and not gate.waiting
