"""`hotline link test`, `link report`, `alarms`, `clear-alarm` and the deadline column of
`inbox`/`outbox`, against two real node servers sharing a controllable clock."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from hotline.cli.line import time_left
from hotline.cli.main import app
from hotline.clock import FakeClock
from tests.conftest import Pair

runner = CliRunner()
PASSWORD = "long watch password"


@dataclass
class Cli:
    """The ``hotline`` command pointed at one node of a pair, as operator duty1."""

    pair: Pair

    def run(self, *args: str, party: str = "us") -> Result:
        node = self.pair.node(party)
        # A terminal wide enough for every column (Rich narrows them to fit 80).
        env = {"HOTLINE_USER": "duty1", "HOTLINE_PASSWORD": PASSWORD, "COLUMNS": "200"}
        return runner.invoke(app, [*args, "--dir", str(node.settings.directory)], env=env)

    def ok(self, *args: str, party: str = "us") -> str:
        result = self.run(*args, party=party)
        assert 0 == result.exit_code, result.output
        return result.output


@pytest.fixture
def cli(pair: Pair) -> Cli:
    for node in (pair.us, pair.ru):
        node.auth.add_user("duty1", PASSWORD)
    return Cli(pair)


def fail_pending_test(pair: Pair, clock: FakeClock) -> None:
    """The peer never answers: two minutes pass and the scheduler fails the test."""
    clock.advance(120)
    pair.us.links.tick()


def answer_test(pair: Pair, clock: FakeClock) -> None:
    """The peer answers after a quarter of a second."""
    pair.deliver("us", "ru")
    clock.advance(0.25)
    pair.deliver("ru", "us")


@contextlib.contextmanager
def meanwhile(
    pair: Pair, step: Callable[[Pair, FakeClock], None], clock: FakeClock
) -> Iterator[None]:
    """While the CLI waits for a test's result, play ``step`` as soon as the test is queued
    (in a thread: `link test` blocks until the result is in or its wait runs out)."""
    failures: list[BaseException] = []
    stop = threading.Event()

    def play() -> None:
        try:
            while not stop.wait(0.02):
                queued = [m for m in pair.us.line.listing("out") if m["type"] == "link_test"]
                if queued:
                    step(pair, clock)
                    return
        except BaseException as exc:  # handed to the test below
            failures.append(exc)

    thread = threading.Thread(target=play)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
    if failures:
        raise failures[0]


def test_link_test_prints_the_result_and_round_trip(cli: Cli, clock: FakeClock) -> None:
    with meanwhile(cli.pair, answer_test, clock):
        output = cli.ok("link", "test")
    assert "ru: passed  round trip 250 ms" == output.strip()


def test_link_test_as_json(cli: Cli, clock: FakeClock) -> None:
    with meanwhile(cli.pair, answer_test, clock):
        [test] = json.loads(cli.ok("link", "test", "--peer", "ru", "--json"))
    assert ("ru", "passed", 250) == (test["peer"], test["state"], test["rtt_ms"])


def test_link_test_exits_1_when_the_peer_does_not_answer(cli: Cli, clock: FakeClock) -> None:
    with meanwhile(cli.pair, fail_pending_test, clock):
        result = cli.run("link", "test", "--peer", "ru")
    assert (1, "ru: failed  round trip -  no answer within 120 s") == (
        result.exit_code,
        result.output.strip(),
    )


@pytest.fixture
def history(cli: Cli, clock: FakeClock) -> Cli:
    """One passed test (250 ms), then one missed for 5 minutes and answered late."""
    pair = cli.pair
    pair.us.links.send_test("ru")
    answer_test(pair, clock)
    clock.advance(3600)
    pair.us.links.send_test("ru")
    fail_pending_test(pair, clock)
    clock.advance(180)
    pair.flush()  # the late answer: the outage lasted 300 s
    return cli


def test_link_report_as_json(history: Cli) -> None:
    [row] = json.loads(history.ok("link", "report", "--peer", "ru", "--json"))
    assert {
        "peer": "ru",
        "sent": 2,
        "passed": 1,
        "failed": 1,
        # time up over time observed: 300 s down (test 2 reached ru 300 s late) in the
        # 3900 s from test 1 to now; half the tests passed
        "availability_pct": 92.31,
        "tests_passed_pct": 50.0,
        "rtt_ms": {"p50": 250, "p95": 250, "max": 250},
        "longest_outage_s": 300,
        "state": "up",
    } == {key: row[key] for key in ("peer", "sent", "passed", "failed", "availability_pct",
                                    "tests_passed_pct", "rtt_ms", "longest_outage_s",
                                    "state")}  # fmt: skip


def test_link_report_as_a_table(history: Cli) -> None:
    output = history.ok("link", "report")
    row = next(line for line in output.splitlines() if line.startswith("│ ru"))
    assert ["ru", "up", "2", "1", "92.31% (300 s down)", "250/250/250", "300 s", ""] == [
        cell.strip() for cell in row.strip("│").split("│")
    ]


def test_link_report_state_does_not_depend_on_the_window(history: Cli) -> None:
    [row] = json.loads(history.ok("link", "report", "--since", "0d", "--json"))
    assert (0, "up") == (row["sent"], row["state"])


@pytest.fixture
def alarm(cli: Cli, clock: FakeClock) -> dict[str, Any]:
    """A link_down alarm, raised by a missed test."""
    cli.pair.us.links.send_test("ru")
    fail_pending_test(cli.pair, clock)
    [raised] = cli.pair.us.alarms.listing()
    return raised


def test_alarms_lists_them_as_json_and_as_a_table(cli: Cli, alarm: dict[str, Any]) -> None:
    [listed] = json.loads(cli.ok("alarms", "--json"))
    assert (alarm["id"], "link_down", "ru", "open") == (
        listed["id"],
        listed["kind"],
        listed["subject"],
        listed["state"],
    )
    row = next(line for line in cli.ok("alarms").splitlines() if "link_down" in line)
    assert [str(alarm["id"]), "link_down", "ru", alarm["raised_at"], "open", ""] == [
        cell.strip() for cell in row.strip("│").split("│")
    ]


def test_clear_alarm_needs_a_reason_and_clears_once(
    cli: Cli, alarm: dict[str, Any], clock: FakeClock
) -> None:
    alarm_id = str(alarm["id"])
    missing = cli.run("clear-alarm", alarm_id)
    assert (2, True) == (missing.exit_code, "Missing option '--reason'" in missing.output)
    empty = cli.run("clear-alarm", alarm_id, "--reason", " ")
    assert (1, "open") == (empty.exit_code, cli.pair.us.alarms.listing()[0]["state"])
    assert "reason: say why the alarm is cleared" in empty.output
    clock.advance(30)
    output = cli.ok("clear-alarm", alarm_id, "--reason", "peer announced maintenance")
    assert f"alarm {alarm_id} cleared by duty1 after 30 s" == output.strip()
    again = cli.run("clear-alarm", alarm_id, "--reason", "again")
    assert (1, True) == (again.exit_code, "already cleared by duty1" in again.output)
    [cleared] = json.loads(cli.ok("alarms", "--state", "cleared", "--json"))
    assert ("duty1", "peer announced maintenance") == (
        cleared["cleared_by"],
        cleared["clear_reason"],
    )


@pytest.mark.parametrize(
    ("left_s", "acked", "shown"),
    [
        (581, False, "9m left"),
        (3 * 3600 + 5 * 60, False, "3h05m left"),
        (42, False, "42s left"),
        (-185, False, "overdue 3m"),
        (-185, True, ""),
    ],
)
def test_the_deadline_column_says_how_long_is_left(left_s: int, acked: bool, shown: str) -> None:
    now = datetime(2026, 11, 21, 14, 30, tzinfo=UTC)
    deadline = (now + timedelta(seconds=left_s)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    acked_at = "2026-11-21T14:00:00.000Z" if acked else None
    assert shown == time_left(deadline, acked_at, now)
    assert "" == time_left(None, None, now)  # a message nobody acknowledges


def test_inbox_and_outbox_show_the_deadline(cli: Cli, clock: FakeClock) -> None:
    # The tables count against the terminal's clock: send 13 minutes ago, a FLASH has 10.
    clock.set(datetime.now(UTC) - timedelta(minutes=13))
    sent = cli.pair.us.line.send(to="ru", text="Missile impact", precedence="FLASH", user="o")
    cli.pair.flush()
    for command, party in (("outbox", "us"), ("inbox", "ru")):
        output = cli.ok(command, party=party)
        header = next(line for line in output.splitlines() if "precedence" in line)
        row = next(line for line in output.splitlines() if sent["id"][:8] in line)
        cells = dict(zip(
            [c.strip() for c in header.strip("┃").split("┃")],
            [c.strip() for c in row.strip("│").split("│")],
            strict=True,
        ))  # fmt: skip
        assert ("FLASH", "overdue 3m") == (cells["precedence"], cells["deadline"]), command
