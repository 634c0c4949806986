"""HTTP hygiene, the security and access logs, and no 500s from input (issue 13, items 7,
10 and 11), against a real ``hotline serve`` process on TLS where a user or a peer would
meet them; the console's policy checks and the last-resort answer against an app
in-process.

The node under attack is ``ru``; it has pinned ``us`` (whose keys the tests hold, to sign
envelopes and checkpoints as ``us`` would, and to present us's pinned TLS certificate to
ru's federation listener) and has two people: ``duty`` (officer) and ``ivanova``
(translator). Operator-side requests go to ru's operator listener (TLS); federation-side
ones to its federation listener (mutual TLS), the only place they are served: a client
without a pinned certificate gets no answer there at all (``test_tls.py``), so what a
refused *request* may tell is tested from a pinned peer's connection.
"""

from __future__ import annotations

import json
import os
import re
import socket
import stat
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from hotline import seclog
from hotline.app import create_app
from hotline.domain.line import Envelope
from hotline.node import Node
from hotline.protocol import keys
from hotline.protocol.checkpoint import Checkpoint, sign_note
from hotline.protocol.envelope import seal
from hotline.services import policy
from hotline.testing import (
    HTTP_TIMEOUT_S,
    DatabaseFactory,
    NodeProcess,
    ServerThread,
    api,
    trust,
    wait_for,
)
from tests.conftest import Pair
from tests.security.conftest import (
    federation_client,
    own_files,
    raw_federation,
    raw_operator,
    tls_node,
)
from tests.web.conftest import log_in

PASSWORD = "correct horse battery staple"
STRANGER = keys.from_seed(bytes([7]) * 32)


def _raw_connect(host: str, port: int) -> socket.socket:
    """A raw TCP connection to the node (TLS is wrapped on it by ``conftest.raw_*``)."""
    return socket.create_connection((host, port), timeout=HTTP_TIMEOUT_S)


@dataclass
class Served:
    """The ``ru`` node as a ``hotline serve`` process, and ``us``'s identity."""

    process: NodeProcess
    ru: Node  # the same node's folder and database, read from the test
    us: Node  # not served: the tests sign as ``us`` with its key
    tokens: dict[str, str]

    @property
    def url(self) -> str:
        """ru's operator listener."""
        return self.process.url

    def federation(self) -> httpx.Client:
        """A client of ru's federation listener, presenting us's pinned certificate."""
        return federation_client(self.process, *own_files(self.us.settings.directory))

    @property
    def directory(self) -> Path:
        return self.process.directory

    def log(self, name: str) -> list[dict[str, Any]]:
        path = self.directory / name
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text("utf-8").splitlines()]

    def events(self, name: str) -> list[dict[str, Any]]:
        return [r for r in self.log("security.log") if r["event"] == name]


@pytest.fixture(scope="module")
def served(
    tmp_path_factory: pytest.TempPathFactory, databases: DatabaseFactory
) -> Iterator[Served]:
    root = tmp_path_factory.mktemp("hygiene")
    urls = {party: databases.new(party) for party in ("us", "ru")}
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    us, _unused = tls_node(root / "us", "us", env, database_url=urls["us"])
    ru, process = tls_node(root / "ru", "ru", env, database_url=urls["ru"])
    ru.add_peer(us.identity.card().wire())
    ru.auth.add_user("duty", PASSWORD, ["officer"])
    ru.auth.add_user("ivanova", PASSWORD, ["translator"])
    tokens = {name: ru.auth.login(name, PASSWORD)[0] for name in ("duty", "ivanova")}
    ru.db.dispose()
    try:
        process.start()
        yield Served(process, ru, us, tokens)
    finally:
        process.stop()
        for node in (ru, us):
            node.db.dispose()
        for url in urls.values():
            databases.release(url)


