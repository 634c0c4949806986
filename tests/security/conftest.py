"""Nodes on real TLS for the security suite: one place that makes them and reaches them.

A node here is made as ``hotline init`` makes it (its Ed25519 key, its TLS key and
certificate) with an ``https://`` endpoint on loopback, and served by a real ``hotline
serve`` process with its two listeners apart: the **federation** listener (mutual TLS: a
client certificate pinned on one of its peers' cards is required) at its endpoint, the
**operator** listener (TLS, no client certificate) at ``operator_listen``.

- :func:`tls_node`: a node on disk and the :class:`~hotline.testing.NodeProcess` that
  serves it (not started);
- :func:`federation_client`: an HTTP client of a node's federation listener as a peer,
  presenting that peer's certificate and trusting exactly the node's;
- :func:`raw_federation` / :func:`raw_operator`: a raw TLS socket to either listener,
  for attacks below HTTP (the TCP connection is opened by the test file's own
  ``_raw_connect``, handed in).

Operator-side clients are :func:`hotline.testing.api` (it trusts the node's operator
certificate at its URL).
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from hotline.node import Node, init_node
from hotline.protocol import tls
from hotline.testing import HTTP_TIMEOUT_S, NodeProcess, free_port, tls_node_settings, verify_for
from tests.conftest import NAMES

Connect = Callable[[str, int], socket.socket]


def tls_node(
    directory: Path,
    party: str,
    env: dict[str, str],
    *,
    database_url: str = "",
    settings: dict[str, Any] | None = None,
) -> tuple[Node, NodeProcess]:
    """Node ``party`` in ``directory`` on TLS (the node, open: the caller disposes of its
    database) and the process that serves it (not started)."""
    federation = f"https://127.0.0.1:{free_port()}"
    operator_port = free_port()
    name_en, name_ru, lang = NAMES[party]
    node = init_node(
        directory,
        party=party,
        name_en=name_en,
        name_ru=name_ru,
        lang=lang,
        endpoints=[federation],
        database_url=database_url,
        settings=tls_node_settings(operator_port) | (settings or {}),
    )
    process = NodeProcess(
        directory, f"https://127.0.0.1:{operator_port}", env, federation_url=federation
    )
    return node, process


def peer_context(node_directory: Path, cert: Path, key: Path) -> ssl.SSLContext:
    """A peer's client side: trusts exactly the certificate of the node in
    ``node_directory``, presents ``cert`` (with ``key``)."""
    node_der = tls.load_cert_der(tls.cert_path(node_directory))
    return tls.client_context(node_der, cert, key)


def own_files(directory: Path) -> tuple[Path, Path]:
    """The TLS certificate and key of the node in ``directory``."""
    return tls.cert_path(directory), tls.key_path(directory)


def federation_client(process: NodeProcess, cert: Path, key: Path) -> httpx.Client:
    """A client of ``process``'s federation listener presenting ``cert`` (a peer's)."""
    return httpx.Client(
        base_url=process.federation_url,
        verify=peer_context(process.directory, cert, key),
        timeout=HTTP_TIMEOUT_S,
    )


def address(url: str) -> tuple[str, int]:
    where = urlsplit(url)
    return str(where.hostname), int(where.port or 443)


def raw_federation(connect: Connect, process: NodeProcess, cert: Path, key: Path) -> ssl.SSLSocket:
    """A TLS connection to the federation listener, presenting a peer's pinned ``cert``."""
    host, port = address(process.federation_url)
    context = peer_context(process.directory, cert, key)
    return context.wrap_socket(connect(host, port))


def raw_operator(connect: Connect, process: NodeProcess) -> ssl.SSLSocket:
    """A TLS connection to the operator listener (no client certificate)."""
    host, port = address(process.url)
    context = verify_for(process.url)
    assert isinstance(context, ssl.SSLContext), "the operator certificate is trusted"
    return context.wrap_socket(connect(host, port))
