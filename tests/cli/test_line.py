"""The `hotline` command on the line itself: pinning keys, and reading what the peer sent.

What a duty officer meets at the keyboard: the short ids the listings print work in `show`
and `ack`; the peer's words are printed as they were written, never as terminal markup; a
card that would silently swap a pinned key is refused until the swap is confirmed.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from hotline.cli.main import app
from hotline.errors import AuthError, Conflict, ValidationError
from hotline.node import init_node
from hotline.storage import messages as store
from hotline.testing import HTTP_TIMEOUT_S
from tests.conftest import Pair

runner = CliRunner()
OFFICER = {"HOTLINE_USER": "duty1", "HOTLINE_PASSWORD": "long watch password"}


def invoke(*args: str, input: str | None = None, env: dict[str, str] | None = None) -> str:
    result = runner.invoke(app, list(args), input=input, env=env)
    assert 0 == result.exit_code, result.output
    return result.output


def test_a_card_with_another_key_is_not_pinned_without_replace(tmp_path: Path) -> None:
    us = init_node(tmp_path / "us", party="us", name_en="United States")
    us.db.dispose()
    first = init_node(tmp_path / "ru", party="ru", name_en="Russia", name_ru="Россия")
    second = init_node(tmp_path / "ru2", party="ru", name_en="Russia", name_ru="Россия")
    for node in (first, second):
        node.db.dispose()
    old_card, new_card = tmp_path / "old.json", tmp_path / "new.json"
    invoke("card", "--dir", str(tmp_path / "ru"), "--out", str(old_card))
    invoke("card", "--dir", str(tmp_path / "ru2"), "--out", str(new_card))
    invoke("peer", "add", str(old_card), "--dir", str(tmp_path / "us"), "--yes")

    refused = runner.invoke(
        app, ["peer", "add", str(new_card), "--dir", str(tmp_path / "us"), "--yes"]
    )
    assert 1 == refused.exit_code
    assert "KEY CHANGE" in refused.output and "--replace" in refused.output
    pinned = json.loads(invoke("peer", "list", "--dir", str(tmp_path / "us"), "--json"))
    assert [first.identity.fingerprint] == [p["fingerprint"] for p in pinned]

    replaced = invoke(
        "peer", "add", str(new_card), "--dir", str(tmp_path / "us"), "--yes", "--replace"
    )
    assert "key replaced" in replaced
    pinned = json.loads(invoke("peer", "list", "--dir", str(tmp_path / "us"), "--json"))
    assert [second.identity.fingerprint] == [p["fingerprint"] for p in pinned]

    again = invoke("peer", "add", str(new_card), "--dir", str(tmp_path / "us"), "--yes")
    assert "already pinned with this key" in again


def test_peer_list_prints_the_whole_fingerprint_and_a_refusal_says_so(tmp_path: Path) -> None:
    us = init_node(tmp_path / "us", party="us", name_en="United States")
    ru = init_node(tmp_path / "ru", party="ru", name_en="Russia", name_ru="Россия")
    for node in (us, ru):
        node.db.dispose()
    card = tmp_path / "ru.json"
    invoke("card", "--dir", str(tmp_path / "ru"), "--out", str(card))
    declined = runner.invoke(
        app, ["peer", "add", str(card), "--dir", str(tmp_path / "us")], input="n\n"
    )
    assert 1 == declined.exit_code and "not pinned" in declined.output
    invoke("peer", "add", str(card), "--dir", str(tmp_path / "us"), "--yes")
    listing = invoke("peer", "list", "--dir", str(tmp_path / "us"))  # 80 columns
    digits = ru.identity.fingerprint.split(":")[1].upper()
    groups = [digits[i : i + 4] for i in range(0, len(digits), 4)]
    assert " ".join(groups[:8]) in listing and " ".join(groups[8:]) in listing


def test_init_without_a_russian_name_says_what_the_card_will_show(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["init", "--party", "us", "--name", "US", "--dir", str(tmp_path / "n")]
    )
    assert 0 == result.exit_code
    assert "no --name-ru given" in result.output


def test_show_and_ack_take_the_short_id_and_print_the_peers_words_as_written(
    pair: Pair,
) -> None:
    for node in (pair.us, pair.ru):
        node.auth.add_user("duty1", "long watch password")
    us_dir, ru_dir = str(pair.us.settings.directory), str(pair.ru.settings.directory)
    words = "See annex [/b] and [bold]this[/bold] [red]"
    sent = json.loads(invoke("send", "--to", "ru", words, "--dir", us_dir, "--json", env=OFFICER))
    pair.flush()
    [received] = json.loads(invoke("inbox", "--dir", ru_dir, "--json", env=OFFICER))
    assert sent["id"] == received["id"]
    short = received["id"][:8]

    shown = runner.invoke(app, ["show", short, "--dir", ru_dir], env=OFFICER, terminal_width=200)
    assert 0 == shown.exit_code, shown.output
    assert words in shown.output and received["id"] in shown.output
    assert "acknowledge by:" in shown.output

    acked = invoke("ack", short, "--dir", ru_dir, env=OFFICER)
    assert f"acknowledged {received['id']}" in acked
    pair.flush()
    [mine] = json.loads(invoke("outbox", "--dir", us_dir, "--json", env=OFFICER))
    assert "acknowledged" == mine["state"]

    unknown = runner.invoke(app, ["show", "ffffffff", "--dir", ru_dir], env=OFFICER)
    assert 1 == unknown.exit_code and "no message 'ffffffff'" in unknown.output
    too_short = runner.invoke(app, ["ack", received["id"][:3], "--dir", ru_dir], env=OFFICER)
    assert 1 == too_short.exit_code and "at least its first 6" in too_short.output


def test_a_prefix_of_two_ids_is_refused_as_ambiguous(pair: Pair) -> None:
    pair.us.line.send(to="ru", text="one", user="duty1")
    with pair.us.db.write() as conn:
        [row] = store.listing(conn, store.OUT)
        other = "1" if row["id"][9] == "0" else "0"  # the same first 9 characters, not 10
        twin = dict(row, id=row["id"][:9] + other + row["id"][10:], seq=row["seq"] + 1)
        twin["client_ref"] = None
        store.insert_message(conn, **twin)
    with pair.us.db.read() as conn:
        with pytest.raises(Conflict, match="more than one message"):
            store.resolve(conn, row["id"][:8])
        assert row["id"] == store.resolve(conn, row["id"][:10])
        assert store.resolve(conn, "0123456789") is None
        with pytest.raises(ValidationError, match="not a message id"):
            store.resolve(conn, "zz'; drop")


def test_an_operator_is_disabled_enabled_and_given_a_new_password(pair: Pair) -> None:
    us_dir = str(pair.us.settings.directory)
    pair.us.auth.add_user("duty1", "long watch password")
    pair.us.auth.add_user("duty2", "other password", ["officer", "translator"])
    token, _ = pair.us.auth.login("duty1", "long watch password")
    url = pair.servers["us"].url + "/api/v1/inbox"
    bearer = {"Authorization": f"Bearer {token}"}
    assert 200 == httpx.get(url, headers=bearer, timeout=HTTP_TIMEOUT_S).status_code

    disabled = invoke("user", "disable", "duty1", "--dir", us_dir)
    listed = json.loads(invoke("user", "list", "--dir", us_dir, "--json"))
    assert "1 session(s) ended" in disabled
    assert [("duty1", ["officer"], True), ("duty2", ["officer", "translator"], False)] == [
        (u["name"], u["roles"], u["disabled"]) for u in listed
    ]
    # at once, on the served node
    assert 401 == httpx.get(url, headers=bearer, timeout=HTTP_TIMEOUT_S).status_code
    with pytest.raises(AuthError):
        pair.us.auth.login("duty1", "long watch password")

    invoke("user", "enable", "duty1", "--dir", us_dir)
    changed = invoke("user", "password", "duty1", "--dir", us_dir, "--password-stdin",
                     input="a new passphrase\n")  # fmt: skip
    assert "password of duty1 changed" in changed
    with pytest.raises(AuthError):
        pair.us.auth.login("duty1", "long watch password")
    assert pair.us.auth.login("duty1", "a new passphrase")[0]

    unknown = runner.invoke(app, ["user", "disable", "nobody", "--dir", us_dir])
    short = runner.invoke(
        app, ["user", "password", "duty2", "--dir", us_dir, "--password-stdin"], input="short\n"
    )
    assert 1 == unknown.exit_code and "no user 'nobody'" in unknown.output
    assert 1 == short.exit_code and "at least 12 characters" in short.output
    assert "DISABLED" not in invoke("user", "list", "--dir", us_dir)


def test_translate_and_held_approve_take_the_short_id(pair: Pair) -> None:
    for node in (pair.us, pair.ru):
        node.auth.add_user("duty1", "long watch password")
    pair.us.auth.add_user("duty2", "other password")
    us_dir, ru_dir = str(pair.us.settings.directory), str(pair.ru.settings.directory)
    invoke("send", "--to", "ru", "Stand by.", "--dir", us_dir, env=OFFICER)
    pair.flush()
    [received] = json.loads(invoke("inbox", "--dir", ru_dir, "--json", env=OFFICER))
    short = received["id"][:8]

    made = invoke("translate", short, "--lang", "ru", "Ждите.", "--dir", ru_dir, env=OFFICER)
    assert "recorded; not certified" in made
    [translation] = pair.ru.show(received["id"])["translations"]
    assert ("Ждите.", "duty1") == (translation["text"], translation["translator"])
    too_short = runner.invoke(
        app, ["translate", short[:3], "--lang", "ru", "x", "--dir", ru_dir], env=OFFICER
    )
    assert 1 == too_short.exit_code and "at least its first 6" in too_short.output
    # certifying takes the translator role (and never one's own translation)
    pair.ru.auth.add_user("tanya", "long watch password", ["translator"])
    tanya = {"HOTLINE_USER": "tanya", "HOTLINE_PASSWORD": "long watch password"}
    by_officer = runner.invoke(
        app, ["certify", str(translation["id"]), "--dir", ru_dir], env=OFFICER
    )
    assert 1 == by_officer.exit_code and "needs the role translator" in by_officer.output
    certified = invoke("certify", str(translation["id"]), "--dir", ru_dir, env=tanya)
    assert f"translation {translation['id']} certified by tanya" in certified

    held = pair.us.held.hold(
        "text", to="ru", payload={"text": "Now"}, precedence="FLASH", lang=None, user="duty1"
    )
    relief = {"HOTLINE_USER": "duty2", "HOTLINE_PASSWORD": "other password"}
    approved = invoke("held", "approve", held["id"][:8], "--dir", us_dir, env=relief)
    assert "approved; sent as message" in approved
    assert "sent" == pair.us.held.get(held["id"])["state"]
    not_an_id = runner.invoke(app, ["held", "reject", "held-1", "--reason", "x", "--dir", us_dir],
                              env=relief)  # fmt: skip
    assert 1 == not_an_id.exit_code and "not a held message id" in not_an_id.output


def test_a_card_that_cannot_be_written_is_named(tmp_path: Path) -> None:
    init_node(tmp_path / "us", party="us", name_en="United States").db.dispose()
    out = tmp_path / "no such folder" / "card.json"
    result = runner.invoke(app, ["card", "--dir", str(tmp_path / "us"), "--out", str(out)])
    assert (1, SystemExit) == (result.exit_code, type(result.exception))  # no traceback
    assert f"cannot write card file {out}" in " ".join(result.output.split())


def test_send_file_queues_every_line_in_batches_and_refuses_a_bad_file_whole(
    pair: Pair, tmp_path: Path
) -> None:
    pair.us.auth.add_user("duty1", "long watch password")
    us_dir = str(pair.us.settings.directory)
    lines = [{"text": f"line {i}", "client_ref": f"f-{i}"} for i in range(5)]
    lines[3]["precedence"] = "IMMEDIATE"
    messages = tmp_path / "messages.jsonl"
    messages.write_text("\n".join(json.dumps(line) for line in lines) + "\n\n", "utf-8")
    args = ("send", "--to", "ru", "--file", str(messages), "--batch", "2", "--dir", us_dir)
    sent = json.loads(invoke(*args, "--json", env=OFFICER))
    assert [f"line {i}" for i in range(5)] == [m["body"]["text"] for m in sent]
    assert "IMMEDIATE" == sent[3]["precedence"] and "ROUTINE" == sent[0]["precedence"]
    again = json.loads(invoke(*args, "--json", env=OFFICER))  # the refs: nothing twice
    assert [m["id"] for m in sent] == [m["id"] for m in again]

    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "fine"}\n{"text": 3}\n', "utf-8")
    before = len(pair.us.line.listing("out"))
    refused = runner.invoke(
        app, ["send", "--to", "ru", "--file", str(bad), "--dir", us_dir], env=OFFICER
    )
    assert 1 == refused.exit_code and "line 2" in refused.output
    assert before == len(pair.us.line.listing("out"))