def envelope(served: Served, *, signer: Any = None, **sign: Any) -> dict[str, Any]:
    """An envelope from us to ru, signed (by us's key unless ``signer``)."""
    unsigned: dict[str, Any] = {
        "v": 1,
        "id": str(uuid.uuid4()),
        "from": "us",
        "to": "ru",
        "seq": 1,
        "prev": "0" * 64,
        "created": served.us.line.now(),
        "precedence": "ROUTINE",
        "type": "text",
        "lang": "en",
        "body": {"text": "hello"},
        "key": served.us.identity.fingerprint,
    } | sign
    return seal(unsigned, signer or served.us.identity.key, Envelope).wire()


def inbound(node: Node) -> list[dict[str, Any]]:
    """What the node received from peers (its own link tests go out meanwhile)."""
    return node.line.listing("in")


def post_json(client: httpx.Client, path: str, raw: bytes) -> httpx.Response:
    return client.post(path, content=raw, headers={"content-type": "application/json"})


# -- headers -------------------------------------------------------------------------------


def test_every_answer_carries_no_store_and_nosniff(served: Served) -> None:
    with (
        api(served.url, served.tokens["duty"]) as duty,
        api(served.url) as anyone,
        served.federation() as peer,
    ):
        answers = {
            "health": anyone.get("/health"),
            "api": duty.get("/api/v1/inbox"),
            "401": anyone.get("/api/v1/inbox"),
            "404": duty.get("/api/v1/no-such-thing"),
            "federation": post_json(peer, "/federation/v1/envelopes", b"[]"),
            "federation health": peer.get("/health"),
            "console": anyone.get("/console/login"),
        }
        static = anyone.get("/console/static/console.css")

    for name, answer in answers.items():
        headers = answer.headers
        assert ("no-store", "nosniff") == (
            headers.get("cache-control"),
            headers.get("x-content-type-options"),
        ), name
        assert "DENY" == headers.get("x-frame-options"), name
        assert "frame-ancestors 'none'" in headers.get("content-security-policy", ""), name
    for name in ("health", "api", "401", "404", "console"):  # the operator side, on TLS
        assert "max-age" in answers[name].headers.get("strict-transport-security", ""), name
    assert "no-referrer" == answers["api"].headers["referrer-policy"]
    assert "same-origin" == answers["console"].headers["referrer-policy"]  # the page's own
    assert "nosniff" == static.headers["x-content-type-options"]


def test_a_405_names_every_method_the_path_has(served: Served) -> None:
    call = f"/api/v1/calls/{uuid.uuid4()}/readouts"  # a GET and a POST route, declared apart
    with api(served.url, served.tokens["duty"]) as duty:
        answers = {
            "/api/v1/messages": duty.delete("/api/v1/messages"),
            call: duty.put(call, json={}),
            "/health": duty.post("/health"),
        }

    allowed = {path: set(a.headers["allow"].split(", ")) for path, a in answers.items()}
    assert {"POST"} == allowed["/api/v1/messages"]
    assert {"GET", "POST"} <= allowed[call]
    assert {"GET"} == allowed["/health"]
    for answer in answers.values():
        assert (405, "method_not_allowed") == (answer.status_code, answer.json()["error"]["code"])


