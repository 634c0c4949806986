"""Checkpoint exchange between two nodes over real HTTP: co-signing, and what is refused."""

from __future__ import annotations

import base64
from typing import Any

import httpx
from sqlalchemy import delete
from typer.testing import CliRunner

from hotline.cli.main import app
from hotline.clock import FakeClock
from hotline.protocol import merkle
from hotline.protocol.checkpoint import Checkpoint, open_checkpoint, sign_note
from hotline.storage.tables.evidence import cosigned_checkpoints
from hotline.testing import HTTP_TIMEOUT_S
from tests.conftest import Pair, token
from tests.evidence.conftest import converse, entries


def api(pair: Pair, party: str) -> httpx.Client:
    node = pair.node(party)
    bearer = token(node, "duty1", "correct horse battery")
    return httpx.Client(
        base_url=pair.servers[party].url,
        headers={"Authorization": f"Bearer {bearer}"},
        timeout=HTTP_TIMEOUT_S,
    )


def present(pair: Pair, to: str, body: dict[str, Any]) -> httpx.Response:
    """POST a co-signing request straight to a node's federation API."""
    return pair.http.post(pair.servers[to].url + "/federation/v1/checkpoints", json=body)


def us_note(pair: Pair, size: int, root: bytes) -> str:
    """A checkpoint of us's log with this size and root, signed with us's real key."""
    return sign_note(
        Checkpoint("hotline/us", size, root).body(), "hotline/us", pair.us.identity.key
    )


def test_an_exchange_leaves_a_checkpoint_signed_by_both_nodes(pair: Pair, clock: FakeClock) -> None:
    converse(pair)
    assert (
        401 == httpx.get(pair.servers["us"].url + "/api/v1/log", timeout=HTTP_TIMEOUT_S).status_code
    )
    with api(pair, "us") as client:
        answer = client.post("/api/v1/log/checkpoint/exchange").json()
        assert (True, ["ru"], [4]) == (
            answer["ok"],
            [r["peer"] for r in answer["results"]],
            [r["size"] for r in answer["results"]],
        )
        clock.advance(42)
        state = client.get("/api/v1/log").json()
    verifiers = {
        "hotline/us": pair.us.identity.key.public_key(),
        "hotline/ru": pair.ru.identity.key.public_key(),
    }
    checkpoint, signers = open_checkpoint(state["last_cosigned"]["checkpoint"], verifiers)
    assert ["hotline/us", "hotline/ru"] == signers
    assert (4, merkle.root_from_hashes([h for _i, _e, h in entries(pair.us)])) == (
        checkpoint.size,
        checkpoint.root,
    )
    assert {"cosigner": "ru", "size": 4, "age_s": 42} == {
        k: state["last_cosigned"][k] for k in ("cosigner", "size", "age_s")
    }
    assert (4, checkpoint.root.hex(), 0) == (state["size"], state["root"], state["forks"])

    # the same through the CLI, which talks to the running node's API
    env = {"HOTLINE_USER": "duty1", "HOTLINE_PASSWORD": "correct horse battery"}
    folder = str(pair.us.settings.directory)
    runner = CliRunner(env=env)
    exchanged = runner.invoke(app, ["evidence", "exchange", "--dir", folder])
    assert (0, "ru: co-signed size 4\n") == (exchanged.exit_code, exchanged.output)
    shown = runner.invoke(app, ["evidence", "status", "--dir", folder])
    assert "co-signed by ru: size 4 at 2026-11-21T14:30:42.000Z (0 s ago)" in shown.output


def test_a_grown_log_is_co_signed_again_even_by_a_node_that_lost_its_co_signatures(
    pair: Pair,
) -> None:
    converse(pair)
    assert [True] == [r["ok"] for r in pair.us.evidence.exchange()]
    converse(pair, "Second message")
    assert [(True, 8)] == [(r["ok"], r["size"]) for r in pair.us.evidence.exchange()]
    # us forgets what ru co-signed: ru answers with the size to prove from, us proves again
    with pair.us.db.write() as conn:
        conn.execute(delete(cosigned_checkpoints))
    converse(pair, "After the loss")
    outcome = pair.us.evidence.exchange()
    assert [(True, 12, None)] == [(r["ok"], r["size"], r["error"]) for r in outcome]
    assert 12 == pair.us.evidence.state()["last_cosigned"]["size"]
    assert [] == pair.us.evidence.forks() + pair.ru.evidence.forks()


def _rollback(pair: Pair, leaves: list[bytes]) -> dict[str, Any]:
    size = len(leaves) - 1
    note = us_note(pair, size, merkle.root_from_hashes(leaves[:size]))
    return {"checkpoint": note, "old_size": len(leaves), "proof": []}


