"""`hotline outbox` saying "queued, retrying since …", and `hotline link operator-test`,
`link operator-tests` and `link answer`, against two real node servers and a fake clock."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx

from hotline.clock import FakeClock
from hotline.services.line.delivery import Courier
from tests.cli.test_links import Cli, cli  # noqa: F401 - the fixture, shared

T0 = datetime(2026, 11, 21, 17, 59, 40, tzinfo=UTC)


def refused(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("connection refused", request=request)


def test_outbox_says_queued_retrying_since_the_first_failure(
    cli: Cli,  # noqa: F811
    clock: FakeClock,
) -> None:
    clock.set(T0)
    cli.pair.us.line.send(to="ru", text="held up", user="duty1")
    with httpx.Client(transport=httpx.MockTransport(refused)) as dead:
        Courier(cli.pair.us.line, "ru", dead).deliver_once()
    row = next(line for line in cli.ok("outbox").splitlines() if "held up" in line)
    assert "queued, retrying since 2026-11-21T17:59:40.000Z" in row
    assert "ConnectError" in row  # the last error, cut to fit the column
    [shown] = json.loads(cli.ok("outbox", "--json"))
    assert ("sent", "retrying", "2026-11-21T17:59:40.000Z") == (
        shown["state"],
        shown["delivery"],
        shown["retrying_since"],
    )
    cli.pair.flush()
    [shown] = json.loads(cli.ok("outbox", "--json"))
    assert ("delivered", "receipted", None) == (
        shown["state"],
        shown["delivery"],
        shown["retrying_since"],
    )


def test_an_officer_answers_an_operator_test_from_the_command_line(
    cli: Cli,  # noqa: F811
    clock: FakeClock,
) -> None:
    clock.set(T0)
    sent = json.loads(cli.ok("link", "operator-test", "--peer", "ru", "--json"))
    assert ("out", "pending", "2026-11-21T18:09:40.000Z") == (
        sent["direction"],
        sent["state"],
        sent["answer_by"],
    )
    cli.pair.flush()
    table = cli.ok("link", "operator-tests", "--direction", "in", party="ru")
    assert sent["id"] in table and "pending" in table
    answered = cli.ok("link", "answer", sent["id"], party="ru")
    assert f"operator test {sent['id']} from us answered by duty1\n" == answered
    cli.pair.flush()
    [ours] = json.loads(cli.ok("link", "operator-tests", "--json"))
    assert ("answered", "duty1") == (ours["state"], ours["answered_by"])
    again = cli.run("link", "answer", sent["id"], party="ru")
    assert 1 == again.exit_code and "answered by duty1" in again.output
