"""Operators under attack, against real ``hotline serve`` processes on TLS (each with its
two listeners; the attacks come to the operator listener): password guessing is paused at
its source address (never by locking the officer out), counted in the database (shared by
two processes of the node, kept across a restart), and a flood of logins cannot take the
node's memory or keep a real officer out.

A second machine is ``127.0.0.2`` on loopback: the node sees it as another client address.
"""

from __future__ import annotations

import os
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from hotline.storage.db import Database
from hotline.storage.tables.core import tokens
from hotline.storage.tables.logins import login_failures
from hotline.testing import DatabaseFactory, NodeProcess, api, free_port, running, wait_for
from tests.security.conftest import tls_node

ALICE_PASSWORD = "her own long pass phrase"
BOB_PASSWORD = "keeps the night watch"
WORKSTATION = "127.0.0.1"  # alice's own
ATTACKER = "127.0.0.2"  # another machine


@dataclass
class OneNode:
    directory: Path
    db_url: str
    env: dict[str, str]

    def process(self, *, real_hashing: bool = False) -> NodeProcess:
        """A ``hotline serve`` process of the node, its two TLS listeners on free ports
        (several processes of the one node side by side)."""
        operator, federation = (f"127.0.0.1:{free_port()}" for _ in range(2))
        return NodeProcess(
            self.directory,
            f"https://{operator}",
            self.env,
            args=("--operator-listen", operator, "--federation-listen", federation),
            real_hashing=real_hashing,
            federation_url=f"https://{federation}",
        )

    def count(self, table: Any, *where: Any) -> int:
        db = Database(self.db_url)
        try:
            with db.read() as conn:
                return int(
                    conn.execute(select(func.count()).select_from(table).where(*where)).scalar()
                    or 0
                )
        finally:
            db.dispose()


@pytest.fixture
def one_node(tmp_path: Path, databases: DatabaseFactory) -> Iterator[OneNode]:
    db_url = databases.new("operators")
    node, _first = tls_node(tmp_path / "us", "us", {}, database_url=db_url)
    node.auth.add_user("alice", ALICE_PASSWORD)
    node.auth.add_user("bob", BOB_PASSWORD)
    node.db.dispose()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    env.update(
        HOTLINE_LOGIN_MAX_FAILURES="3",
        HOTLINE_LOGIN_SOURCE_MAX_FAILURES="20",
        HOTLINE_LOGIN_USER_MAX_FAILURES="1000",
        HOTLINE_LOGIN_LOCKOUT_S="600",
    )
    yield OneNode(tmp_path / "us", db_url, env)
    databases.release(db_url)


def _login(url: str, user: str, password: str, source: str) -> httpx.Response:
    with api(url, source=source) as client:
        return client.post("/api/v1/login", json={"user": user, "password": password})


def _guess(url: str, user: str, source: str, times: int) -> None:
    for _ in range(times):
        answer = _login(url, user, "not the password at all", source)
        assert 401 == answer.status_code, answer.text


def _assert_paused(answer: httpx.Response) -> None:
    assert 429 == answer.status_code, answer.text
    assert "too_many_attempts" == answer.json()["error"]["code"]
    assert 0 < int(answer.headers["Retry-After"]) <= 600
    assert "token" not in answer.json()


def test_an_attacker_guessing_alice_is_paused_while_alice_logs_in_from_her_workstation(
    one_node: OneNode,
) -> None:
    with running(one_node.process()) as (node,):
        _guess(node.url, "alice", ATTACKER, 3)
        paused = _login(node.url, "alice", ALICE_PASSWORD, ATTACKER)  # even the right one
        _assert_paused(paused)
        assert 0 == one_node.count(tokens, tokens.c.user == "alice")  # nothing was issued

        mine = _login(node.url, "alice", ALICE_PASSWORD, WORKSTATION)
        assert 200 == mine.status_code, mine.text
        assert "alice" == mine.json()["user"]
        with api(node.url, mine.json()["token"]) as client:
            assert 200 == client.get("/api/v1/status").status_code
        _assert_paused(_login(node.url, "alice", ALICE_PASSWORD, ATTACKER))  # still paused
        # the console counts the same: paused from there, open from her workstation
        form = {"user": "alice", "password": ALICE_PASSWORD}
        origin = {"Origin": node.url}
        with api(node.url, source=ATTACKER) as there, api(node.url, source=WORKSTATION) as here:
            console = there.post("/console/login", data=form, headers=origin)
            assert 429 == console.status_code and "Retry-After" in console.headers
            assert "hotline_session" not in console.cookies
            assert 303 == here.post("/console/login", data=form, headers=origin).status_code
        assert 2 == one_node.count(tokens, tokens.c.user == "alice")