# -- no 500s from input --------------------------------------------------------------------


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def test_deep_json_is_refused_with_a_code_and_changes_nothing(served: Served) -> None:
    before = inbound(served.ru)
    bodies = {
        "list": lambda d: nested(d),
        "in a field": lambda d: b'{"to": "ru", "notice": {"a": ' + nested(d) + b"}}",
        "objects": lambda d: b'{"a": ' * d + b"1" + b"}" * d,
    }
    paths = [
        "/api/v1/messages",
        "/api/v1/notices",
        "/api/v1/notices/check",
        "/api/v1/login",
        "/federation/v1/envelopes",
        "/federation/v1/checkpoints",
    ]
    answers = {}
    with api(served.url, served.tokens["duty"]) as duty, served.federation() as peer:
        for path in paths:
            client = peer if path.startswith("/federation/") else duty  # where it is served
            for shape, body in bodies.items():
                for depth in (300, 1_000, 3_000, 100_000):
                    answers[(path, shape, depth)] = post_json(client, path, body(depth))
        health = duty.get("/health")
        federation_health = peer.get("/health")

    unanswered = {
        case: (a.status_code, a.text[:200])
        for case, a in answers.items()
        if not 400 <= a.status_code < 500 or "code" not in a.json()["error"]
    }
    assert {} == unanswered
    codes = {a.json()["error"]["code"] for a in answers.values()}
    assert codes <= {"malformed", "invalid", "too_large"}, codes
    assert 200 == health.status_code == federation_health.status_code
    assert before == inbound(served.ru)


def test_ids_beyond_what_a_database_holds_are_refused_as_input(served: Served) -> None:
    before = inbound(served.ru)
    huge = [2**31, 2**63, 2**64, 10**30]
    # certifying is the translator's (ivanova); the rest the officer's (duty)
    with (
        api(served.url, served.tokens["duty"]) as duty,
        api(served.url, served.tokens["ivanova"]) as translator,
    ):
        answers = [
            (translator if path.endswith("/certify") else duty).post(path, json=body)
            for n in huge
            for path, body in (
                (f"/api/v1/alarms/{n}/clear", {"reason": "test"}),
                (f"/api/v1/translations/{n}/certify", None),
                (f"/api/v1/watch/changes/{n}/approve", {"note": ""}),
                (f"/api/v1/watch/changes/{n}/reject", {"note": ""}),
            )
        ]
        largest = duty.post(f"/api/v1/alarms/{2**31 - 1}/clear", json={"reason": "test"})
    console = log_in(served.url, "duty", PASSWORD)
    console_translator = log_in(served.url, "ivanova", PASSWORD)
    try:
        pages = [
            console.post(f"/console/alarms/{2**64}/clear", {"reason": "test"}),
            console_translator.post(f"/console/translations/{2**64}/certify"),
            console.post(f"/console/watch-level/changes/{2**64}/approve"),
        ]
    finally:
        console.http.close()
        console_translator.http.close()

    assert [(422, "invalid")] * len(answers) == [
        (a.status_code, a.json()["error"]["code"]) for a in answers
    ]
    assert "less than or equal to 2147483647" in answers[0].json()["error"]["message"]
    assert (404, "not_found") == (largest.status_code, largest.json()["error"]["code"])
    assert [422] * len(pages) == [p.status_code for p in pages]
    assert before == inbound(served.ru)


# -- the federation API tells a stranger nothing ------------------------------------------


def test_a_refused_peer_learns_nothing_of_which_parties_and_keys_are_pinned(
    served: Served,
) -> None:
    stranger_key = keys.fingerprint(STRANGER.public_key())
    before = inbound(served.ru)
    cases = {
        "pinned party, other key": envelope(served, signer=STRANGER, key=stranger_key),
        "party not pinned": envelope(served, signer=STRANGER, key=stranger_key, **{"from": "ua"}),
        "pinned key, bad signature": envelope(served, signer=STRANGER),
    }
    with served.federation() as peer:  # a pinned TLS client: the others get no answer
        answers = {
            name: peer.post("/federation/v1/envelopes", json={"envelopes": [env]})
            for name, env in cases.items()
        }

    pinned = served.us.identity.fingerprint
    wording = {}
    for name, answer in answers.items():
        assert 403 == answer.status_code, name
        assert [] == answer.json()["receipts"]
        error = answer.json()["error"]
        assert pinned not in answer.text, name
        assert "'us'" not in answer.text and '"us"' not in answer.text.replace('"to"', ""), name
        wording[name] = (error["code"], error["message"].replace(cases[name]["id"], "ID"))
    assert wording["pinned party, other key"] == wording["party not pinned"]
    assert "unknown_key" == wording["party not pinned"][0]
    assert "bad_signature" == wording["pinned key, bad signature"][0]
    assert before == inbound(served.ru)

    # The details are in the security log, with the source address and the claimed sender.
    refused = wait_for(
        lambda: [e for e in served.events("peer_refused") if e.get("claimed") in ("us", "ua")],
        "the refusals in the security log",
        timeout=10,
    )
    assert {("unknown_key", "us", pinned), ("unknown_key", "ua", None)} <= {
        (e["code"], e["claimed"], e.get("pinned_key")) for e in refused
    }
    assert all(e["source"] == "127.0.0.1" for e in refused)


