"""Recovery after a restore, attacked: a peer cannot use it to plant messages the restored
node never signed or received, a forged request or statement gets nothing, and a refused
page changes nothing stored. (The whole drill, with real processes: tests/e2e/test_restore.py.)
"""

from __future__ import annotations

import base64
import json
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, select

from hotline.domain.line import Envelope, Receipt
from hotline.errors import BadSignature, Conflict, HotlineError
from hotline.node import Node
from hotline.protocol.canonical import canonical, sha256_hex
from hotline.protocol.envelope import seal
from hotline.services.evidence.recovery_wire import sign
from hotline.storage import log, peers
from hotline.storage import recovery as recovery_store
from hotline.storage.tables.core import messages
from hotline.storage.tables.evidence import cosigned_checkpoints
from hotline.testing import DB_PREFIX, DatabaseFactory
from tests.conftest import Pair

Forge = Callable[[Pair], dict[str, Any]]


def talk(pair: Pair) -> None:
    for i in range(3):
        pair.us.line.send(to="ru", text=f"us {i}", user="duty1")
        pair.ru.line.send(to="us", text=f"ru {i}", user="ofitser")
    pair.flush()


def snapshot(node: Node) -> tuple[Any, ...]:
    with node.db.read() as conn:
        head = log.head(conn)
        count = conn.execute(select(func.count()).select_from(messages)).scalar_one()
        heads = [recovery_store.channel_head(conn, "us", d) for d in ("in", "out")]
    return head.size, head.root, count, heads


def envelope(
    pair: Pair, key: Ed25519PrivateKey, sender: str, *, prev: str | None = None
) -> Envelope:
    """The next envelope of ``sender``'s channel, signed with ``key``."""
    node = pair.node(sender)
    receiver = "ru" if sender == "us" else "us"
    with node.db.read() as conn:
        seq, digest = recovery_store.channel_head(conn, receiver, "out")
    unsigned = {
        "v": 1,
        "id": str(uuid.uuid4()),
        "from": sender,
        "to": receiver,
        "seq": seq + 1,
        "prev": prev or digest,
        "created": node.line.now(),
        "precedence": "ROUTINE",
        "type": "text",
        "lang": "en",
        "body": {"text": "planted"},
        "key": node.identity.fingerprint,
    }
    return seal(unsigned, key, Envelope)


def receipt(pair: Pair, key: Ed25519PrivateKey, env: Envelope, signer: str) -> Receipt:
    digest = sha256_hex(canonical(env.wire()))
    return seal(
        {
            "v": 1,
            "type": "receipt",
            "envelope_id": env.id,
            "envelope_hash": digest,
            "from": signer,
            "to": env.from_,
            "seq": env.seq,
            "received": pair.us.line.now(),
            "log_index": 0,
            "log_size": 1,
            "log_root": "0" * 64,
            "key": pair.node(signer).identity.fingerprint,
        },
        key,
        Receipt,
    )


def copy(env: Envelope, rec: Receipt) -> dict[str, Any]:
    return {"envelope": env.wire(), "receipt": rec.wire()}


def receipt_forged_by_the_peer(pair: Pair) -> dict[str, Any]:
    """us's genuine envelope, with a "receipt of ru" signed by us: ru never received it."""
    env = envelope(pair, pair.us.identity.key, "us")
    return {"inbound": [copy(env, receipt(pair, pair.us.identity.key, env, "ru"))], "outbound": []}


def own_envelope_forged_by_the_peer(pair: Pair) -> dict[str, Any]:
    """An envelope "from ru" that us signed: ru never signed it."""
    env = envelope(pair, pair.us.identity.key, "ru")
    return {"inbound": [], "outbound": [copy(env, receipt(pair, pair.us.identity.key, env, "us"))]}


def stranger_signed(pair: Pair) -> dict[str, Any]:
    """Signed by a key nobody pinned, receipt included."""
    stranger = Ed25519PrivateKey.generate()
    env = envelope(pair, stranger, "us")
    return {"inbound": [copy(env, receipt(pair, stranger, env, "ru"))], "outbound": []}


def broken_chain(pair: Pair) -> dict[str, Any]:
    """Every signature genuine, but ``prev`` is not ru's head: a chain spliced in."""
    env = envelope(pair, pair.us.identity.key, "us", prev="ab" * 32)
    return {"inbound": [copy(env, receipt(pair, pair.ru.identity.key, env, "ru"))], "outbound": []}


