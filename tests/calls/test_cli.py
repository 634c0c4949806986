"""``hotline principal``, ``calls``, ``readout`` and ``watch`` against a running node."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from hotline.cli.main import app
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


MARKUP = "See annex [/b] for detail; [bold]as written[/bold]"


def accepted_by_ru(pair: Pair, clock: FakeClock, *topics: str) -> dict[str, Any]:
    """``hotline calls request`` with ``topics`` (as the CLI prints it), accepted by ru."""
    start = rfc3339(clock.now() + timedelta(hours=4))
    args = [f"--topic={topic}" for topic in topics]
    printed = hotline(
        pair, "duty", "calls", "request", "--to", "ru", "--principal", "cjcs",
        "--counterpart", "cgs", *args, "--slot", f"{start}/60",
        "--answer-by", rfc3339(clock.now() + timedelta(hours=2)), "--precedence", "priority",
    )  # fmt: skip
    made = pair.us.calls.requests.listing()[0]
    pair.flush()
    pair.ru.calls.requests.answer(
        made["id"], answer="accept", slot={"start": start, "minutes": 60}, user=OFFICER
    )
    pair.flush()
    return {**made, "printed": printed, "start": start}


def test_peoples_text_is_printed_as_written_never_as_markup(
    calls_pair: Pair, clock: FakeClock
) -> None:
    pair = calls_pair
    pair.us.auth.add_user("duty", PASSWORD, ["officer"])
    login(pair, "duty")
    made = accepted_by_ru(pair, clock, "Annex [/a] review", "[bold]x[/bold]")
    assert "TOPICS: Annex [/a] review; [bold]x[/bold]" in made["printed"]
    assert "PRECEDENCE: PRIORITY" in made["printed"]
    listed = hotline(pair, "duty", "calls", "list")
    assert made["id"] in listed  # whole, in 80 columns: it is copied into the next command
    assert "[/a]" in listed  # the topic, folded into its column but as written

    clock.advance(timedelta(hours=6))
    hotline(
        pair, "duty", "calls", "record", made["id"], "--held-at", made["start"],
        "--minutes", "60", "--participant", "us:Gen. [i]Mark[/i] Milley",
        "--participant", "ru:Gen. Valery Gerasimov",
    )  # fmt: skip
    pair.flush()
    hotline(
        pair, "duty", "readout", "write", made["id"], "--title", "[bold]Ours[/bold]",
        "--text", MARKUP, "--visibility", "shared",
    )  # fmt: skip
    pair.ru.calls.records.write_readout(
        made["id"], title="Theirs [/x]", text=MARKUP, visibility="shared", user=OFFICER
    )
    pair.flush()
    shown = hotline(pair, "duty", "readout", "show", made["id"], "--visibility", "shared")
    flat = " ".join(shown.replace("│", " ").split())
    assert "[bold]Ours[/bold] [shared, sent]" in flat
    assert "Theirs [/x] [shared, received]" in flat
    # each side's text, as written (the two columns' wrapped lines interleave)
    assert [2, 2, 2] == [flat.count(part) for part in ("[/b]", "[bold]as", "written[/bold]")]


def test_a_second_commander_rejects_a_held_readout_from_the_command_line(
    calls_pair: Pair, clock: FakeClock
) -> None:
    pair = calls_pair
    for name, role in (("duty", "officer"), ("alpha", "commander"), ("bravo", "commander")):
        pair.us.auth.add_user(name, PASSWORD, [role])
    login(pair, "duty")
    made = accepted_by_ru(pair, clock, "Deconfliction")
    clock.advance(timedelta(hours=6))
    hotline(
        pair, "duty", "calls", "record", made["id"], "--held-at", made["start"],
        "--minutes", "60", "--participant", "us:A", "--participant", "ru:B", "--private",
    )  # fmt: skip
    login(pair, "alpha")
    written = hotline(
        pair, "alpha", "readout", "write", made["id"], "--title", "Readout",
        "--text", "Too much detail.", "--visibility", "public",
    )  # fmt: skip
    readout_id = written.split()[1].rstrip(":")
    refused = hotline(pair, "alpha", "readout", "reject", readout_id, "--reason", "x", code=1)
    assert "cannot also decide on it" in refused
    login(pair, "bravo")
    done = hotline(pair, "bravo", "readout", "reject", readout_id, "--reason", "Names [/b] aides")
    assert f"readout {readout_id}: rejected, now internal, kept" in done
    shown = pair.us.calls.records.readouts(made["id"])["sides"]["us"][0]
    assert [("bravo", "Names [/b] aides")] == [(r["by"], r["reason"]) for r in shown["rejections"]]


def test_history_without_named_principals_shows_every_pair(
    calls_pair: Pair, clock: FakeClock
) -> None:
    pair = calls_pair
    pair.us.auth.add_user("duty", PASSWORD, ["officer"])
    login(pair, "duty")
    made = accepted_by_ru(pair, clock, "Deconfliction")
    pair.us.calls.requests.request(
        to="ru",
        principal="secdef",
        counterpart="minister",
        topics=["Talks"],
        slots=[{"start": made["start"], "minutes": 30}],
        answer_by=rfc3339(clock.now() + timedelta(hours=1)),
        user=OFFICER,
    )
    pairs = as_json(pair, "duty", "calls", "history", "--peer", "ru")
    assert [("cjcs", "cgs", 1), ("secdef", "minister", 1)] == sorted(
        (h["principal"], h["counterpart"], h["requests"]) for h in pairs
    )
    printed = hotline(pair, "duty", "calls", "history")
    assert "cjcs ↔ ru:cgs" in printed and "secdef ↔ ru:minister" in printed
    vague = hotline(pair, "duty", "calls", "history", "--peer", "ru", "--principal", "cjcs", code=1)
    assert "name the counterpart: ru has 2 principals" in vague
    assert "leave both out for every pair" in vague


def test_an_error_quoting_the_input_prints_it_as_written(calls_pair: Pair) -> None:
    pair = calls_pair
    pair.us.auth.add_user("duty", PASSWORD, ["officer"])
    login(pair, "duty")
    printed = hotline(
        pair, "duty", "calls", "history", "--peer", "ru", "--principal", "[/x]",
        "--counterpart", "cgs", code=1,
    )  # fmt: skip
    assert "error: us has no principal '[/x]' (known: cjcs, secdef)" in printed


def test_a_flash_call_request_from_the_command_line_is_held_for_a_second_person(
    calls_pair: Pair, clock: FakeClock
) -> None:
    pair = calls_pair
    pair.us.auth.add_user("duty", PASSWORD, ["officer"])
    pair.us.auth.add_user("relief", PASSWORD, ["officer"])
    login(pair, "duty")
    start = rfc3339(clock.now() + timedelta(hours=4))
    printed = " ".join(hotline(
        pair, "duty", "calls", "request", "--to", "ru", "--principal", "cjcs",
        "--counterpart", "cgs", "--topic", "Launch notification", "--slot", f"{start}/60",
        "--answer-by", rfc3339(clock.now() + timedelta(hours=2)), "--precedence", "flash",
    ).split())  # fmt: skip
    [held] = pair.us.held.listing()
    assert f"FLASH call request held {held['id']} to ru" in printed
    assert f"hotline held approve {held['id']}" in printed
    assert [] == pair.us.calls.requests.listing()

    login(pair, "relief")
    wide = {"HOTLINE_USER": "relief", "HOTLINE_PASSWORD": "", "COLUMNS": "200"}
    directory = str(pair.us.settings.directory)
    listed = runner.invoke(app, ["held", "list", "--dir", directory], env=wide)
    assert "call request cjcs → ru:cgs: Launch notification" in listed.output
    approved = hotline(pair, "relief", "held", "approve", held["id"])
    [made] = pair.us.calls.requests.listing()
    assert f"sent as message {made['message_id']}" in approved
    assert ("duty", "FLASH") == (made["created_by"], made["precedence"])


def test_calls_and_readouts_take_the_short_ids(
    calls_pair: Pair, clock: FakeClock, tmp_path: Path
) -> None:
    pair = calls_pair
    for name, role in (("duty", "officer"), ("alpha", "commander"), ("bravo", "commander")):
        pair.us.auth.add_user(name, PASSWORD, [role])
    login(pair, "duty")
    made = accepted_by_ru(pair, clock, "Deconfliction")
    short = made["id"][:8]
    assert f"request {made['id']}: accepted" in hotline(pair, "duty", "calls", "show", short)
    clock.advance(timedelta(hours=6))
    hotline(
        pair, "duty", "calls", "record", short, "--held-at", made["start"],
        "--minutes", "60", "--participant", "us:A", "--participant", "ru:B", "--private",
    )  # fmt: skip
    login(pair, "alpha")
    written = hotline(
        pair, "alpha", "readout", "write", short, "--title", "Readout",
        "--text", "Both sides spoke.", "--visibility", "public",
    )  # fmt: skip
    readout_id = written.split()[1].rstrip(":")
    login(pair, "bravo")
    approved = hotline(pair, "bravo", "readout", "approve", readout_id[:8])
    assert f"readout {readout_id}: " in approved and "approved by bravo" in approved
    too_short = hotline(pair, "bravo", "calls", "show", made["id"][:4], code=1)
    assert "not a call request id" in too_short and "at least its first 6" in too_short
    nowhere = tmp_path / "no such folder" / "readouts.md"
    refused = hotline(pair, "bravo", "readout", "export", short, "--out", str(nowhere), code=1)
    assert f"cannot write readouts file {nowhere}" in " ".join(refused.split())


def test_a_readout_file_that_cannot_be_read_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "readout.md"
    result = runner.invoke(
        app,
        ["readout", "write", "3f2c9a10", "--title", "T", "--file", str(missing),
         "--dir", str(tmp_path)],
    )  # fmt: skip
    assert 1 == result.exit_code
    assert f"cannot read readout file {missing}" in " ".join(result.output.split())


def test_approving_a_watch_level_change_shows_the_notification_first(calls_pair: Pair) -> None:
    """Without --json: to whom and what (en and ru) approving sends; answering no changes
    nothing; --yes approves with the notification still shown."""
    pair = calls_pair
    pair.us.auth.add_user("alpha", PASSWORD, ["commander"])
    pair.us.auth.add_user("bravo", PASSWORD, ["commander"])
    login(pair, "alpha")
    hotline(pair, "alpha", "watch", "propose", "possible-crisis", "--reason", "Buildup",
            "--notify", "ru", "--message", "Raised for 48 hours.")  # fmt: skip
    login(pair, "bravo")  # the saved token is the last login's
    shown = hotline(pair, "bravo", "watch", "show")
    assert "sends this notification to ru" in shown and "NEW LEVEL: POSSIBLE CRISIS" in shown

    env = {"HOTLINE_USER": "bravo", "HOTLINE_PASSWORD": ""}
    directory = str(pair.us.settings.directory)
    declined = runner.invoke(app, ["watch", "approve", "1", "--dir", directory], env=env,
                             input="n\n")  # fmt: skip
    assert 1 == declined.exit_code and "nothing sent" in declined.output
    assert "TO: RU" in declined.output and "НОВЫЙ УРОВЕНЬ: ВОЗМОЖНЫЙ КРИЗИС" in declined.output
    assert "MESSAGE: Raised for 48 hours." in declined.output
    assert "normal" == as_json(pair, "bravo", "watch", "show")["current"]["level"]["id"]

    approved = hotline(pair, "bravo", "watch", "approve", "1", "--yes")
    assert "NEW LEVEL: POSSIBLE CRISIS" in approved and "approved by bravo" in approved
    assert "possible-crisis" == as_json(pair, "bravo", "watch", "show")["current"]["level"]["id"]
