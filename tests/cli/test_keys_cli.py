"""``hotline key revoke``, ``hotline peer show`` and ``hotline peer confirm-key``: a
compromised key replaced, held at the peer until its officer confirms the fingerprint."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from typer.testing import CliRunner

from hotline.cli.app import app
from hotline.clock import FakeClock, rfc3339
from hotline.protocol import keys
from tests.conftest import Pair
from tests.services.test_keys import pinned, received_texts, restart_on_new_key


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_a_revocation_by_the_cli_is_confirmed_by_the_peer_officer(
    pair: Pair, clock: FakeClock
) -> None:
    clock.set(datetime.now(UTC))  # the CLI signs by the real clock; the nodes read this one
    us_dir, ru_dir = str(pair.us.settings.directory), str(pair.ru.settings.directory)
    old_fp = pair.us.identity.fingerprint
    since = rfc3339(clock.now() - timedelta(hours=1))

    code, _, error = run("key", "revoke", "--from", "yesterday", "--dir", us_dir)
    assert 1 == code and "--from 'yesterday' is not an RFC 3339 UTC time" in error
    future = rfc3339(clock.now() + timedelta(days=1))
    code, _, error = run("key", "revoke", "--from", future, "--dir", us_dir)
    assert 1 == code and "is in the future" in error
    assert old_fp == keys.fingerprint(keys.load_private(pair.us.settings.key_path).public_key())

    code, said, _ = run("key", "revoke", "--from", since, "--dir", us_dir, "--json")
    assert 0 == code
    change = json.loads(said)["change"]
    new_fp = change["new_key"]
    assert (old_fp, since, "key_revocation") == (
        change["old_key"],
        change["revoked_from"],
        change["type"],
    )
    restart_on_new_key(pair.us)
    assert new_fp == pair.us.identity.fingerprint  # the key file holds the new key
    outcome = pair.deliver("us", "ru")
    assert outcome is not None and outcome.error is not None
    assert "key_change_pending" in outcome.error
    assert old_fp == pinned(pair.ru, "us")  # held: nothing applied without the officer

    code, _, warned = run("peer", "list", "--dir", ru_dir)
    assert "KEY REVOCATION WAITING: us: see `hotline peer show us`" in warned
    code, said, warned = run("peer", "show", "us", "--dir", ru_dir)
    assert 0 == code
    assert "KEY REVOCATION WAITING:" in warned
    assert keys.spoken_fingerprint(new_fp) in warned.replace("\n", " ")
    code, _, error = run("peer", "confirm-key", "us", "ed25519:" + "0" * 64, "--dir", ru_dir)
    assert 1 == code, error
    assert "no key change of us waiting for confirmation" in error

    code, said, _ = run(
        "peer", "confirm-key", "us", keys.spoken_fingerprint(new_fp), "--dir", ru_dir
    )
    assert 0 == code
    assert f"us: key {old_fp} revoked from {since}; now pinned with {new_fp}" in said.replace(
        "\n", ""
    )
    pair.flush()
    assert new_fp == pinned(pair.ru, "us")
    assert ["key_change"] == received_texts(pair.ru)
    code, said, _ = run("peer", "show", "us", "--dir", ru_dir, "--json")
    shown = json.loads(said)
    assert [(old_fp, "revoked", since), (new_fp, "current", None)] == [
        (k["fingerprint"], k["state"], k["revoked_from"]) for k in shown["keys"]
    ]
    code, said, _ = run("peer", "list", "--dir", ru_dir, "--json")
    assert [["revoked", "current"]] == [[k["state"] for k in p["keys"]] for p in json.loads(said)]
    code, said, _ = run("peer", "list", "--dir", ru_dir)
    assert "us: 1 earlier key(s); `hotline peer show us` lists them" in said
    code, said, _ = run("key", "history", "--dir", us_dir, "--json")
    assert [(old_fp, "revoked"), (new_fp, "current")] == [
        (k["fingerprint"], k["state"]) for k in json.loads(said)["keys"]
    ]