def body_changed(pair: Pair) -> dict[str, Any]:
    """A genuine copy whose text was changed after signing."""
    env = envelope(pair, pair.us.identity.key, "us")
    rec = receipt(pair, pair.ru.identity.key, env, "ru")
    wire = env.wire()
    wire["body"] = {"text": "changed"}
    return {"inbound": [{"envelope": wire, "receipt": rec.wire()}], "outbound": []}


@pytest.mark.parametrize(
    ("forge", "refusal"),
    [
        (receipt_forged_by_the_peer, BadSignature),
        (own_envelope_forged_by_the_peer, BadSignature),
        (stranger_signed, BadSignature),
        (broken_chain, Conflict),
        (body_changed, BadSignature),
    ],
)
def test_forged_copies_are_refused_and_nothing_is_stored(
    pair: Pair, forge: Forge, refusal: type[HotlineError]
) -> None:
    talk(pair)
    before = snapshot(pair.ru)
    answer = forge(pair)
    with pair.ru.db.read() as conn:
        row = peers.get(conn, "us")
    assert row is not None
    with pytest.raises(refusal):
        pair.ru.db.transaction(
            lambda conn: pair.ru.recovery._store_page(conn, row=row, answer=answer)
        )
    assert before == snapshot(pair.ru)
    assert pair.ru.evidence.audit().whole


def test_a_genuine_copy_is_taken_back(pair: Pair) -> None:
    """The control for the forgeries above: the same shape, signed by the right keys."""
    talk(pair)
    env = envelope(pair, pair.us.identity.key, "us")
    answer = {
        "inbound": [copy(env, receipt(pair, pair.ru.identity.key, env, "ru"))],
        "outbound": [],
    }
    with pair.ru.db.read() as conn:
        row = peers.get(conn, "us")
    assert row is not None
    tally = pair.ru.db.transaction(
        lambda conn: pair.ru.recovery._store_page(conn, row=row, answer=answer)
    )
    assert [env.seq] == tally.inbound
    assert "received" == pair.ru.line.show(env.id)["state"]


def test_a_message_signed_after_the_restore_is_resealed_after_the_copies(pair: Pair) -> None:
    """ru signed a message after its restore at a seq where us holds another envelope of
    ru's (signed before the restore): that copy takes its place, delivered, and the new
    message is signed again at the next seq, never delivered under two contents."""
    talk(pair)
    early = pair.ru.line.send(to="us", text="after the restore", user="ofitser")
    with pair.ru.db.read() as conn:
        row = peers.get(conn, "us")
        old = recovery_store.at_seq(conn, "us", "out", early["seq"])
    assert row is not None and old is not None
    held = envelope(pair, pair.ru.identity.key, "ru", prev=json.loads(old["envelope"])["prev"])
    held = seal(
        {k: v for k, v in held.wire().items() if k != "sig"} | {"seq": early["seq"]},
        pair.ru.identity.key,
        Envelope,
    )
    answer = {
        "inbound": [],
        "outbound": [copy(held, receipt(pair, pair.us.identity.key, held, "us"))],
    }
    tally = pair.ru.db.transaction(
        lambda conn: pair.ru.recovery._store_page(conn, row=row, answer=answer)
    )
    assert ([early["seq"]], [early["id"]]) == (tally.outbound, tally.resealed)
    moved = pair.ru.line.show(early["id"])
    assert (early["seq"] + 1, "queued") == (moved["seq"], moved["state"])
    assert "resealed" in [step["kind"] for step in moved["trail"]]
    assert moved["envelope"]["prev"] == sha256_hex(canonical(held.wire()))
    assert "delivered" == pair.ru.line.show(held.id)["state"]
    assert pair.ru.evidence.audit().whole


def federation(pair: Pair, path: str, body: dict[str, Any]) -> tuple[int, str]:
    answer = pair.http.post(pair.servers["us"].url + "/federation/v1/" + path, json=body)
    return answer.status_code, answer.json()["error"]["code"]


def request(pair: Pair, signer: Ed25519PrivateKey, **changes: Any) -> dict[str, Any]:
    unsigned = {
        "v": 1,
        "type": "recovery_request",
        "from": "ru",
        "to": "us",
        "created": pair.ru.line.now(),
        "in_seq": 0,
        "in_hash": "0" * 64,
        "out_seq": 0,
        "out_hash": "0" * 64,
        "key": pair.ru.identity.fingerprint,
    }
    return {"request": sign(unsigned, signer) | changes}


