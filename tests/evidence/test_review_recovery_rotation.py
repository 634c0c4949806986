"""Hostile review: recovery after a restore when the peer rotated its key in the part
that was lost. The copies are genuine (each envelope signed by the key us held when it
signed it, the rotation itself among them), but the restored node checks every copy
against the key it pins *now* (the old one, restored) and refuses the whole page, at
every try: the restored node never recovers and the channel stays broken."""

from __future__ import annotations

import uuid

from hotline.services.line import keys as key_changes
from hotline.services.line.identity import Identity
from hotline.storage import peers
from hotline.testing import DB_PREFIX, DatabaseFactory
from tests.conftest import Pair
from tests.evidence.test_recovery import backup_db, restore_db, talk


def test_a_restored_node_recovers_across_the_peers_key_rotation(
    pair: Pair, databases: DatabaseFactory
) -> None:
    talk(pair)
    assert pair.ru.evidence.exchange("us")[0]["ok"]
    name = f"{DB_PREFIX}{databases.run_id}_ru_copy_{uuid.uuid4().hex[:6]}"
    copy_of = backup_db(databases, pair.ru, name)
    old_fp = pair.us.identity.fingerprint
    key_changes.rotate_own(pair.us.line, pair.us.settings.key_path)
    identity = Identity.from_settings(pair.us.settings)
    pair.us.identity = pair.us.line.identity = pair.us.evidence.identity = identity
    sent = pair.us.line.send(to="ru", text="after the rotation", user="duty1")
    pair.flush()
    assert "delivered" == pair.us.line.show(sent["id"])["state"]
    restore_db(databases, pair.ru, copy_of)
    with pair.ru.db.read() as conn:
        row = peers.get(conn, "us")
    assert row is not None and old_fp == row.fingerprint  # the restored pin

    pair.ru.recovery.tick()  # the job, as the active process runs it
    error = (pair.ru.recovery.last.get("us") or {}).get("error")
    texts = [m["body"].get("text", m["type"]) for m in pair.ru.line.listing("in", limit=50)]
    assert (None, True) == (error, "after the rotation" in texts)
