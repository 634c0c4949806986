"""The federation listener's pins hold against a resumed session and a CA certificate.

In-process TLS over real loopback sockets with the node's own contexts
(:mod:`hotline.protocol.tls`), the trust store swapped per handshake as
:class:`~hotline.services.line.tls.NodeTls` does it.
"""

from __future__ import annotations

import datetime
import socket
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from hotline.errors import MalformedMessage
from hotline.protocol import tls
from hotline.testing import HTTP_TIMEOUT_S


def _files(folder: Path, name: str) -> tuple[Path, Path, bytes]:
    key, cert = tls.make_certificate(["127.0.0.1"], name)
    (folder / f"{name}.crt").write_bytes(cert)
    (folder / f"{name}.key").write_bytes(key)
    (folder / f"{name}.key").chmod(0o600)
    return folder / f"{name}.crt", folder / f"{name}.key", tls.load_cert_der(folder / f"{name}.crt")


class _Listener:
    """A federation listener whose pins can be changed between handshakes."""

    def __init__(self, cert: Path, key: Path, pinned: list[bytes]) -> None:
        self.cert, self.key, self.pinned = cert, key, pinned
        self.base = tls.federation_context(cert, key, [])
        self.base.sni_callback = self._swap
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(HTTP_TIMEOUT_S)
        self.port = self.sock.getsockname()[1]
        self.refused = 0
        self._stop = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _swap(self, ssl_object: ssl.SSLObject, _name: str | None, _ctx: ssl.SSLContext) -> None:
        ssl_object.context = tls.federation_context(self.cert, self.key, self.pinned)

    def _serve(self) -> None:
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            conn.settimeout(HTTP_TIMEOUT_S)
            try:
                with self.base.wrap_socket(conn, server_side=True) as wrapped:
                    wrapped.sendall(b"ok")
                    wrapped.recv(1)
            except (ssl.SSLError, OSError):
                self.refused += 1

    def close(self) -> None:
        self._stop = True
        socket.create_connection(("127.0.0.1", self.port), timeout=HTTP_TIMEOUT_S).close()
        self.thread.join(HTTP_TIMEOUT_S)  # the wake-up connection ends its accept
        self.sock.close()


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return tmp_path


@pytest.fixture
def listener(folder: Path) -> Iterator[tuple[_Listener, tuple[Path, Path, bytes]]]:
    server = _files(folder, "server")
    peer = _files(folder, "peer")
    served = _Listener(server[0], server[1], [peer[2]])
    try:
        yield served, peer
    finally:
        served.close()


def _connect(
    port: int, context: ssl.SSLContext, session: ssl.SSLSession | None = None
) -> ssl.SSLSocket:
    raw = socket.create_connection(("127.0.0.1", port), timeout=HTTP_TIMEOUT_S)
    wrapped = context.wrap_socket(raw, session=session)
    assert b"ok" == wrapped.recv(2)
    return wrapped


def test_a_session_from_before_a_replaced_pin_is_not_resumed(
    folder: Path, listener: tuple[_Listener, tuple[Path, Path, bytes]]
) -> None:
    """A ticket kept from before ``peer add --replace`` does not let the old certificate
    in: node-to-node TLS is 1.3 only and the listener issues no tickets, so every
    connection is a full handshake against the pins of that moment."""
    served, (peer_cert, peer_key, _) = listener
    server_der = tls.load_cert_der(served.cert)
    client = tls.client_context(server_der, peer_cert, peer_key)
    first = _connect(served.port, client)
    assert "TLSv1.3" == first.version()
    session = first.session
    assert session is not None and not session.has_ticket  # nothing to resume with
    first.sendall(b"x")
    first.close()

    served.pinned = [_files(folder, "replacement")[2]]  # the peer's card was replaced
    with pytest.raises(ssl.SSLError):
        _connect(served.port, client, session)


def test_the_old_certificate_is_refused_on_a_new_connection(
    folder: Path, listener: tuple[_Listener, tuple[Path, Path, bytes]]
) -> None:
    served, (peer_cert, peer_key, _) = listener
    client = tls.client_context(tls.load_cert_der(served.cert), peer_cert, peer_key)
    _connect(served.port, client).close()
    served.pinned = [_files(folder, "replacement")[2]]
    with pytest.raises(ssl.SSLError):
        _connect(served.port, client)


def _ca_certificate(ca: bool | None) -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "hostile")])
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
    )
    if ca is not None:
        builder = builder.add_extension(x509.BasicConstraints(ca=ca, path_length=None), True)
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


@pytest.mark.parametrize("ca", [True, None], ids=["CA:TRUE", "no basic constraints"])
def test_a_certificate_that_could_issue_others_is_not_pinned(ca: bool | None) -> None:
    """A card's certificate becomes a trust anchor: one that can act as a CA would let its
    owner mint client certificates the listener accepts."""
    with pytest.raises(MalformedMessage):
        tls.check_leaf(_ca_certificate(ca))


def test_the_nodes_own_certificate_is_a_leaf(folder: Path) -> None:
    tls.check_leaf(_files(folder, "node")[2])  # no exception: CA:FALSE