def test_the_peer_answers_only_a_request_signed_by_the_pinned_key(pair: Pair) -> None:
    talk(pair)
    stranger = Ed25519PrivateKey.generate()
    assert (403, "bad_signature") == federation(pair, "recovery", request(pair, stranger))
    tampered = request(pair, pair.ru.identity.key, out_seq=1)
    assert (403, "bad_signature") == federation(pair, "recovery", tampered)
    unknown = request(pair, pair.ru.identity.key, key="ed25519:" + "1" * 64)
    assert (403, "unknown_key") == federation(pair, "recovery", unknown)
    assert (400, "malformed") == federation(pair, "recovery", {"request": {"v": 1}})
    answer = pair.http.post(
        pair.servers["us"].url + "/federation/v1/recovery", json=request(pair, pair.ru.identity.key)
    ).json()
    assert ([1, 2, 3], [1, 2, 3]) == (
        [json.loads(json.dumps(c["envelope"]))["seq"] for c in answer["inbound"]],
        [c["envelope"]["seq"] for c in answer["outbound"]],
    )


def test_the_peer_refuses_a_forged_recovery_statement(pair: Pair) -> None:
    talk(pair)
    assert pair.ru.evidence.exchange("us")[0]["ok"]
    note, audit = pair.ru.evidence.sign_checkpoint()
    statement = {
        "v": 1,
        "type": "recovery",
        "id": str(uuid.uuid4()),
        "party": "ru",
        "peer": "us",
        "at": pair.ru.line.now(),
        "restored": {"size": 0, "root": "0" * 64},
        "cosigned_before": None,
        "recovered": {"inbound": [], "outbound": [], "resealed": []},
        "heads": {"in": {"seq": 0, "hash": "0" * 64}, "out": {"seq": 0, "hash": "0" * 64}},
        "lost": "nothing",
        "key": pair.ru.identity.fingerprint,
    }
    body = {
        "checkpoint": note,
        "base_size": 0,
        "proof": [],
        "statement": sign(statement, Ed25519PrivateKey.generate()),
        "index": 0,
        "inclusion": [],
    }
    assert (403, "bad_signature") == federation(pair, "recovery/checkpoint", body)
    # signed by ru, but not in ru's log: the inclusion proof cannot hold
    body["statement"] = sign(statement, pair.ru.identity.key)
    proof = [base64.b64encode(h).decode() for h in audit.inclusion_proof(0, audit.size)]
    body["inclusion"] = proof
    assert (409, "log_fork") == federation(pair, "recovery/checkpoint", body)
    with pair.us.db.read() as conn:
        kept = conn.execute(
            select(func.count())
            .select_from(cosigned_checkpoints)
            .where(cosigned_checkpoints.c.log == "ru")
        ).scalar_one()
        retired = recovery_store.retired(conn, "ru")
    assert (1, []) == (kept, retired)


