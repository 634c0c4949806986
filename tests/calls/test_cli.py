"""``hotline principal``, ``calls``, ``readout`` and ``watch`` against a running node."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from typer.testing import CliRunner

from hotline.cli import app
from hotline.clock import FakeClock, rfc3339
from tests.calls.conftest import OFFICER, PASSWORD
from tests.conftest import Pair

runner = CliRunner()


def hotline(pair: Pair, user: str, *args: str, code: int = 0) -> str:
    """Run ``hotline ARGS --dir US_DIR`` as ``user`` (logged in by :func:`login`)."""
    env = {"HOTLINE_USER": user, "HOTLINE_PASSWORD": ""}
    directory = str(pair.us.settings.directory)
    result = runner.invoke(app, [*args, "--dir", directory], env=env)
    assert code == result.exit_code, result.output
    return result.output


def login(pair: Pair, user: str) -> None:
    """``hotline login``: one password check; later commands use the saved token."""
    env = {"HOTLINE_USER": user, "HOTLINE_PASSWORD": PASSWORD}
    result = runner.invoke(app, ["login", "--dir", str(pair.us.settings.directory)], env=env)
    assert 0 == result.exit_code, result.output


def as_json(pair: Pair, user: str, *args: str) -> Any:
    return json.loads(hotline(pair, user, *args, "--json"))


def test_principals_calls_history_readouts_and_watch_from_the_command_line(
    calls_pair: Pair, clock: FakeClock
) -> None:
    pair = calls_pair
    pair.us.auth.add_user("duty", PASSWORD, ["officer"])
    pair.us.auth.add_user("alpha", PASSWORD, ["commander"])
    pair.us.auth.add_user("bravo", PASSWORD, ["commander"])

    login(pair, "duty")
    principals = as_json(pair, "duty", "principal", "list")
    assert (["cjcs", "secdef"], ["cgs", "minister"]) == (
        [p["id"] for p in principals["ours"]],
        [p["id"] for p in principals["peers"]["ru"]],
    )

    start = rfc3339(clock.now() + timedelta(hours=4))
    made = as_json(
        pair, "duty", "calls", "request", "--to", "ru", "--principal", "cjcs",
        "--counterpart", "cgs", "--topic", "Risk reduction", "--slot", f"{start}/60",
        "--answer-by", rfc3339(clock.now() + timedelta(hours=2)),
    )  # fmt: skip
    assert "ЗАПРОС НА ТЕЛЕФОННЫЙ РАЗГОВОР" in made["rendering"]["ru"]
    pair.flush()
    pair.ru.calls.requests.answer(
        made["id"], answer="accept", slot={"start": start, "minutes": 60}, user=OFFICER
    )
    pair.flush()
    clock.advance(timedelta(hours=6))
    hotline(
        pair, "duty", "calls", "record", made["id"], "--held-at", start, "--minutes", "60",
        "--participant", "us:Gen. Mark Milley", "--participant", "ru:Gen. Valery Gerasimov",
    )  # fmt: skip
    hotline(
        pair, "duty", "readout", "write", made["id"], "--title", "Readout",
        "--text", "Both sides discussed risk reduction.", "--visibility", "public",
    )  # fmt: skip
    pair.flush()

    history = as_json(pair, "duty", "calls", "history", "--peer", "ru", "--principal", "cjcs",
                      "--counterpart", "cgs")  # fmt: skip
    assert (0, ["requested", "accepted", "held"]) == (
        history["days_since_last_contact"],
        [e["kind"] for e in history["timeline"]],
    )
    printed = hotline(pair, "duty", "calls", "history", "--peer", "ru", "--principal", "cjcs",
                      "--counterpart", "cgs")  # fmt: skip
    assert "0 days ago" in printed
    exported = hotline(pair, "duty", "readout", "export", made["id"], "--lang", "ru")
    assert "Both sides discussed risk reduction." in exported

    login(pair, "alpha")
    hotline(pair, "alpha", "watch", "propose", "possible-crisis", "--reason", "Buildup")
    refused = hotline(pair, "alpha", "watch", "approve", "1", code=1)
    assert "cannot approve it" in refused
    assert "normal" == as_json(pair, "alpha", "watch", "show")["current"]["level"]["id"]
    login(pair, "bravo")
    hotline(pair, "bravo", "watch", "approve", "1")
    assert "possible-crisis" == as_json(pair, "bravo", "watch", "show")["current"]["level"]["id"]