def test_a_checkpoint_from_a_stranger_learns_nothing_of_which_logs_are_pinned(
    served: Served,
) -> None:
    root = bytes(32)
    answers = {}
    with served.federation() as anyone:  # a pinned TLS client: the others get no answer
        for party in ("us", "ua"):
            text = Checkpoint(f"hotline/{party}", 1, root).body()
            note = sign_note(text, f"hotline/{party}", STRANGER)
            request = {"checkpoint": note, "old_size": 0, "proof": []}
            answers[party] = anyone.post("/federation/v1/checkpoints", json=request)
            garbled = {"checkpoint": f"hotline/{party}\nno blank line", "old_size": 0, "proof": []}
            answers[party + " garbled"] = anyone.post("/federation/v1/checkpoints", json=garbled)

    def said(name: str) -> tuple[int, str, str]:
        error = answers[name].json()["error"]
        return answers[name].status_code, error["code"], error["message"]

    assert said("us") == said("ua")
    assert 403 == said("us")[0]
    assert "hint" not in answers["us"].json()["error"]
    assert (400, "malformed") == said("us garbled")[:2]
    assert said("us garbled")[2] == said("ua garbled")[2].replace("ua", "us")
    assert "hotline/us" not in answers["us"].text


# -- the security log and the access log ---------------------------------------------------


def test_the_security_log_records_every_401_and_403(served: Served) -> None:
    with api(served.url) as anyone, api(served.url, served.tokens["ivanova"]) as translator:
        no_token = anyone.get("/api/v1/inbox")
        bad_token = anyone.get("/api/v1/outbox", headers={"Authorization": "Bearer forged"})
        not_allowed = translator.post("/api/v1/messages", json={"to": "us", "text": "hi"})
    assert [401, 401, 403] == [a.status_code for a in (no_token, bad_token, not_allowed)]

    def written() -> list[dict[str, Any]] | None:
        """The auth_refused records, once those and this test's forbidden are written
        (the module's other tests leave records of their own in the same log)."""
        refused = [
            e
            for e in served.events("auth_refused")
            if e["path"] in ("/api/v1/inbox", "/api/v1/outbox")
        ]
        paths = {e["path"] for e in refused}
        mine = [e for e in served.events("forbidden") if e["path"] == "/api/v1/messages"]
        return refused if mine and len(paths) == 2 else None

    refused = wait_for(written, "auth_refused and forbidden records", timeout=60)
    assert {("GET", "/api/v1/inbox"), ("GET", "/api/v1/outbox")} <= {
        (e["method"], e["path"]) for e in refused
    }
    assert all(("unauthenticated", "127.0.0.1") == (e["code"], e["source"]) for e in refused)
    [forbidden] = [e for e in served.events("forbidden") if e["path"] == "/api/v1/messages"]
    assert ("ivanova", "forbidden", "POST", "ru") == (
        forbidden["user"],
        forbidden["code"],
        forbidden["method"],
        forbidden["party"],
    )
    path = served.directory / "security.log"
    assert 0o600 == stat.S_IMODE(path.stat().st_mode)
    first = served.log("security.log")[0]
    assert ["time", "event", "party"] == list(first)[:3]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", first["time"])
    text = path.read_text("utf-8")
    assert "forged" not in text and served.tokens["ivanova"] not in text  # no secrets


