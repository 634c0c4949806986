"""Mutual TLS between nodes, pinned by the card; the two listeners; plain HTTP refused.

Real ``hotline serve`` processes (two nodes, us and ru) on loopback: each serves its
federation listener on mutual TLS (a client certificate pinned on a peer's card is
required) and its operator listener on TLS. The attacks come from real TLS clients:
an unpinned client certificate, no client certificate, plain HTTP; a peer presenting
another certificate than the pinned one; a certificate rotation with messages in flight.
"""

from __future__ import annotations

import json
import os
import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from typer.testing import CliRunner

from hotline.cli.main import app
from hotline.domain.line import GENESIS, Envelope
from hotline.errors import BadSignature, MalformedMessage, ValidationError
from hotline.node import Node, init_node
from hotline.protocol import keys, tls
from hotline.protocol.canonical import canonical
from hotline.protocol.envelope import make_card, open_card, seal
from hotline.testing import (
    HTTP_TIMEOUT_S,
    DatabaseFactory,
    NodeProcess,
    api,
    free_port,
    running,
    tls_node_settings,
    wait_for,
)
from tests.conftest import NAMES, on_production_backend

PASSWORD = "tls-test-password-1"
PARTIES = ("us", "ru")
runner = CliRunner()


@dataclass
class Nodes:
    us: NodeProcess
    ru: NodeProcess
    db_urls: dict[str, str]

    def __getitem__(self, party: str) -> NodeProcess:
        return self.us if party == "us" else self.ru


@pytest.fixture
def nodes(tmp_path: Path, databases: DatabaseFactory) -> Iterator[Nodes]:
    """Two nodes that pinned each other's cards (with their TLS certificates), not started."""
    on_production_backend(databases)  # TLS is the subject, not the database
    endpoints = {party: f"https://127.0.0.1:{free_port()}" for party in PARTIES}
    operator_ports = {party: free_port() for party in PARTIES}
    db_urls = {party: databases.new(party) for party in PARTIES}
    made = {}
    for party in PARTIES:
        name_en, name_ru, lang = NAMES[party]
        made[party] = init_node(
            tmp_path / party,
            party=party,
            name_en=name_en,
            name_ru=name_ru,
            lang=lang,
            endpoints=[endpoints[party]],
            database_url=db_urls[party],
            settings=tls_node_settings(operator_ports[party]),
        )
        made[party].auth.add_user("officer", PASSWORD)
    made["us"].add_peer(made["ru"].identity.card().wire())
    made["ru"].add_peer(made["us"].identity.card().wire())
    for node in made.values():
        node.db.dispose()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    env.update(
        HOTLINE_RETRY_CAP_S="1",
        HOTLINE_RETRY_BASE_S="0.1",
        HOTLINE_TICK_S="0.5",
        HOTLINE_CHECKPOINT_INTERVAL_S="0",
    )
    processes = {
        party: NodeProcess(
            tmp_path / party,
            f"https://127.0.0.1:{operator_ports[party]}",
            env,
            federation_url=endpoints[party],
        )
        for party in PARTIES
    }
    yield Nodes(processes["us"], processes["ru"], db_urls)
    for process in processes.values():
        process.stop()
    for url in db_urls.values():
        databases.release(url)


# -- helpers -------------------------------------------------------------------------------


def login(node: NodeProcess) -> httpx.Client:
    with api(node) as client:
        answer = client.post("/api/v1/login", json={"user": "officer", "password": PASSWORD})
    assert 200 == answer.status_code, answer.text
    return api(node, answer.json()["token"])


def send(client: httpx.Client, to: str, text: str) -> str:
    answer = client.post("/api/v1/messages", json={"to": to, "text": text})
    assert 201 == answer.status_code, answer.text
    return str(answer.json()["id"])


def state(client: httpx.Client, message_id: str) -> dict[str, Any]:
    answer = client.get(f"/api/v1/messages/{message_id}")
    assert 200 == answer.status_code, answer.text
    return dict(answer.json())


def inbox_texts(client: httpx.Client) -> list[str]:
    answer = client.get("/api/v1/inbox", params={"limit": 5000})
    assert 200 == answer.status_code, answer.text
    return [row["body"]["text"] for row in reversed(answer.json())]  # oldest first


