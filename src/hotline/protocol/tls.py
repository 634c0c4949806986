"""TLS for the line: the node's certificate, its pin, and the SSL contexts built from them.

Each node holds a self-signed **ECDSA P-256** certificate (``DIR/tls.crt``) and its key
(``DIR/tls.key``, mode 0600). Its peer card carries the certificate (base64 DER) and its
**pin**, ``sha256:`` + the hex SHA-256 of the certificate's SubjectPublicKeyInfo DER, both
covered by the card's Ed25519 signature. No certificate authority is involved: a node
trusts exactly the certificates pinned on its peers' cards.

- Client side (a node posting to a peer): :func:`client_context` trusts exactly the peer's
  pinned certificate and presents this node's own.
- Federation listener: :func:`federation_context` asks every client for its certificate
  and trusts exactly the certificates pinned for this node's peers.
- Operator listener: :func:`operator_context` (no client certificate); the CLI trusts
  exactly the operator certificate (:func:`trust_context`).

Names: host names in the certificate are for browsers' sake; between nodes the pin is the
identity (``check_hostname`` is off: with one self-signed CA:FALSE certificate as the
whole trust store, only the holder of its key can complete a handshake).
"""

from __future__ import annotations

import datetime
import hashlib
import ipaddress
import os
import ssl
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from hotline.errors import ConfigError, MalformedMessage
from hotline.protocol.canonical import b64decode, b64encode

TLS_KEY_FILE = "tls.key"
TLS_CERT_FILE = "tls.crt"
#: How long a node certificate is valid: rotation is by a new card, not by expiry.
VALIDITY_DAYS = 3650
PIN_PREFIX = "sha256:"
PIN_PATTERN = r"^sha256:[0-9a-f]{64}$"
#: Always named in a node certificate, so the operator side answers on loopback too.
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")


def key_path(directory: Path) -> Path:
    return directory / TLS_KEY_FILE


def cert_path(directory: Path) -> Path:
    return directory / TLS_CERT_FILE


def has_files(directory: Path) -> bool:
    return key_path(directory).exists() and cert_path(directory).exists()


# -- the certificate ---------------------------------------------------------------------


def hosts_of(urls: Iterable[str]) -> list[str]:
    """The host names and addresses of ``urls`` (once each, in order)."""
    found: list[str] = []
    for url in urls:
        host = urlsplit(url).hostname
        if host and host not in found:
            found.append(host)
    return found


def make_certificate(hosts: Iterable[str], common_name: str) -> tuple[bytes, bytes]:
    """A new ECDSA P-256 key and self-signed certificate: ``(key PEM, certificate PEM)``.

    basicConstraints CA:FALSE; extended key usage serverAuth and clientAuth; the subject
    alternative names are ``hosts`` (DNS names or IP addresses) and loopback.
    """
    key = ec.generate_private_key(ec.SECP256R1())
    names: list[x509.GeneralName] = []
    seen: set[str] = set()
    for host in [*hosts, *LOOPBACK_NAMES]:
        if host in seen:
            continue
        seen.add(host)
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64] or "hotline")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=VALIDITY_DAYS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return key_pem, cert.public_bytes(serialization.Encoding.PEM)


def write_files(directory: Path, hosts: Iterable[str], common_name: str) -> str:
    """Make a new key and certificate in ``directory`` (replacing any); return the pin.

    Each file is written beside its place and renamed over it, the key first (mode 0600).
    """
    key_pem, cert_pem = make_certificate(hosts, common_name)
    _replace(key_path(directory), key_pem, 0o600)
    _replace(cert_path(directory), cert_pem, 0o644)
    return pin(x509.load_pem_x509_certificate(cert_pem).public_bytes(serialization.Encoding.DER))


def _replace(path: Path, data: bytes, mode: int) -> None:
    temporary = path.with_name(f".{path.name}.new")
    temporary.unlink(missing_ok=True)
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def load_cert_der(path: Path) -> bytes:
    """The certificate in ``path`` (PEM) as DER; a missing or bad file is a ConfigError."""
    try:
        pem = path.read_bytes()
    except OSError as exc:
        raise ConfigError(
            f"cannot read the TLS certificate {path}: {exc.strerror}",
            hint="make one with `hotline tls init --dir DIR`",
        ) from exc
    try:
        cert = x509.load_pem_x509_certificate(pem)
    except ValueError as exc:
        raise ConfigError(f"{path} does not hold a PEM certificate") from exc
    return cert.public_bytes(serialization.Encoding.DER)


def parse_der(der: bytes) -> x509.Certificate:
    try:
        return x509.load_der_x509_certificate(der)
    except ValueError as exc:
        raise MalformedMessage("the TLS certificate does not parse (DER X.509)") from exc


