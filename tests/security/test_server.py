"""``hotline.server``: several listeners in one process, stopped together, lifespan once;
a TLS handshake that never comes is cut off."""

from __future__ import annotations

import datetime
import signal
import socket
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from hotline.errors import Busy, TooManyConnections
from hotline.server import Limits, _Gate, source_of
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