def test_the_access_log_has_a_line_per_request_without_its_query(served: Served) -> None:
    marker = uuid.uuid4().hex
    with api(served.url, served.tokens["duty"]) as duty:
        answer = duty.get(f"/api/v1/inbox?secret={marker}")
        missing = duty.get(f"/api/v1/{marker}")

    def seen() -> tuple[dict[str, Any], dict[str, Any]] | None:
        lines = served.log("access.log")
        inbox = [r for r in lines if r["path"] == "/api/v1/inbox" and r.get("user") == "duty"]
        gone = [r for r in lines if r["path"] == f"/api/v1/{marker}"]
        return (inbox[-1], gone[-1]) if inbox and gone else None

    inbox, gone = wait_for(seen, "the two requests in the access log", timeout=10)
    assert ("request", "GET", 200, "duty", "127.0.0.1", "ru") == (
        inbox["event"],
        inbox["method"],
        inbox["status"],
        inbox["user"],
        inbox["source"],
        inbox["party"],
    )
    assert len(answer.content) == inbox["bytes"]
    assert isinstance(inbox["duration_ms"], int | float) and inbox["duration_ms"] >= 0
    assert (404, 404) == (gone["status"], missing.status_code)
    access = served.directory / "access.log"
    assert f"secret={marker}" not in access.read_text("utf-8")
    assert 0o600 == stat.S_IMODE(access.stat().st_mode)


#: Each listener's half-sent request: its path and the start of its body.
HALF_SENT = {
    "federation": ("/federation/v1/envelopes", b'{"envel'),
    "operator": ("/api/v1/login", b'{"us'),
}


@pytest.mark.parametrize("side", ["federation", "operator"])
def test_a_half_sent_request_is_still_logged_when_the_client_goes(
    served: Served, side: str
) -> None:
    """A client that sends a body shorter than it declared and hangs up: no 500, a line.
    On the federation listener the peer's pinned certificate gets the request past the
    TLS handshake to HTTP; on the operator listener TLS needs no client certificate."""
    path, start = HALF_SENT[side]
    if side == "federation":
        us_files = own_files(served.us.settings.directory)
        sock = raw_federation(_raw_connect, served.process, *us_files)
    else:
        sock = raw_operator(_raw_connect, served.process)
    with sock:
        sock.sendall(
            f"POST {path} HTTP/1.1\r\nHost: x\r\n".encode()
            + b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n"
            + start
        )
    with api(served.url) as anyone, served.federation() as peer:
        assert 200 == anyone.get("/health").status_code
        assert 200 == peer.get("/health").status_code
    gone = wait_for(
        lambda: [r for r in served.log("access.log") if r["status"] == 499 and r["path"] == path],
        "the half-sent request in the access log",
        timeout=10,
    )
    assert path == gone[-1]["path"]
    assert not [r for r in served.log("access.log") if r["status"] >= 500]
    assert not served.events("internal_error")


# -- the console ---------------------------------------------------------------------------


def test_the_console_login_refuses_null_and_foreign_origins(served: Served) -> None:
    form = {"user": "duty", "password": PASSWORD}
    origin = served.url
    answers = {}
    for name, headers in {
        "null": {"Origin": "null"},
        "foreign": {"Origin": "http://evil.example"},
        "foreign referer": {"Referer": "http://evil.example/page"},
        "same origin": {"Origin": origin},
        "same-origin referer": {"Referer": origin + "/console/login"},
        "neither": {},
    }.items():
        with api(served.url) as browser:
            answer = browser.post("/console/login", data=form, headers=headers)
            answers[name] = (answer.status_code, "hotline_session" in answer.cookies)

    assert {
        "null": (403, False),
        "foreign": (403, False),
        "foreign referer": (403, False),
        "same origin": (303, True),
        "same-origin referer": (303, True),
        "neither": (303, True),
    } == answers
    wait_for(
        lambda: len([e for e in served.events("forbidden") if e["path"] == "/console/login"]) >= 3,
        "the refused logins in the security log",
        timeout=10,
    )