def check_leaf(der: bytes) -> None:
    """Refuse a pinned certificate that could issue others: a card's certificate is a
    trust anchor of the federation listener, so one with ``CA:TRUE`` (or without the
    basic-constraints extension, which OpenSSL may take as a CA) would let its owner mint
    certificates the listener accepts."""
    cert = parse_der(der)
    try:
        constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        raise MalformedMessage(
            "the card's TLS certificate has no basic constraints (it could act as a CA)",
            hint="the peer makes a new certificate with `hotline tls rotate`",
        ) from None
    if constraints.ca:
        raise MalformedMessage(
            "the card's TLS certificate is a CA certificate; a node's must not be",
            hint="the peer makes a new certificate with `hotline tls rotate`",
        )


def pin(der: bytes) -> str:
    """``sha256:<hex>`` of the certificate's SubjectPublicKeyInfo (DER)."""
    spki = (
        parse_der(der)
        .public_key()
        .public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return PIN_PREFIX + hashlib.sha256(spki).hexdigest()


def cert_b64(der: bytes) -> str:
    return b64encode(der)


def cert_from_b64(text: str) -> bytes:
    return b64decode(text, "the card's tls_cert")


def spoken_pin(value: str) -> str:
    """A pin as read aloud: its hex in groups of four."""
    digest = value.removeprefix(PIN_PREFIX)
    return " ".join(digest[i : i + 4] for i in range(0, len(digest), 4))


# -- URLs --------------------------------------------------------------------------------


def is_loopback(url: str) -> bool:
    return is_loopback_host(urlsplit(url).hostname or "")


def is_loopback_host(host: str) -> bool:
    """Whether ``host`` (a name or an address, as bound or in a URL) is this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def plain_http_problem(urls: Iterable[str], allow_plain_http: bool) -> str | None:
    """Why these endpoints may not be used, or None: an ``http://`` endpoint needs
    ``allow_plain_http`` and a loopback host; any other scheme is refused."""
    for url in urls:
        scheme = urlsplit(url).scheme
        if scheme == "https":
            continue
        if scheme != "http":
            return f"endpoint {url!r} is not an https:// URL"
        if not allow_plain_http:
            return f"endpoint {url!r} is plain HTTP, which allow_plain_http does not allow"
        if not is_loopback(url):
            return f"endpoint {url!r} is plain HTTP on a host that is not loopback"
    return None


# -- contexts ----------------------------------------------------------------------------


def _base(protocol: int, minimum: ssl.TLSVersion = ssl.TLSVersion.TLSv1_2) -> ssl.SSLContext:
    context = ssl.SSLContext(protocol)
    context.minimum_version = minimum
    context.options |= ssl.OP_NO_COMPRESSION
    return context


#: Between nodes (both ends are Hotline): TLS 1.3 only, and no session resumption. A
#: resumed session is not verified again, so a ticket issued before ``peer add
#: --replace`` would let the old certificate in for the ticket's lifetime; with no tickets
#: issued, every connection makes a full handshake against the pins of that moment.
NODE_TLS = ssl.TLSVersion.TLSv1_3


def client_context(peer_der: bytes, own_cert: Path, own_key: Path) -> ssl.SSLContext:
    """Connect to one peer: trust exactly its pinned certificate; present this node's."""
    context = _base(ssl.PROTOCOL_TLS_CLIENT, NODE_TLS)
    context.check_hostname = False  # the pin is the identity (see the module's text)
    context.verify_mode = ssl.CERT_REQUIRED
    context.load_verify_locations(cadata=peer_der)
    context.load_cert_chain(own_cert, own_key)
    return context


def federation_context(own_cert: Path, own_key: Path, pinned: Iterable[bytes]) -> ssl.SSLContext:
    """The federation listener: a client certificate is required and must be pinned."""
    context = _base(ssl.PROTOCOL_TLS_SERVER, NODE_TLS)
    context.num_tickets = 0  # no resumption: see NODE_TLS
    context.load_cert_chain(own_cert, own_key)
    context.verify_mode = ssl.CERT_REQUIRED
    for der in pinned:
        context.load_verify_locations(cadata=der)
    return context


def operator_context(cert_file: Path, key_file: Path) -> ssl.SSLContext:
    """The operator listener: server certificate only, no client certificate."""
    context = _base(ssl.PROTOCOL_TLS_SERVER)
    try:
        context.load_cert_chain(cert_file, key_file)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(
            f"cannot load the operator certificate {cert_file} with key {key_file}: {exc}",
            hint="check operator_cert_file and operator_key_file",
        ) from exc
    return context


def trust_context(ca_file: Path, *, check_hostname: bool = False) -> ssl.SSLContext:
    """A client that trusts exactly the certificate(s) in ``ca_file``: the node's own
    operator certificate (pinned as it stands, so no host name check), or a CA an
    operator names with ``--ca-file`` (then ``check_hostname``)."""
    context = _base(ssl.PROTOCOL_TLS_CLIENT)
    context.verify_mode = ssl.CERT_REQUIRED
    context.check_hostname = check_hostname
    # a leaf certificate trusted as it stands (not self-signed when an operator brings one)
    context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
    try:
        context.load_verify_locations(cafile=str(ca_file))
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(f"cannot read the certificate file {ca_file}: {exc}") from exc
    return context