def _fork(pair: Pair, leaves: list[bytes]) -> dict[str, Any]:
    note = us_note(pair, len(leaves), merkle.root_from_hashes([*leaves[:-1], bytes(32)]))
    return {"checkpoint": note, "old_size": len(leaves), "proof": []}


def _bad_proof(pair: Pair, leaves: list[bytes]) -> dict[str, Any]:
    grown = [*leaves, merkle.leaf_hash(b"a new entry")]
    forged = [bytes(32), *grown[1:]]  # entry 0 rewritten, then grown by one
    proof = merkle.consistency_proof_from_hashes(forged, len(leaves), len(grown))
    note = us_note(pair, len(grown), merkle.root_from_hashes(forged))
    hashes = [base64.b64encode(h).decode() for h in proof]
    return {"checkpoint": note, "old_size": len(leaves), "proof": hashes}


FORKS = [
    (_rollback, "rollback", "presents size 3, smaller than size 4"),
    (_fork, "fork", "presents a different root at size 4"),
    (_bad_proof, "fork", "consistency proof from size 4 (which this node co-signed"),
]


def test_a_rollback_or_a_fork_is_refused_kept_as_evidence_and_raises_an_alarm(
    pair: Pair,
) -> None:
    converse(pair)
    cosigned = pair.us.evidence.exchange()[0]["checkpoint"]
    leaves = [h for _i, _e, h in entries(pair.us)]
    bodies = [make(pair, leaves) for make, _kind, _words in FORKS]
    answers = [present(pair, "ru", body) for body in bodies]
    assert [(409, "log_fork")] * 3 == [(a.status_code, a.json()["error"]["code"]) for a in answers]
    with api(pair, "ru") as client:
        kept = list(reversed(client.get("/api/v1/log/forks").json()))
        alarms = client.get("/api/v1/alarms").json()
    assert [(kind, "us", cosigned) for _m, kind, _w in FORKS] == [
        (k["kind"], k["log"], k["old_note"]) for k in kept
    ]
    assert [b["checkpoint"] for b in bodies] == [k["new_note"] for k in kept]
    assert all(words in k["detail"] for (_m, _k, words), k in zip(FORKS, kept, strict=True))
    assert [b["proof"] for b in bodies] == [k["proof"]["hashes"] for k in kept]
    assert {"2026-11-21T14:30:00.000Z"} == {k["detected_at"] for k in kept}
    assert [("log_fork", "us")] == [(a["kind"], a["subject"]) for a in alarms]
    # the refusals changed nothing: us's next honest checkpoint is co-signed as before
    assert [True] == [r["ok"] for r in pair.us.evidence.exchange()]


def test_checkpoints_that_are_not_the_peers_are_refused_and_not_kept(pair: Pair) -> None:
    converse(pair)
    pair.us.evidence.exchange()
    leaves = [h for _i, _e, h in entries(pair.us)]
    root = merkle.root_from_hashes(leaves)
    stranger = sign_note(
        Checkpoint("hotline/us", 4, root).body(), "hotline/us", pair.ru.identity.key
    )
    unknown = sign_note(
        Checkpoint("hotline/ua", 4, root).body(), "hotline/ua", pair.us.identity.key
    )
    cases = [
        ({"checkpoint": stranger, "old_size": 4, "proof": []}, 403, "unknown_key"),
        ({"checkpoint": unknown, "old_size": 4, "proof": []}, 403, "unknown_key"),
        (
            {"checkpoint": _flip_signature(us_note(pair, 4, root)), "old_size": 4, "proof": []},
            403,
            "bad_signature",
        ),
        ({"checkpoint": us_note(pair, 4, root), "old_size": -1, "proof": []}, 400, "malformed"),
        (
            {"checkpoint": us_note(pair, 4, root), "old_size": 4, "proof": ["AA=="]},
            400,
            "malformed",
        ),
        ({"checkpoint": us_note(pair, 4, root)}, 400, "malformed"),
    ]
    outcomes = [present(pair, "ru", body) for body, _status, _code in cases]
    assert [(s, c) for _b, s, c in cases] == [
        (r.status_code, r.json()["error"]["code"]) for r in outcomes
    ]
    assert [] == pair.ru.evidence.forks()


def _flip_signature(note: str) -> str:
    i = len(note) - 10
    return note[:i] + ("B" if note[i] == "A" else "A") + note[i + 1 :]


def test_the_schedule_exchanges_once_per_interval_by_the_node_clock(
    pair: Pair, clock: FakeClock
) -> None:
    converse(pair)
    pair.us.evidence.tick()
    assert 4 == pair.us.evidence.state()["last_cosigned"]["size"]
    converse(pair, "Later")
    clock.advance(299)
    pair.us.evidence.tick()
    assert 4 == pair.us.evidence.state()["last_cosigned"]["size"]
    clock.advance(1)
    pair.us.evidence.tick()
    assert 8 == pair.us.evidence.state()["last_cosigned"]["size"]
