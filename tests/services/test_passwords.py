"""The password policy, and password guessing slowed at its source (``Auth.login``), in
process with the fake clock; ``tests/security/test_operators.py`` attacks real processes."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from datetime import timedelta

import pytest

from hotline.clock import FakeClock
from hotline.errors import AuthError, Busy, LoginPaused, ValidationError
from hotline.services import auth
from hotline.storage import logins
from tests.conftest import MakeNode

PASSWORD = "correct horse battery"
HOME, ELSEWHERE = "10.0.0.1", "10.0.0.66"


@pytest.mark.parametrize(
    ("password", "says"),
    [
        ("password", "at least 12 characters"),
        ("short one", "at least 12 characters"),
        ("password1234", "most common passwords"),
        ("qwertyuiop12", "most common passwords"),
        ("!!Password2024!!", "most common passwords"),
        ("iloveyou12345", "most common passwords"),
        ("duty officer on watch", "contains the user name"),
        ("aaaaaaaaaaaa", "too easy to guess"),
        ("123456789012", "too easy to guess"),
        ("qwertyuiopas", "too easy to guess"),
        ("letmeinletmein", "too easy to guess"),
    ],
)
def test_a_weak_password_is_refused_saying_why(
    make_node: MakeNode, password: str, says: str
) -> None:
    node = make_node("us")
    with pytest.raises(ValidationError) as refused:
        node.auth.add_user("officer", password)
    assert says in refused.value.message
    assert [] == node.auth.users()  # nothing stored
    node.auth.add_user("duty", PASSWORD)
    with pytest.raises(ValidationError) as again:
        node.auth.set_password("duty", password)
    assert says in again.value.message
    node.auth.login("duty", PASSWORD)  # the old password still works


def test_a_good_password_is_taken(make_node: MakeNode) -> None:
    node = make_node("us")
    node.auth.add_user("duty", "seven brass kettles at dawn")
    assert node.auth.login("duty", "seven brass kettles at dawn")[0]


def test_a_source_is_paused_for_a_name_and_the_pause_ends_with_the_window(
    make_node: MakeNode, clock: FakeClock
) -> None:
    node = make_node("us", login_max_failures=3, login_lockout_s=300)
    node.auth.add_user("alice", PASSWORD)
    for _ in range(3):
        with pytest.raises(AuthError):
            node.auth.login("alice", "wrong password here", source=ELSEWHERE)
    with pytest.raises(LoginPaused) as paused:
        node.auth.login("alice", PASSWORD, source=ELSEWHERE)
    assert 300 == paused.value.retry_after_s
    assert {"Retry-After": "300"} == paused.value.headers()
    assert node.auth.login("alice", PASSWORD, source=HOME)[0]  # alice, from her own

    clock.advance(timedelta(seconds=200))
    with pytest.raises(LoginPaused) as still:
        node.auth.login("alice", PASSWORD, source=ELSEWHERE)
    assert 100 == still.value.retry_after_s
    clock.advance(timedelta(seconds=101))
    assert node.auth.login("alice", PASSWORD, source=ELSEWHERE)[0]


def test_a_name_under_attack_from_many_addresses_gets_one_guess_per_new_address(
    make_node: MakeNode,
) -> None:
    node = make_node("us", login_max_failures=5, login_user_max_failures=10)
    node.auth.add_user("alice", PASSWORD)
    node.auth.login("alice", PASSWORD, source=HOME)  # her workstation is known
    for i in range(10):  # ten addresses, one guess each
        with pytest.raises(AuthError):
            node.auth.login("alice", "wrong password here", source=f"10.1.0.{i}")
    with pytest.raises(AuthError):  # a new address: its one wrong guess …
        node.auth.login("alice", "wrong password here", source="10.2.0.1")
    with pytest.raises(LoginPaused):  # … and no second
        node.auth.login("alice", PASSWORD, source="10.2.0.1")
    for _ in range(4):  # her own workstation keeps its allowance of typing errors
        with pytest.raises(AuthError):
            node.auth.login("alice", "a typing error", source=HOME)
    assert node.auth.login("alice", PASSWORD, source=HOME)[0]


def test_old_failures_are_deleted(make_node: MakeNode, clock: FakeClock) -> None:
    node = make_node("us", login_lockout_s=60)
    for i in range(5):
        with pytest.raises(AuthError):
            node.auth.login(f"nobody{i}", "wrong password here", source=ELSEWHERE)
    clock.advance(timedelta(seconds=61))
    with pytest.raises(AuthError):
        node.auth.login("nobody", "wrong password here", source=ELSEWHERE)
    with node.db.read() as conn:
        assert 1 == logins.count_failures(conn)


def test_password_checks_are_bounded_and_the_excess_told_busy(
    make_node: MakeNode, monkeypatch: pytest.MonkeyPatch
) -> None:
    node = make_node("us", login_concurrency=1, login_busy_wait_s=0.2)
    node.auth.add_user("alice", PASSWORD)
    inside, release = threading.Event(), threading.Event()
    real = auth._hasher

    class Slow:
        def verify(self, hash_: str, password: str) -> bool:
            inside.set()
            release.wait(timeout=60)
            return bool(real.verify(hash_, password))

        def check_needs_rehash(self, hash_: str) -> bool:
            return False

    monkeypatch.setattr(auth, "_hasher", Slow())
    first = threading.Thread(target=node.auth.login, args=("alice", PASSWORD))
    first.start()
    try:
        assert inside.wait(timeout=60)
        with pytest.raises(Busy) as busy:
            node.auth.login("alice", PASSWORD, source=ELSEWHERE)
        assert (503, "busy", {"Retry-After": "1"}) == (
            busy.value.http_status,
            busy.value.code,
            busy.value.headers(),
        )
    finally:
        release.set()
        first.join(timeout=60)
    with node.db.read() as conn:
        assert 0 == logins.count_failures(conn)  # `busy` is not a wrong password


def test_a_login_from_a_known_address_has_a_check_kept_for_it(
    make_node: MakeNode, monkeypatch: pytest.MonkeyPatch
) -> None:
    node = make_node("us", login_concurrency=1, login_busy_wait_s=0.2)
    node.auth.add_user("alice", PASSWORD)
    node.auth.login("alice", PASSWORD, source=HOME)  # her workstation, from now on known
    inside, release = threading.Event(), threading.Event()
    real = auth._hasher

    class Slow:
        def verify(self, hash_: str, password: str) -> bool:
            if password == "the flood":
                inside.set()
                release.wait(timeout=60)
            return bool(real.verify(hash_, password))

        def check_needs_rehash(self, hash_: str) -> bool:
            return False

    monkeypatch.setattr(auth, "_hasher", Slow())
    flood = threading.Thread(target=_quietly, args=(node.auth.login, "bob", "the flood"))
    flood.start()
    try:
        assert inside.wait(timeout=60)  # the one general check is taken
        with pytest.raises(Busy):
            node.auth.login("alice", PASSWORD, source=ELSEWHERE)
        assert node.auth.login("alice", PASSWORD, source=HOME)[0]
    finally:
        release.set()
        flood.join(timeout=60)


def _quietly(login: Callable[..., object], *args: str) -> None:
    with contextlib.suppress(AuthError):
        login(*args, source=ELSEWHERE)


def test_the_dummy_hash_is_made_on_first_use_not_at_import() -> None:
    import importlib
    import subprocess
    import sys

    code = "import hotline.services.auth as a; print(a._DUMMY_HASH)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert "None" == out.stdout.strip(), out.stderr
    assert importlib.import_module("hotline.services.auth")._dummy_hash()


def test_the_cli_refuses_a_common_password_saying_why(make_node: MakeNode) -> None:
    from typer.testing import CliRunner

    from hotline.cli.main import app

    node = make_node("us")
    where = str(node.settings.directory)
    runner = CliRunner()
    added = runner.invoke(
        app, ["user", "add", "duty", "--dir", where, "--password-stdin"], input="password1234\n"
    )
    assert 1 == added.exit_code and "most common passwords" in added.output
    assert [] == node.auth.users()
    node.auth.add_user("duty", PASSWORD)
    changed = runner.invoke(
        app, ["user", "password", "duty", "--dir", where, "--password-stdin"], input="password\n"
    )
    assert 1 == changed.exit_code and "at least 12 characters" in changed.output
    node.auth.login("duty", PASSWORD)


def test_logins_are_recorded_in_the_security_log_without_the_password(
    make_node: MakeNode, monkeypatch: pytest.MonkeyPatch
) -> None:
    node = make_node("us", login_max_failures=1)
    node.auth.add_user("alice", PASSWORD)
    events: list[tuple[str, dict[str, object]]] = []
    monkeypatch.setattr(auth.seclog, "event", lambda name, **facts: events.append((name, facts)))

    with pytest.raises(AuthError):
        node.auth.login("alice", "wrong password here", source=ELSEWHERE)
    with pytest.raises(LoginPaused):
        node.auth.login("alice", PASSWORD, source=ELSEWHERE)
    with pytest.raises(AuthError):  # a password typed in the name box is not logged
        node.auth.login("my secret words", "x", source=HOME)
    token, _ = node.auth.login("alice", PASSWORD, source=HOME)
    node.auth.logout(token, source=HOME)

    assert [
        ("login_failed", "alice", ELSEWHERE),
        ("login_paused", "alice", ELSEWHERE),
        ("login_failed", auth.UNKNOWN, HOME),
        ("login_ok", "alice", HOME),
        ("logout", "alice", HOME),
    ] == [(name, facts["user"], facts["source"]) for name, facts in events]
    assert "too_many_attempts" == events[1][1]["code"]
    written = repr(events)
    assert PASSWORD not in written and "wrong password" not in written
    assert "my secret words" not in written


@pytest.mark.parametrize(
    ("host", "counted"),
    [
        ("10.0.0.1", "10.0.0.1"),
        ("::ffff:10.0.0.1", "10.0.0.1"),
        ("2001:db8:1:2::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff:ffff:ffff:fffe", "2001:db8:1:2::/64"),
        ("local", "local"),
    ],
)
def test_guesses_from_one_ipv6_host_count_as_one_source(host: str, counted: str) -> None:
    """One host commonly holds a whole /64: its 2^64 addresses are one source."""
    assert counted == auth.source_address(host)


def test_a_64_paused_for_a_name_whichever_of_its_addresses_guesses(make_node: MakeNode) -> None:
    node = make_node("us", login_max_failures=3)
    node.auth.add_user("alice", PASSWORD)
    for last in range(1, 4):
        with pytest.raises(AuthError):
            node.auth.login("alice", "wrong guess", source=f"2001:db8::{last}")
    with pytest.raises(LoginPaused):
        node.auth.login("alice", PASSWORD, source="2001:db8::ffff")
    node.auth.login("alice", PASSWORD, source="2001:db8:0:1::1")  # another /64: not paused


def test_guesses_sent_at_once_are_checked_no_more_than_the_pause_and_the_slots_allow(
    make_node: MakeNode,
) -> None:
    """All pass the pause before any has failed; the pause is checked again once a slot
    is held, so at most max_failures + login_concurrency - 1 passwords are checked."""
    node = make_node("us", login_max_failures=5, login_concurrency=2, login_busy_wait_s=60)
    node.auth.add_user("alice", PASSWORD)
    outcomes: list[str] = []
    start = threading.Barrier(40)

    def guess() -> None:
        start.wait(timeout=60)
        try:
            node.auth.login("alice", "a wrong guess", source=ELSEWHERE)
        except LoginPaused:
            outcomes.append("paused")
        except AuthError:
            outcomes.append("checked")

    threads = [threading.Thread(target=guess) for _ in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert 40 == len(outcomes)
    assert outcomes.count("checked") <= 5 + 2 - 1
