"""Hostile review: a pinned peer that was never restored uses the recovery endpoint to
have its whole co-signed log history set aside (docs/protocol.md: the checkpoint endpoint
is "only when the log was rolled back behind the peer's co-signed checkpoint"; docs/evidence.md:
the new log must extend "the last checkpoint both still agree on")."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from hotline.errors import HotlineError
from hotline.protocol import merkle
from hotline.protocol.canonical import canonical
from hotline.protocol.checkpoint import Checkpoint, sign_note
from hotline.services.evidence.cosign import origin
from hotline.services.evidence.recovery_wire import sign
from hotline.storage import recovery as recovery_store
from hotline.storage.tables.evidence import cosigned_checkpoints
from tests.conftest import Pair


def talk(pair: Pair) -> None:
    for i in range(3):
        pair.us.line.send(to="ru", text=f"us {i}", user="duty1")
        pair.ru.line.send(to="us", text=f"ru {i}", user="ofitser")
    pair.flush()


def forged_epoch(pair: Pair) -> dict[str, object]:
    """ru (never restored) presents a brand-new log of one entry: a recovery statement
    naming us's last co-signature, heads at 0 and base_size 0 — its history erased."""
    with pair.us.db.read() as conn:
        last = conn.execute(
            select(cosigned_checkpoints.c.note)
            .where(cosigned_checkpoints.c.log == "ru")
            .order_by(cosigned_checkpoints.c.size.desc())
            .limit(1)
        ).scalar_one()
    statement = sign(
        {
            "v": 1,
            "type": "recovery",
            "id": str(uuid.uuid4()),
            "party": "ru",
            "peer": "us",
            "at": pair.ru.line.now(),
            "restored": {"size": 0, "root": "0" * 64},
            "cosigned_before": last,
            "recovered": {"inbound": [], "outbound": [], "resealed": []},
            "heads": {"in": {"seq": 0, "hash": "0" * 64}, "out": {"seq": 0, "hash": "0" * 64}},
            "lost": "nothing, really",
            "key": pair.ru.identity.fingerprint,
        },
        pair.ru.identity.key,
    )
    leaves = [canonical(statement)]
    note = sign_note(
        Checkpoint(origin("ru"), 1, merkle.root(leaves)).body(), origin("ru"), pair.ru.identity.key
    )
    return {
        "checkpoint": note,
        "base_size": 0,
        "proof": [],
        "statement": statement,
        "index": 0,
        "inclusion": [],
    }


def test_a_peer_never_rolled_back_cannot_have_its_history_set_aside(pair: Pair) -> None:
    talk(pair)
    assert pair.ru.evidence.exchange("us")[0]["ok"]
    talk(pair)
    assert pair.ru.evidence.exchange("us")[0]["ok"]  # us co-signed ru's log twice
    with pair.us.db.read() as conn:
        assert [] == recovery_store.retired(conn, "ru")
    assert [] == pair.us.evidence.forks()  # no rollback was ever seen of ru
    body = forged_epoch(pair)
    with pytest.raises(HotlineError):
        pair.us.recovery_desk.cosign(body)
    with pair.us.db.read() as conn:
        retired = recovery_store.retired(conn, "ru")
        kept = conn.execute(
            select(func.count())
            .select_from(cosigned_checkpoints)
            .where(cosigned_checkpoints.c.log == "ru")
        ).scalar_one()
    assert ([], 2) == (retired, kept)