def delivered(client: httpx.Client, ids: list[str]) -> bool:
    return all(state(client, i)["state"] in ("delivered", "acknowledged") for i in ids)


def last_error(client: httpx.Client, peer: str) -> str:
    """The node's last delivery error to ``peer`` ("" while none)."""
    answer = client.get("/api/v1/peers")
    assert 200 == answer.status_code, answer.text
    [row] = [p for p in answer.json() if p["party"] == peer]
    return str(row["last_error"] or "")


def refused(client: httpx.Client, peer: str) -> str:
    """The last delivery error to ``peer`` once it is a TLS refusal ("" until then)."""
    error = last_error(client, peer)
    return error if "TLS" in error or "SSL" in error else ""


def peer_client(directory: Path, peer: NodeProcess, **kwargs: Any) -> httpx.Client:
    """A client of ``peer``'s federation listener with the certificate in ``directory``."""
    peer_der = tls.load_cert_der(tls.cert_path(peer.directory))
    context = tls.client_context(peer_der, tls.cert_path(directory), tls.key_path(directory))
    return httpx.Client(base_url=peer.federation_url, verify=context, timeout=HTTP_TIMEOUT_S)


def _raw_connect(host: str, port: int) -> socket.socket:
    """A bare TCP connection to a listener (TLS is wrapped by the caller, if at all)."""
    return socket.create_connection((host, port), timeout=HTTP_TIMEOUT_S)


def forged_envelope(us_dir: Path) -> dict[str, Any]:
    """A well-formed envelope from us to ru, signed with us's real key: what an attacker
    holding a stolen or replayed envelope would post (accepted if it got through)."""
    key = keys.load_private(us_dir / "node.key")
    unsigned = {
        "v": 1,
        "id": "0f0e0d0c-0b0a-4909-8807-060504030201",
        "from": "us",
        "to": "ru",
        "seq": 1,
        "prev": GENESIS,
        "created": "2026-01-01T00:00:00.000Z",
        "precedence": "ROUTINE",
        "type": "text",
        "lang": "en",
        "body": {"text": "smuggled past TLS"},
        "key": keys.fingerprint(key.public_key()),
    }
    return seal(unsigned, key, Envelope).wire()


