"""Nothing from a peer reaches a terminal raw (issue 13, item 5).

The attacker is the peer: its card and its messages are signed by its own key, so they
verify. Each test runs the ``hotline`` command in its own process, as an officer would,
and looks at the bytes it wrote: no control character, escape sequence or bidirectional
override gets through (they are printed visibly, as ``\\x1b``, ``\\u202e``), Rich markup
in the peer's text is printed literally, Russian stays readable, and the fingerprint an
officer compares out of band is computed from the key, never copied from the card's text.
"""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path
from typing import Any

from hotline.domain.line import PeerCard
from hotline.node import init_node
from hotline.protocol import keys
from hotline.storage import peers
from tests.security._hostile import HostilePeer, cli_env, hotline, now, served_us

CLEAR = "\x1b[2J\x1b[H"  # clear the screen, cursor home
FAKE_LINE = "\rFingerprint: " + " ".join(["0000"] * 16)  # back to the line start, a fake
HIDDEN_LINK = "\x1b]8;;https://evil.example/\x1b\\official card\x1b]8;;\x1b\\"  # OSC 8
RLO = "\u202e"  # right-to-left override: "gnp.exe" reads as "exe.png"
MARKUP = "[bold]LOUD[/bold] [link=https://evil.example]link[/link] :warning:"
HOSTILE = f"Привет {CLEAR}{FAKE_LINE} {HIDDEN_LINK} {RLO}gnp.exe {MARKUP} \x07\x9b\u2066"


def assert_nothing_raw(output: bytes) -> str:
    """The output decoded; it holds no control, format or separator character but the
    newline (what a terminal would act on rather than show)."""
    text = output.decode("utf-8")
    raw = sorted(
        {
            f"U+{ord(c):04X}"
            for c in text
            if c != "\n" and unicodedata.category(c) in {"Cc", "Cf", "Cs", "Zl", "Zp"}
        }
    )
    assert [] == raw, text
    return text


def spoken(fingerprint: str) -> str:
    return keys.spoken_fingerprint(fingerprint)


def make_us(tmp_path: Path) -> Path:
    """Node "us" on disk (not serving), with its own SQLite file."""
    directory = tmp_path / "us"
    init_node(directory, party="us", name_en="United States").db.dispose()
    return directory


def pinned_parties(directory: Path) -> list[str]:
    listed = hotline("peer", "list", "--dir", str(directory), "--json")
    assert 0 == listed.returncode, listed.stderr
    return [row["party"] for row in json.loads(listed.stdout)]


def test_a_card_with_control_characters_is_refused_and_nothing_raw_is_printed(
    tmp_path: Path,
) -> None:
    us = make_us(tmp_path)
    peer = HostilePeer()
    card = peer.card(
        name_en=f"Russian Federation{CLEAR}{FAKE_LINE}",
        name_ru=f"{RLO}Российская Федерация",
        endpoints=[f"https://127.0.0.1:9/{HIDDEN_LINK}"],
    )
    card_file = tmp_path / "card.json"
    card_file.write_text(json.dumps(card), encoding="utf-8")

    added = hotline("peer", "add", str(card_file), "--dir", str(us), "--yes")

    assert 1 == added.returncode
    error = assert_nothing_raw(added.stderr)
    assert_nothing_raw(added.stdout)
    assert "U+001B" in error and "malformed peercard" in error  # names what is wrong
    assert [] == pinned_parties(us)  # nothing pinned


def test_peer_add_prints_the_fingerprint_of_the_key_and_the_peers_text_literally(
    tmp_path: Path,
) -> None:
    """Printable text can still lie: a name that reads like a fingerprint line, markup.
    The real fingerprint starts a line of its own; the name is shown, labelled, as text."""
    us = make_us(tmp_path)
    peer = HostilePeer()
    fake = "Fingerprint: " + " ".join(["0000"] * 16)
    card = peer.card(name_en=fake, name_ru=MARKUP)
    card_file = tmp_path / "card.json"
    card_file.write_text(json.dumps(card, ensure_ascii=False), encoding="utf-8")

    added = hotline("peer", "add", str(card_file), "--dir", str(us), "--yes")

    assert 0 == added.returncode, added.stderr
    shown = assert_nothing_raw(added.stdout)
    lines = shown.splitlines()
    assert [f"Fingerprint: {spoken(peer.fingerprint)}"] == [
        line for line in lines if line.startswith("Fingerprint:")
    ]
    assert f"  name (en): {fake}" in lines  # labelled, never at a line's start
    assert f"  name (ru): {MARKUP}" in lines  # markup printed as written
    assert ["ru"] == pinned_parties(us)


