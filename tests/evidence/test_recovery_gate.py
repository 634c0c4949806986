"""The peer's side of recovery co-signs a new epoch only once per rollback it holds
evidence of, and only with the restored node's heads as it sees them."""

from __future__ import annotations

import uuid

import pytest

from hotline.errors import Conflict, LogFork
from hotline.storage import recovery as recovery_store
from hotline.testing import DB_PREFIX, DatabaseFactory
from tests.conftest import Pair
from tests.evidence.test_recovery import backup_db, restore_db, talk
from tests.evidence.test_review_recovery_abuse import forged_epoch


def test_a_rollback_is_recovered_once_and_only_with_the_true_heads(
    pair: Pair, databases: DatabaseFactory
) -> None:
    talk(pair)
    assert pair.ru.evidence.exchange("us")[0]["ok"]
    name = f"{DB_PREFIX}{databases.run_id}_ru_copy_{uuid.uuid4().hex[:6]}"
    copy_of = backup_db(databases, pair.ru, name)
    talk(pair)
    assert pair.ru.evidence.exchange("us")[0]["ok"]
    restore_db(databases, pair.ru, copy_of)
    assert not pair.ru.evidence.exchange("us")[0]["ok"]  # us keeps the rollback
    with pytest.raises(Conflict):  # heads at 0: not what us holds of the channels
        pair.us.recovery_desk.cosign(forged_epoch(pair))
    with pair.us.db.read() as conn:
        assert [] == recovery_store.retired(conn, "ru")
    assert pair.ru.recovery.run("us")["epoch"]["cosigned"] is not None
    with pair.us.db.read() as conn:
        retired = len(recovery_store.retired(conn, "ru"))
    with pytest.raises(LogFork):  # the rollback is answered: nothing left to recover
        pair.us.recovery_desk.cosign(forged_epoch(pair))
    with pair.us.db.read() as conn:
        assert retired == len(recovery_store.retired(conn, "ru"))
    assert ["recovered", "rollback"] == [f["kind"] for f in pair.us.evidence.forks()][:2]