@pytest.mark.parametrize("forge", [receipt_forged_by_the_peer, own_envelope_forged_by_the_peer])
def test_a_lying_peer_cannot_plant_messages_over_the_wire(
    pair: Pair, forge: Forge, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The whole exchange over HTTP, with us answering forged copies: ru refuses them all,
    stores nothing, appends nothing to its log, and says why."""
    talk(pair)
    before = snapshot(pair.ru)
    forged = forge(pair)
    honest = pair.us.recovery_desk.answer

    def lying(payload: Any) -> dict[str, Any]:
        return honest(payload) | forged

    monkeypatch.setattr(pair.us.recovery_desk, "answer", lying)
    with pytest.raises(BadSignature):
        pair.ru.recovery.run("us")
    pair.ru.recovery.tick()  # the job: the refusal is logged and kept, nothing raised
    assert "bad_signature" == pair.ru.recovery.last["us"]["error"]["code"]
    assert before == snapshot(pair.ru)


def test_nothing_to_recover_changes_nothing(pair: Pair) -> None:
    """A node that was not rolled back asks, is told nothing new, and writes nothing."""
    talk(pair)
    assert pair.ru.evidence.exchange("us")[0]["ok"]
    before = snapshot(pair.ru)
    outcome = pair.ru.recovery.run("us")
    assert ([], [], 0, None) == (
        outcome["inbound"],
        outcome["outbound"],
        outcome["resealed"],
        outcome["epoch"],
    )
    assert before == snapshot(pair.ru)


def backup_db(databases: DatabaseFactory, node: Node, name: str) -> str:
    """Copy the node's database (its connections closed first)."""
    node.db.dispose()
    url = node.settings.db_url
    if url.startswith("sqlite"):
        path = Path(url.removeprefix("sqlite:///"))
        copy_path = path.with_name(name + ".db")
        shutil.copyfile(path, copy_path)
        return str(copy_path)
    databases._admin(f'CREATE DATABASE "{name}" TEMPLATE "{url.rsplit("/", 1)[1]}"')
    return name


def restore_db(databases: DatabaseFactory, node: Node, copy_of: str) -> None:
    node.db.dispose()
    url = node.settings.db_url
    if url.startswith("sqlite"):
        path = Path(url.removeprefix("sqlite:///"))
        for extra in ("-wal", "-shm"):
            path.with_name(path.name + extra).unlink(missing_ok=True)
        shutil.copyfile(copy_of, path)
        return
    target = url.rsplit("/", 1)[1]
    databases._admin(f'DROP DATABASE "{target}" WITH (FORCE)')
    databases._admin(f'CREATE DATABASE "{target}" TEMPLATE "{copy_of}"')
    databases._admin(f'DROP DATABASE "{copy_of}" WITH (FORCE)')


def test_a_rolled_back_node_recovers_and_its_new_epoch_is_cosigned(
    pair: Pair, databases: DatabaseFactory
) -> None:
    talk(pair)
    assert pair.ru.evidence.exchange("us")[0]["ok"]
    # named like the factory's own databases: a run killed mid-test leaves none behind
    name = f"{DB_PREFIX}{databases.run_id}_ru_copy_{uuid.uuid4().hex[:6]}"
    copy_of = backup_db(databases, pair.ru, name)
    talk(pair)
    acked = pair.us.line.listing("in", limit=1)[0]["id"]
    pair.us.line.acknowledge(acked, "duty1")
    read_by_ru = pair.ru.line.listing("in", limit=1)[0]["id"]
    pair.ru.line.acknowledge(read_by_ru, "ofitser")
    pair.flush()
    # a link test us received and answered, its answer not yet delivered when ru stopped
    test_id = pair.ru.links.send_test("us")["id"]
    pair.deliver("ru", "us")
    assert pair.ru.evidence.exchange("us")[0]["ok"]
    assert pair.us.evidence.exchange("ru")[0]["ok"]
    restore_db(databases, pair.ru, copy_of)

    assert not pair.ru.evidence.exchange("us")[0]["ok"]  # us: a rollback, kept as evidence
    early = pair.ru.line.send(to="us", text="sent after the restore", user="ofitser")
    woken: list[str] = []
    pair.us.recovery_desk.on_caught_up = woken.append
    outcome = pair.ru.recovery.run("us")
    assert ["ru"] == woken  # us's worker for ru goes on at once, not after its backoff
    # each way: 3 texts and an ack, and ru's link test (then the early message, re-sealed)
    assert ([4, 7], [4, 8], 1) == (
        outcome["inbound"],
        outcome["outbound"],
        outcome["resealed"],
    )
    assert outcome["epoch"]["cosigned"] is not None
    pair.flush()
    assert 9 == pair.us.line.show(early["id"])["seq"]
    assert "passed" == pair.ru.links.get_test("us", test_id)["state"]  # its answer taken
    assert "acknowledged" == pair.ru.line.show(acked)["state"]
    assert ("acknowledged", "ofitser") == tuple(
        pair.ru.line.show(read_by_ru)[k] for k in ("state", "acked_by")
    )
    assert [pair.ru.evidence.exchange("us")[0]["ok"], pair.us.evidence.exchange("ru")[0]["ok"]] == [
        True,
        True,
    ]
    assert ["recovered", "rollback"] == [f["kind"] for f in pair.us.evidence.forks()][:2]
    assert "recovered" == pair.ru.evidence.forks()[0]["kind"]
    assert [] == [a for a in pair.us.alarms.listing("open") if a["kind"] == "log_fork"]
    assert [] == [a for a in pair.ru.alarms.listing("open") if a["kind"] == "log_fork"]
    with pair.us.db.read() as conn:
        assert recovery_store.retired(conn, "ru")  # the old epoch's co-signatures, kept
    with pair.ru.db.read() as conn:
        (statement,) = [json.loads(e) for e in recovery_store.recovery_entries(conn)]
    assert ("us", [4, 7], [early["id"]]) == (
        statement["peer"],
        statement["recovered"]["inbound"],
        statement["recovered"]["resealed"],
    )
    # the line flows both ways again
    fresh = [
        pair.us.line.send(to="ru", text="after", user="duty1"),
        pair.ru.line.send(to="us", text="after", user="ofitser"),
    ]
    pair.flush()
    assert ["delivered", "delivered"] == [
        pair.node(p).line.show(m["id"])["state"] for p, m in zip(("us", "ru"), fresh, strict=True)
    ]