def test_peer_list_shows_a_card_pinned_before_the_check_without_raw_characters(
    tmp_path: Path,
) -> None:
    """A card pinned by an older version (its texts never checked), and a fingerprint
    column that says something else than the key: the listing shows the names visibly
    escaped and the fingerprint of the pinned key; JSON carries the same strings."""
    us = make_us(tmp_path)
    peer = HostilePeer()
    card: dict[str, Any] = peer.card(
        name_en=HOSTILE, name_ru=f"{RLO}Российская Федерация", endpoints=[HIDDEN_LINK]
    )
    from hotline.node import Node

    node = Node.open(us)
    try:
        stored = card | {"fingerprint": "ed25519:" + "f" * 64}  # the text lies
        with node.db.write() as conn:
            peers.upsert(conn, PeerCard.model_construct(**stored), json.dumps(stored), now())
    finally:
        node.db.dispose()

    table = hotline("peer", "list", "--dir", str(us))
    as_json = hotline("peer", "list", "--dir", str(us), "--json")

    assert 0 == table.returncode == as_json.returncode, table.stderr + as_json.stderr
    shown = assert_nothing_raw(table.stdout)
    groups = spoken(peer.fingerprint).split(" ")
    assert " ".join(groups[:8]) in shown and " ".join(groups[8:]) in shown
    assert "FFFF FFFF" not in shown
    assert "\\x1b[2J" in shown and "\\u202e" in shown and "Привет" in shown
    rows = json.loads(assert_nothing_raw(as_json.stdout))
    assert [(HOSTILE, peer.fingerprint, [HIDDEN_LINK])] == [
        (r["name_en"], r["fingerprint"], r["endpoints"]) for r in rows
    ]


def test_inbox_and_show_print_a_peers_hostile_message_visibly(tmp_path: Path) -> None:
    peer = HostilePeer()
    with served_us(tmp_path, peer) as us:
        envelope = peer.envelope(HOSTILE)
        status, answer = us.deliver(envelope)
        assert 200 == status, answer
        env, folder = us.env, str(us.directory)

        listing = hotline("inbox", "--dir", folder, env=env)
        listing_json = hotline("inbox", "--dir", folder, "--json", env=env)
        shown = hotline("show", envelope["id"], "--dir", folder, env=env)
        shown_json = hotline("show", envelope["id"], "--dir", folder, "--json", env=env)

    for run in (listing, listing_json, shown, shown_json):
        assert 0 == run.returncode, run.stderr
        assert_nothing_raw(run.stderr)
    text = assert_nothing_raw(shown.stdout)
    assert "Привет \\x1b[2J\\x1b[H\\rFingerprint: 0000" in text  # visible, Russian readable
    assert "\\x1b]8;;https://evil.example/" in text and "\\u202egnp.exe" in text
    assert MARKUP in text and "\\x07\\x9b\\u2066" in text
    assert "Привет \\x1b[2J" in assert_nothing_raw(listing.stdout)
    assert [HOSTILE] == [r["body"]["text"] for r in json.loads(listing_json.stdout)]
    assert_nothing_raw(listing_json.stdout)
    assert HOSTILE == json.loads(assert_nothing_raw(shown_json.stdout))["body"]["text"]
    assert "Привет" in shown_json.stdout.decode("utf-8")  # not \\u escapes: readable


def test_errors_quoting_a_users_input_print_nothing_raw(tmp_path: Path) -> None:
    """An error message that quotes what was given (a card file's path here)."""
    us = make_us(tmp_path)
    missing = tmp_path / f"card{CLEAR}{RLO}.json"

    added = hotline("peer", "add", str(missing), "--dir", str(us), "--yes", env=cli_env())

    assert 1 == added.returncode
    assert "\\x1b[2J" in assert_nothing_raw(added.stderr)