@pytest.fixture
def duty_console(pair: Pair) -> Iterator[Any]:
    """duty on us's console, at us's operator listener (TLS, in-process)."""
    trust(pair.operators["us"].url, pair.us.settings.directory)
    pair.us.auth.add_user("duty", PASSWORD)
    console = log_in(pair.operators["us"].url, "duty", PASSWORD)
    yield console
    console.http.close()


def test_console_language_and_logout_go_through_the_policy_table(
    pair: Pair, duty_console: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = pair.operators["us"].url
    monkeypatch.setitem(policy.RULES, ("POST", "/console/lang"), frozenset({"admin"}))
    refused = duty_console.post("/console/lang", {"lang": "ru"})
    assert 403 == refused.status_code
    assert "duty (officer) may not do POST /console/lang" in refused.text
    assert "hotline_lang" not in duty_console.http.cookies

    with api(url) as visitor:
        assert 303 == visitor.post("/console/lang", data={"lang": "ru"}).status_code
        monkeypatch.setattr(policy, "VISITOR", frozenset())
        assert 403 == visitor.post("/console/lang", data={"lang": "en"}).status_code
        assert 403 == visitor.post("/console/logout").status_code

    assert 303 == duty_console.post("/console/logout").status_code  # officers may log out
    assert 303 == duty_console.http.get("/console").status_code  # and are logged out


def test_an_unexpected_failure_is_a_500_in_the_one_shape_with_no_traceback(
    make_node: Any, caplog: pytest.LogCaptureFixture
) -> None:
    node = make_node("us")
    app: FastAPI = create_app(node, start_workers=False)

    @app.get("/api/v1/boom")
    def boom() -> None:
        raise RuntimeError("secret internals: /etc/hotline/db password=hunter2")

    with ServerThread(app) as server, api(server.url) as client:
        answer = client.get("/api/v1/boom")

    assert 500 == answer.status_code
    assert {"error": {"code": "internal", "message": answer.json()["error"]["message"]}} == (
        answer.json()
    )
    assert "Traceback" not in answer.text and "hunter2" not in answer.text
    assert ("no-store", "nosniff") == (
        answer.headers["cache-control"],
        answer.headers["x-content-type-options"],
    )
    assert any("hunter2" in (r.exc_text or "") or r.exc_info for r in caplog.records)
    security = (node.settings.directory / "security.log").read_text("utf-8")
    [record] = [json.loads(line) for line in security.splitlines() if "internal_error" in line]
    assert ("RuntimeError", "/api/v1/boom") == (record["error"], record["path"])
    assert "hunter2" not in security


def _hotline(directory: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """The ``hotline`` command, as its own process (cheap password hashing, as in tests)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    return subprocess.run(
        [sys.executable, "-m", "hotline.testing", *args, "--dir", str(directory)],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    )


def test_user_administration_and_pinning_are_in_the_security_log(
    make_node: Any, tmp_path: Path
) -> None:
    us, ru, ru_again = make_node("us"), make_node("ru"), make_node("ru")
    directory = us.settings.directory
    cards = {}
    for name, node in (("ru", ru), ("ru-rotated", ru_again)):
        cards[name] = tmp_path / f"{name}.json"
        cards[name].write_text(json.dumps(node.identity.card().wire()), "utf-8")

    _hotline(
        directory, "user", "add", "duty2", "--role", "officer", "--password-stdin", stdin=PASSWORD
    )
    _hotline(directory, "user", "disable", "duty2")
    _hotline(directory, "peer", "add", str(cards["ru"]), "--yes")
    _hotline(directory, "peer", "add", str(cards["ru-rotated"]), "--yes", "--replace")

    path = directory / "security.log"
    records = [json.loads(line) for line in path.read_text("utf-8").splitlines()]
    assert [
        ("user_added", "duty2"),
        ("user_disabled", "duty2"),
        ("peer_pinned", "ru"),
        ("peer_key_changed", "ru"),
    ] == [(r["event"], r.get("user") or r.get("peer")) for r in records]
    assert all(("cli", "us") == (r["source"], r["party"]) for r in records)
    changed = records[-1]
    assert (ru.identity.fingerprint, ru_again.identity.fingerprint) == (
        changed["old_key"],
        changed["key"],
    )
    assert PASSWORD not in path.read_text("utf-8")
    assert 0o600 == stat.S_IMODE(path.stat().st_mode)


def test_a_security_event_never_fails_its_caller_nor_writes_a_secret(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    logs = seclog.open_logs(tmp_path, "us", security="no/such/folder/security.log", access="")
    facts = seclog.RequestFacts(method="POST", path="/api/v1/login", source="192.0.2.7")
    with seclog.request(logs, facts):
        seclog.event("login_failed", user="x" * 5000, password="hunter2", token="t0k3n")

    [line] = capsys.readouterr().err.splitlines()  # the file could not be made: stderr
    record = json.loads(line)
    assert ("login_failed", "us", "192.0.2.7", "/api/v1/login") == (
        record["event"],
        record["party"],
        record["source"],
        record["path"],
    )
    assert seclog.MAX_VALUE + 1 == len(record["user"])
    assert "hunter2" not in line and "t0k3n" not in line
    assert ["login_failed"] == facts.events


def test_every_state_changing_console_route_is_checked_against_the_policy_table(
    make_node: Any,
) -> None:
    from hotline.web.pages import require_session
    from hotline.web.routes.console import visitor_or_session
    from tests.api.test_policy import routes

    def calls(dependant: Any) -> set[Any]:
        found = {dependant.call}
        for inner in dependant.dependencies:
            found |= calls(inner)
        return found

    app = create_app(make_node("us"), start_workers=False)
    actions = [
        (method, path, route)
        for path, route in routes(app.routes)
        if path.startswith("/console")
        for method in route.methods - {"GET", "HEAD"}
        if (method, path) not in policy.OPEN
    ]
    checked = {require_session, visitor_or_session}
    assert len(actions) > 25
    assert [] == [(m, p) for m, p, route in actions if not calls(route.dependant) & checked]


def test_a_nul_character_anywhere_is_refused_as_input(served: Served) -> None:
    """PostgreSQL cannot hold NUL in text; the node refuses it on both databases alike."""
    before = inbound(served.ru)
    with api(served.url) as anyone, api(served.url, served.tokens["duty"]) as duty:
        answers = {
            "path": duty.get("/api/v1/calls/%00"),
            "query": duty.get("/api/v1/inbox", params={"peer": "\x00"}),
            "login body": anyone.post("/api/v1/login", json={"user": "d\x00", "password": "x"}),
            "message body": duty.post("/api/v1/messages", json={"to": "ru", "text": "a\x00"}),
            "deep in a notice": duty.post(
                "/api/v1/notices/check", json={"to": "us", "notice": {"a": [{"b": "\x00"}]}}
            ),
            "console login": anyone.post(
                "/console/login", data={"user": "duty\x00", "password": PASSWORD}
            ),
        }
        outbox = duty.get("/api/v1/outbox").json()

    statuses = {name: answer.status_code for name, answer in answers.items()}
    assert {
        "path": 400,
        "query": 400,
        "login body": 422,
        "message body": 422,
        "deep in a notice": 422,
        "console login": statuses["console login"],
    } == statuses
    assert 400 <= statuses["console login"] < 500
    assert "hotline_session" not in answers["console login"].cookies
    assert not [m for m in outbox if m["type"] == "text"]
    assert before == inbound(served.ru)
