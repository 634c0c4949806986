"""TLS to a TAK server: a client context from the CA, certificate and key files a source
names, on pytak's conventions (``PYTAK_TLS_CLIENT_CAFILE``, ``PYTAK_TLS_CLIENT_CERT``,
``PYTAK_TLS_CLIENT_KEY``; TLS 1.2 or later; the server's certificate verified against the
CA, and its name against the host connected to or ``server_name``).

Unlike pytak, there is no "don't verify" switch: a TAK server's own CA (its
``ca.pem``, or the truststore's certificate exported as PEM) is what to give.
A key protected by a password is not read: export it without one (``openssl pkey``) and
keep the file readable only by the node's user.
"""

from __future__ import annotations

import json
import ssl
from pathlib import Path
from typing import Any

from hotline.errors import ValidationError

KEYS = ("ca", "cert", "key")


def settings(
    ca: str | None, cert: str | None, key: str | None, server_name: str | None
) -> dict[str, str] | None:
    """The ``tls`` settings of a source (absolute paths), checked by building a context;
    None when no TLS option is given."""
    given = {"ca": ca, "cert": cert, "key": key}
    if not any(given.values()) and not server_name:
        return None
    missing = [f"--tls-{k}" for k, v in given.items() if not v]
    if missing:
        raise ValidationError(
            f"TLS needs {', '.join(missing)} too",
            hint="give the TAK server's CA (PEM), this node's client certificate and its key",
        )
    out = {k: str(Path(str(v)).expanduser().resolve()) for k, v in given.items()}
    if server_name:
        out["server_name"] = server_name
    client_context(out)  # refuse now what the node could not use later
    return out


def client_context(tls: dict[str, Any]) -> ssl.SSLContext:
    """A client context: TLS 1.2+, the server verified against ``ca``, ``cert`` and
    ``key`` presented."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # check_hostname and CERT_REQUIRED on
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        ctx.load_verify_locations(cafile=tls["ca"])
    except (OSError, ssl.SSLError) as exc:
        raise ValidationError(
            f"cannot read the CA file {tls['ca']}: {exc}", hint="a PEM file of the server's CA"
        ) from None
    try:
        ctx.load_cert_chain(tls["cert"], keyfile=tls["key"], password=_no_password)
    except (OSError, ssl.SSLError) as exc:
        raise ValidationError(
            f"cannot read the client certificate {tls['cert']} with key {tls['key']}: {exc}",
            hint="PEM files; the key without a password, and matching the certificate",
        ) from None
    return ctx


def _no_password() -> str:
    raise ValidationError("the key file is protected by a password", hint="export it without one")


def wrap(sock: Any, tls_json: str, host: str) -> ssl.SSLSocket:
    """``sock`` (connected) wrapped in TLS, the handshake done."""
    tls = json.loads(tls_json)
    try:
        ctx = client_context(tls)
    except ValidationError as exc:  # a file gone or changed since the source was added
        raise OSError(str(exc)) from None
    return ctx.wrap_socket(sock, server_hostname=tls.get("server_name") or host)
