"""The node's TLS at run time: its certificate files, the pins of its peers, the contexts.

:class:`NodeTls` builds every SSL context of a node from what is true *now*:

- :meth:`NodeTls.client_context` for posting to a peer: trusts exactly the certificate on
  the peer's pinned card, presents this node's certificate. :class:`PeerClients` keeps one
  HTTP client per peer and makes a new one when the pinned card or this node's own
  certificate changes (a ``peer add --replace``, a ``tls rotate``).
- :meth:`NodeTls.federation_context` for the federation listener: a client certificate
  is required, and the trust store is rebuilt from the peers table for every handshake
  (``SSLContext.sni_callback`` swaps in a context made from the current pins; it runs for
  every ClientHello, with or without SNI). The pins are read with one short query per
  handshake and the context is cached on what was read, so a pin changed by another
  process (``hotline peer add --replace``) applies from the next handshake.
- :meth:`NodeTls.operator_context` for the operator listener (no client certificate).
"""

from __future__ import annotations

import json
import logging
import ssl
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from hotline.config import NodeSettings
from hotline.errors import ConfigError, DatabaseUnavailable, HotlineError, Unreachable
from hotline.protocol import keys, tls
from hotline.storage import peers
from hotline.storage.db import Database

logger = logging.getLogger(__name__)

#: (mtime, size, inode) of the certificate and the key: a rotation changes them.
Stamp = tuple[tuple[int, int, int], ...]


def peer_cert(row: peers.PeerRow) -> bytes | None:
    """The TLS certificate (DER) on a pinned peer's card; None on an older card without."""
    try:
        card = json.loads(row.card)
    except ValueError:
        return None
    text = card.get("tls_cert") if isinstance(card, dict) else None
    return tls.cert_from_b64(text) if isinstance(text, str) else None


#: How old the pins kept for a database outage may be before handshakes are refused (s).
STALE_PINS_S = 120.0