def cli(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert 0 == result.exit_code, result.output
    return result.output


def pin_new_card(of: NodeProcess, on: NodeProcess, tmp_path: Path) -> str:
    """``of`` gives its card; ``on`` pins it with ``peer add --replace`` (its own CLI
    process on its folder, while it runs)."""
    card = tmp_path / f"{of.directory.name}-card-{free_port()}.json"
    cli("card", "--dir", str(of.directory), "--out", str(card))
    return cli("peer", "add", str(card), "--dir", str(on.directory), "--yes", "--replace")


# -- tests ---------------------------------------------------------------------------------


def test_delivery_works_both_ways_over_mutual_tls(nodes: Nodes) -> None:
    with running(nodes.us, nodes.ru):
        us, ru = login(nodes.us), login(nodes.ru)
        with us, ru:
            out = [send(us, "ru", f"over mTLS {i}") for i in range(3)]
            back = [send(ru, "us", f"обратно {i}") for i in range(3)]
            wait_for(lambda: delivered(us, out), "us → ru delivered", timeout=60)
            wait_for(lambda: delivered(ru, back), "ru → us delivered", timeout=60)
            assert [f"over mTLS {i}" for i in range(3)] == inbox_texts(ru)
            assert [f"обратно {i}" for i in range(3)] == inbox_texts(us)
            health = us.get("/health")
        # the operator side is on TLS, with HSTS; the federation side is on TLS 1.2+
        assert "max-age" in health.headers["strict-transport-security"]
        with peer_client(nodes.us.directory, nodes.ru) as as_us:
            answer = as_us.get("/health")
        assert ("ok", "ru") == (answer.json()["status"], answer.json()["party"])


def test_the_federation_listener_refuses_unpinned_missing_and_plain_clients(
    nodes: Nodes, tmp_path: Path
) -> None:
    mallory = tmp_path / "mallory"
    mallory.mkdir()
    tls.write_files(mallory, ["127.0.0.1"], "us")  # a certificate no one pinned
    envelope = forged_envelope(nodes.us.directory)
    body = canonical({"envelopes": [envelope]})
    ru_der = tls.load_cert_der(tls.cert_path(nodes.ru.directory))
    no_cert = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    no_cert.check_hostname = False
    no_cert.load_verify_locations(cadata=ru_der)
    plain_url = nodes.ru.federation_url.replace("https://", "http://")
    clients = {
        "an unpinned certificate": lambda: peer_client(mallory, nodes.ru),
        "no certificate": lambda: httpx.Client(
            base_url=nodes.ru.federation_url, verify=no_cert, timeout=HTTP_TIMEOUT_S
        ),
        "plain HTTP": lambda: httpx.Client(base_url=plain_url, timeout=HTTP_TIMEOUT_S),
    }
    with running(nodes.ru):
        for what, make in clients.items():
            for method, path, content in (
                ("POST", "/federation/v1/envelopes", body),
                ("GET", "/health", None),
            ):
                with make() as client, pytest.raises(httpx.TransportError):  # no answer at all
                    client.request(
                        method, path, content=content, headers={"content-type": "application/json"}
                    )
                    pytest.fail(f"the federation listener answered {path} to {what}")
        # a bare TLS handshake without a certificate fails too (the raw-socket view)
        where = urlsplit(nodes.ru.federation_url)
        sock = _raw_connect(str(where.hostname), int(where.port or 443))
        with pytest.raises((ssl.SSLError, ConnectionError)), no_cert.wrap_socket(sock) as wrapped:
            wrapped.sendall(b"GET /health HTTP/1.1\r\nhost: x\r\n\r\n")
            if not wrapped.recv(1):  # TLS 1.3: the refusal comes after the client's Finished
                raise ConnectionError("closed without an answer")
        with login(nodes.ru) as ru:
            assert [] == inbox_texts(ru)  # nothing stored
            health = ru.get("/health")
            assert 200 == health.status_code  # and the node goes on


def test_a_peer_presenting_another_certificate_is_refused_and_the_message_waits(
    nodes: Nodes, tmp_path: Path
) -> None:
    # ru's TLS key is replaced (as an impostor holding ru's endpoint would present
    # another certificate); us has ru's old card pinned
    cli("tls", "rotate", "--dir", str(nodes.ru.directory))
    with running(nodes.us, nodes.ru), login(nodes.us) as us, login(nodes.ru) as ru:
        message = send(us, "ru", "wait for the right certificate")
        error = wait_for(lambda: refused(us, "ru"), "a refused delivery", timeout=60)
        assert "not the one pinned" in error, error
        assert state(us, message)["state"] in ("queued", "sent")  # kept, not lost
        assert [] == inbox_texts(ru)

        output = pin_new_card(nodes.ru, nodes.us, tmp_path)  # the right card, pinned
        assert "TLS certificate replaced" in output
        wait_for(lambda: delivered(us, [message]), "delivery after pinning", timeout=60)
        assert ["wait for the right certificate"] == inbox_texts(ru)


def test_rotation_by_a_new_card_loses_no_message_in_flight(nodes: Nodes, tmp_path: Path) -> None:
    with running(nodes.us, nodes.ru), login(nodes.us) as us, login(nodes.ru) as ru:
        before = [send(us, "ru", f"before {i}") for i in range(5)]
        wait_for(lambda: delivered(us, before), "the first five delivered", timeout=60)

        old_pin = tls.pin(tls.load_cert_der(tls.cert_path(nodes.us.directory)))
        assert old_pin in cli("tls", "rotate", "--dir", str(nodes.us.directory))
        during = [send(us, "ru", f"during {i}") for i in range(5)]
        answers = [send(ru, "us", f"ответ {i}") for i in range(3)]
        # ru still pins us's old certificate: both ways are refused, nothing is lost
        wait_for(lambda: refused(us, "ru"), "us → ru refused", timeout=60)
        wait_for(lambda: refused(ru, "us"), "ru → us refused", timeout=60)

        replaced = pin_new_card(nodes.us, nodes.ru, tmp_path)
        assert "TLS CERTIFICATE CHANGE" in replaced and old_pin in replaced
        after = [send(us, "ru", f"after {i}") for i in range(5)]
        wait_for(lambda: delivered(us, during + after), "all delivered", timeout=90)
        wait_for(lambda: delivered(ru, answers), "the answers delivered", timeout=90)
        expected = [f"{when} {i}" for when in ("before", "during", "after") for i in range(5)]
        assert expected == inbox_texts(ru)  # each once, in order
        assert [f"ответ {i}" for i in range(3)] == inbox_texts(us)


def test_each_listener_serves_only_its_side(nodes: Nodes) -> None:
    with running(nodes.us, nodes.ru):
        with api(nodes.us) as operator:
            assert 404 == operator.post("/federation/v1/envelopes", json={}).status_code
            assert 404 == operator.post("/federation/v1/checkpoints", json={}).status_code
            assert 200 == operator.get("/health").status_code
            assert 200 == operator.get("/console/login").status_code
        # as ru, with ru's pinned certificate, on us's federation listener
        with peer_client(nodes.ru.directory, nodes.us) as federation:
            for path in ("/api/v1/messages", "/api/v1/peers", "/console/login", "/metrics"):
                assert 404 == federation.get(path).status_code, path
            assert 404 == federation.post("/api/v1/login", json={}).status_code
            assert 200 == federation.get("/health").status_code


def test_plain_http_is_refused_unless_allowed_on_loopback(tmp_path: Path) -> None:
    def init(name: str, *extra: str) -> Any:
        return runner.invoke(
            app, ["init", "--party", "us", "--name", "US", "--dir", str(tmp_path / name), *extra]
        )

    refused = init("a", "--endpoint", "http://127.0.0.1:18001")
    assert 1 == refused.exit_code and "allow_plain_http" in refused.output
    assert not (tmp_path / "a" / "hotline.toml").exists()
    far = init("b", "--endpoint", "http://hotline.example.org:8443", "--allow-plain-http")
    assert 1 == far.exit_code and "not loopback" in far.output

    allowed = init("c", "--endpoint", "http://127.0.0.1:18002", "--allow-plain-http")
    assert 0 == allowed.exit_code, allowed.output
    assert "PLAIN HTTP" in allowed.output
    card = runner.invoke(
        app, ["card", "--dir", str(tmp_path / "c"), "--out", str(tmp_path / "c.json")]
    )
    assert 0 == card.exit_code and "PLAIN HTTP" in card.output

    # a node on TLS does not pin a card with an http:// endpoint
    ru = init_node(tmp_path / "ru", party="ru", name_en="Russia")
    try:
        plain_card = open_card(json.loads((tmp_path / "c.json").read_text()))[0].wire()
        with pytest.raises(ValidationError, match="plain HTTP"):
            ru.add_peer(plain_card)
        assert [] == ru.peer_list()  # nothing pinned
    finally:
        ru.db.dispose()


def test_a_plain_http_node_says_so_at_every_start(
    tmp_path: Path, databases: DatabaseFactory
) -> None:
    url = databases.new("plain")
    try:
        node = init_node(
            tmp_path / "plain",
            party="us",
            name_en="US",
            endpoints=[f"http://127.0.0.1:{free_port()}"],
            allow_plain_http=True,
            database_url=url,
            settings=tls_node_settings(free_port()),
        )
        operator = f"https://{node.settings.operator_listen}"
        node.db.dispose()
        env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
        process = NodeProcess(tmp_path / "plain", operator, env)
        with running(process):
            pass
        assert "PLAIN HTTP: traffic readable on the wire; development only" in process.log_tail()
    finally:
        databases.release(url)


def test_both_listeners_on_one_address_are_refused(tmp_path: Path) -> None:
    init_node(tmp_path / "n", party="us", name_en="US").db.dispose()
    address = f"127.0.0.1:{free_port()}"
    result = runner.invoke(
        app,
        ["serve", "--dir", str(tmp_path / "n"), "--federation-listen", address,
         "--operator-listen", address],
    )  # fmt: skip
    assert 1 == result.exit_code
    assert "both name" in result.output and "operator_listen" in result.output


def test_the_card_carries_the_certificate_and_its_pin(tmp_path: Path) -> None:
    node = init_node(tmp_path / "n", party="us", name_en="US")
    node.db.dispose()
    card = node.identity.card().wire()
    der = tls.load_cert_der(tls.cert_path(tmp_path / "n"))
    assert (tls.cert_b64(der), tls.pin(der)) == (card["tls_cert"], card["tls_pin"])
    certificate = tls.parse_der(der)
    assert "secp256r1" == certificate.public_key().curve.name  # type: ignore[union-attr]
    assert 0o600 == (tmp_path / "n" / "tls.key").stat().st_mode & 0o777
    shown = cli("card", "--dir", str(tmp_path / "n"))
    assert card["tls_pin"] in shown

    key = node.identity.key
    # a card with an https endpoint but no certificate is refused
    bare = make_card(key, party="us", name_en="US", name_ru="US", lang="en",
                     endpoints=["https://127.0.0.1:8443"], phrasebook_version="1",
                     phrasebook_hash="0" * 64)  # fmt: skip
    with pytest.raises(MalformedMessage, match="no TLS certificate"):
        open_card(bare.wire())
    # a pin that is not the certificate's is refused, even signed
    other = tmp_path / "other"
    other.mkdir()
    tls.write_files(other, [], "x")
    wrong = dict(card, tls_pin=tls.pin(tls.load_cert_der(tls.cert_path(other))))
    del wrong["sig"]
    with pytest.raises(BadSignature, match="tls_pin"):
        open_card(seal(wrong, key, type(node.identity.card())).wire())
    # an older card without TLS fields still opens (plain HTTP only), and signs the same
    old = make_card(key, party="us", name_en="US", name_ru="US", lang="en",
                    endpoints=["http://127.0.0.1:8400"], phrasebook_version="1",
                    phrasebook_hash="0" * 64)  # fmt: skip
    assert "tls_cert" not in old.wire() and "tls_pin" not in old.wire()
    assert open_card(old.wire())[0] == old


def test_a_node_made_before_tls_gets_its_certificate_with_tls_init(tmp_path: Path) -> None:
    directory = tmp_path / "n"
    init_node(directory, party="us", name_en="US").db.dispose()
    for name in ("tls.crt", "tls.key"):
        (directory / name).unlink()
    refused = runner.invoke(app, ["card", "--dir", str(directory)])
    assert 1 == refused.exit_code and "hotline tls init" in refused.output
    made = cli("tls", "init", "--dir", str(directory))
    assert "pin sha256:" in made
    again = runner.invoke(app, ["tls", "init", "--dir", str(directory)])
    assert 1 == again.exit_code and "tls rotate" in again.output
    node = Node.open(directory)
    try:
        assert node.identity.card().tls_pin == node.identity.tls_pin
    finally:
        node.db.dispose()


def test_the_cli_talks_to_the_operator_listener_trusting_only_the_nodes_certificate(
    nodes: Nodes, tmp_path: Path
) -> None:
    us = str(nodes.us.directory)
    env = {"HOTLINE_PASSWORD": PASSWORD}
    with running(nodes.us):
        logged = runner.invoke(app, ["login", "--dir", us, "--user", "officer"], env=env)
        assert 0 == logged.exit_code, logged.output
        inbox = runner.invoke(app, ["inbox", "--dir", us, "--json"])
        assert (0, "[]") == (inbox.exit_code, inbox.output.strip()), inbox.output
        # another certificate named as the one to trust: the node is not believed
        stranger = tmp_path / "stranger"
        stranger.mkdir()
        tls.write_files(stranger, ["127.0.0.1"], "x")
        wrong = runner.invoke(
            app,
            ["inbox", "--dir", us, "--url", nodes.us.url],
            env={"HOTLINE_CA_FILE": str(tls.cert_path(stranger))},
        )
        assert 1 == wrong.exit_code and "CERTIFICATE_VERIFY_FAILED" in wrong.output


def test_listener_settings_are_checked(tmp_path: Path) -> None:
    init_node(tmp_path / "n", party="us", name_en="US").db.dispose()
    for value in ("8400", "127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:port", ":8400"):
        result = runner.invoke(
            app, ["card", "--dir", str(tmp_path / "n")], env={"HOTLINE_OPERATOR_LISTEN": value}
        )
        assert 1 == result.exit_code, value
        assert "operator_listen" in result.output and "HOTLINE_OPERATOR_LISTEN" in result.output