def test_guesses_with_other_names_reset_nothing_and_enough_of_them_pause_the_source(
    one_node: OneNode,
) -> None:
    with running(one_node.process()) as (node,):
        _guess(node.url, "alice", ATTACKER, 2)
        for _ in range(10):  # other names, known or not: they clear nothing
            _guess(node.url, f"x{secrets.token_hex(4)}", ATTACKER, 1)
        _guess(node.url, "alice", ATTACKER, 1)  # alice's third from this address
        _assert_paused(_login(node.url, "alice", ALICE_PASSWORD, ATTACKER))
        # the address is paused for alice only, so far (13 failures of 20)
        assert 200 == _login(node.url, "bob", BOB_PASSWORD, ATTACKER).status_code
        # a right password for bob clears bob's failures there, not alice's
        _assert_paused(_login(node.url, "alice", ALICE_PASSWORD, ATTACKER))

        for _ in range(7):  # 20 failures from the address: paused for every name
            _guess(node.url, f"y{secrets.token_hex(4)}", ATTACKER, 1)
        _assert_paused(_login(node.url, "bob", BOB_PASSWORD, ATTACKER))
        _assert_paused(_login(node.url, "nobody", "whatever at all", ATTACKER))
        assert 200 == _login(node.url, "alice", ALICE_PASSWORD, WORKSTATION).status_code
        assert 200 == _login(node.url, "bob", BOB_PASSWORD, WORKSTATION).status_code
        assert 20 == one_node.count(login_failures, login_failures.c.source == ATTACKER)


def test_a_forwarded_for_header_does_not_change_the_counted_address(one_node: OneNode) -> None:
    """A client cannot pose as many addresses: no proxy header is trusted, not even from
    loopback (uvicorn trusts ``X-Forwarded-For`` from 127.0.0.1 unless told not to)."""
    with running(one_node.process()) as (node,), api(node.url, source=WORKSTATION) as client:
        for i in range(4):
            answer = client.post(
                "/api/v1/login",
                json={"user": "bob", "password": "not the password at all"},
                headers={"X-Forwarded-For": f"10.9.9.{i}", "Forwarded": f"for=10.8.8.{i}"},
            )
            assert (401 if i < 3 else 429) == answer.status_code, answer.text
    assert 3 == one_node.count(login_failures, login_failures.c.source == WORKSTATION)


def test_the_pause_is_shared_by_two_processes_and_kept_across_a_restart(
    one_node: OneNode,
) -> None:
    first, second = one_node.process(), one_node.process()
    with running(first, second):
        _guess(first.url, "alice", ATTACKER, 3)
        _assert_paused(_login(second.url, "alice", ALICE_PASSWORD, ATTACKER))
        assert 200 == _login(second.url, "alice", ALICE_PASSWORD, WORKSTATION).status_code
    with running(one_node.process()) as (again,):
        _assert_paused(_login(again.url, "alice", ALICE_PASSWORD, ATTACKER))
        assert 200 == _login(again.url, "alice", ALICE_PASSWORD, WORKSTATION).status_code


def _peak_rss_mb(pid: int) -> float:
    """The process's peak resident memory so far (VmHWM), MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM in /proc/PID/status")


def test_48_concurrent_logins_keep_memory_bounded_and_a_real_login_gets_through(
    one_node: OneNode, record_property: Callable[[str, object], None]
) -> None:
    # Real Argon2 parameters (64 MiB each): the flood that took 2.6 GB before. The
    # address limits are lifted so that every login of the flood reaches Argon2.
    one_node.env.update(
        HOTLINE_LOGIN_SOURCE_MAX_FAILURES="100000", HOTLINE_LOGIN_MAX_FAILURES="1000"
    )
    with running(one_node.process(real_hashing=True)) as (node,):
        assert node.process is not None
        # alice has logged in from her workstation before (as she does every watch)
        assert 200 == _login(node.url, "alice", ALICE_PASSWORD, WORKSTATION).status_code
        before = _peak_rss_mb(node.process.pid)
        answers: list[int] = []
        stop = threading.Event()

        def flood() -> None:
            with api(node.url, source=ATTACKER) as client:
                while not stop.is_set():
                    name = f"z{secrets.token_hex(6)}"
                    try:
                        got = client.post("/api/v1/login", json={"user": name, "password": "x"})
                        answers.append(got.status_code)
                    except httpx.HTTPError:
                        answers.append(0)

        threads = [threading.Thread(target=flood, daemon=True) for _ in range(48)]
        for thread in threads:
            thread.start()
        try:
            wait_for(lambda: len(answers) >= 48, "48 answers to the flood", timeout=120)

            def alice_in() -> bool:
                return _login(node.url, "alice", ALICE_PASSWORD, WORKSTATION).status_code == 200

            # a real login during the flood: retried on `busy`, within a generous deadline
            started = time.monotonic()
            wait_for(alice_in, "alice to log in during the flood", timeout=120, every=0.5)
            record_property("real_login_during_flood_s", round(time.monotonic() - started, 2))
            # the node keeps answering: /health within 5 s on this loaded 2-core machine
            # (the target is 1 s; the figure is recorded, the bound only for liveness)
            with api(node.url, source=WORKSTATION) as client:
                started = time.monotonic()
                assert 200 == client.get("/health", timeout=5).status_code
                record_property("health_during_flood_s", round(time.monotonic() - started, 3))
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=120)
        peak = _peak_rss_mb(node.process.pid)
    record_property("peak_rss_mib_before", round(before))
    record_property("peak_rss_mib_after", round(peak))
    record_property("answers", {code: answers.count(code) for code in set(answers)})
    assert set(answers) <= {401, 503}, set(answers)
    assert 503 in answers  # the bound was met: excess logins were told `busy`
    # at most 2 + 1 Argon2 checks at once (64 MiB each), where 48 took 2.6 GB before
    assert peak - before < 600, (before, peak)