class NodeTls:
    """This node's certificate files and the SSL contexts made from them and the pins."""

    def __init__(self, db: Database, settings: NodeSettings) -> None:
        self.db = db
        self.settings = settings
        self.cert_file = tls.cert_path(settings.directory)
        self.key_file = tls.key_path(settings.directory)
        self._lock = threading.Lock()
        self._federation: tuple[Any, ssl.SSLContext] | None = None
        self._pins_read_at = 0.0  # time.monotonic() of the last read of the pins
        self._operator: tuple[Stamp, ssl.SSLContext] | None = None
        self._clients: dict[Any, ssl.SSLContext] = {}
        # Like the signing key: the node does not open with a TLS key others may read.
        keys.check_private(self.key_file, "TLS key")
        if settings.operator_key_file:
            keys.check_private(Path(settings.operator_key_file), "operator TLS key")

    # -- files ------------------------------------------------------------------------------

    def has_files(self) -> bool:
        return self.cert_file.exists() and self.key_file.exists()

    def require_files(self) -> None:
        if not self.has_files():
            raise ConfigError(
                f"the node has no TLS certificate ({self.cert_file}, {self.key_file})",
                hint="make one with `hotline tls init --dir DIR`, then give peers the new card",
            )

    def stamp(self) -> Stamp:
        """What changes when the certificate files are replaced (cheap: two stats)."""
        return _stamp(self.cert_file, self.key_file)

    # -- client side ----------------------------------------------------------------------

    def client_context(self, row: peers.PeerRow) -> ssl.SSLContext | None:
        """The context for posting to ``row``'s https endpoints; None when it has none.

        Raises :class:`Unreachable` when the peer's https endpoints cannot be trusted
        (its pinned card, made before TLS, carries no certificate).
        """
        if not any(url.lower().startswith("https://") for url in row.endpoints):
            return None
        der = peer_cert(row)
        if der is None:
            raise Unreachable(
                f"{row.party}'s pinned card carries no TLS certificate for its https endpoints",
                hint="ask the peer for its new card and pin it with `hotline peer add --replace`",
            )
        self.require_files()
        key = (der, self.stamp())
        with self._lock:
            context = self._clients.get(key)
            if context is None:
                context = tls.client_context(der, self.cert_file, self.key_file)
                self._clients = {k: v for k, v in self._clients.items() if k[1] == key[1]}
                self._clients[key] = context
            return context

    # -- server side ----------------------------------------------------------------------

    def federation_context(self) -> ssl.SSLContext:
        """The federation listener's context: each handshake gets the current pins."""
        self.require_files()
        self.current_federation_context()  # a problem shows now, not at the first handshake
        base = tls.federation_context(self.cert_file, self.key_file, [])
        base.sni_callback = self._on_client_hello
        return base

    def _on_client_hello(
        self, ssl_object: ssl.SSLObject, _server_name: str | None, _context: ssl.SSLContext
    ) -> int | None:
        try:
            ssl_object.context = self.current_federation_context()
        except DatabaseUnavailable:
            # The database is away (a failover): refusing the handshake would read, at the
            # peer, as "you are not pinned" (a TLS refusal in its security log). The pins
            # as last read serve instead, for STALE_PINS_S at most: a card replaced by
            # another process in that time is not seen until the database is back. A
            # connection carries one request (Connection: close), which needs the
            # database (503 until it is back), and every envelope's signature is checked
            # against the keys pinned then.
            with self._lock:
                last, read_at = self._federation, self._pins_read_at
            if last is None or time.monotonic() - read_at > STALE_PINS_S:
                return ssl.ALERT_DESCRIPTION_INTERNAL_ERROR
            ssl_object.context = last[1]
        except Exception:  # no handshake without the current pins: refuse this one
            logger.exception("TLS: cannot build the federation context; handshake refused")
            return ssl.ALERT_DESCRIPTION_INTERNAL_ERROR
        return None

    def current_federation_context(self) -> ssl.SSLContext:
        """A context trusting exactly the certificates pinned now (cached on them)."""
        with self.db.read() as conn:
            rows = peers.all_peers(conn)
        pinned = sorted({der for der in (_cert_or_none(row) for row in rows) if der})
        key = (tuple(pinned), self.stamp())
        with self._lock:
            self._pins_read_at = time.monotonic()
            if self._federation is not None and self._federation[0] == key:
                return self._federation[1]
        context = tls.federation_context(self.cert_file, self.key_file, pinned)
        with self._lock:
            self._federation = (key, context)
        return context

    def operator_context(self) -> ssl.SSLContext:
        """The operator listener's context: the operator certificate, no client's.

        Reloaded at the next handshake when its files change (``hotline tls rotate``).
        """
        base = self.current_operator_context()

        def on_client_hello(
            ssl_object: ssl.SSLObject, _server_name: str | None, _context: ssl.SSLContext
        ) -> int | None:
            try:
                ssl_object.context = self.current_operator_context()
            except Exception:  # keep serving the certificate loaded before
                logger.exception("TLS: cannot load the operator certificate; the old one serves")
            return None

        base.sni_callback = on_client_hello
        return base

    def current_operator_context(self) -> ssl.SSLContext:
        cert, key = self.operator_files()
        stamp = _stamp(cert, key)
        with self._lock:
            if self._operator is not None and self._operator[0] == stamp:
                return self._operator[1]
        if not self.settings.operator_cert_file:
            self.require_files()
        context = tls.operator_context(cert, key)
        with self._lock:
            self._operator = (stamp, context)
        return context

    def operator_files(self) -> tuple[Path, Path]:
        """The operator listener's certificate and key files."""
        return (
            Path(self.settings.operator_cert_file or self.cert_file),
            Path(self.settings.operator_key_file or self.key_file),
        )


def _stamp(*paths: Path) -> Stamp:
    out = []
    for path in paths:
        try:
            info = path.stat()
        except OSError:
            out.append((0, 0, 0))
            continue
        out.append((info.st_mtime_ns, info.st_size, info.st_ino))
    return tuple(out)


def _cert_or_none(row: peers.PeerRow) -> bytes | None:
    try:
        return peer_cert(row)
    except HotlineError:  # checked when pinned; a damaged row pins nothing
        return None


class PeerClients:
    """HTTP clients for posting to peers: one per peer, remade when its pin changes."""

    def __init__(self, node_tls: NodeTls | None, timeout: float) -> None:
        self.tls = node_tls
        self.timeout = timeout
        self._clients: dict[str, tuple[Any, httpx.Client]] = {}
        self._lock = threading.Lock()

    def __call__(self, row: peers.PeerRow) -> httpx.Client:
        context = self.tls.client_context(row) if self.tls is not None else None
        key = id(context) if context is not None else None
        with self._lock:
            found = self._clients.get(row.party)
            if found is not None and found[0] == key:
                return found[1]
            verify: ssl.SSLContext | bool = context if context is not None else True
            client = httpx.Client(timeout=self.timeout, verify=verify)
            self._clients[row.party] = (key, client)
        if found is not None:
            found[1].close()
        return client

    def close(self) -> None:
        with self._lock:
            clients, self._clients = self._clients, {}
        for _key, client in clients.values():
            client.close()
