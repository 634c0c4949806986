"""Deadlines read through ``messages.due_at``: set when a message that needs a person's
acknowledgement is queued, moved on by each escalation step, cleared by the
acknowledgement; the migration that adds it backfills the messages still open."""

from __future__ import annotations

from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import select, update

from hotline.storage.db import MIGRATIONS
from hotline.storage.tables.core import messages
from tests.conftest import Pair


def due(pair: Pair, message_id: str) -> str | None:
    with pair.us.db.read() as conn:
        value = conn.execute(select(messages.c.due_at).where(messages.c.id == message_id))
        return value.scalar()


def test_due_at_follows_the_deadline_and_ends_with_the_acknowledgement(
    pair: Pair, clock: Any
) -> None:
    flash = pair.us.line.send(to="ru", text="x", precedence="FLASH", user="o")
    routine = pair.us.line.send(to="ru", text="y", precedence="ROUTINE", user="o")
    test = pair.us.links.send_test("ru")
    pair.flush()
    assert flash["deadline"] == due(pair, flash["id"])
    assert routine["deadline"] == due(pair, routine["id"])
    assert due(pair, test["message_id"]) is None  # a machine message: no deadline

    clock.advance(601)
    pair.us.deadlines.tick()  # no contacts: the alarm, the ladder ends, look again later
    assert "ack_overdue" == pair.us.alarms.listing("open")[0]["kind"]
    later = due(pair, flash["id"])
    assert later is not None and later > flash["deadline"]

    pair.ru.line.acknowledge(flash["id"], "duty")
    pair.ru.line.acknowledge(routine["id"], "duty")
    pair.flush()
    assert (None, None) == (due(pair, flash["id"]), due(pair, routine["id"]))
    assert [] == pair.us.alarms.listing("open")


def test_a_due_at_left_behind_is_cleared_by_the_next_tick(pair: Pair, clock: Any) -> None:
    sent = pair.us.line.send(to="ru", text="x", precedence="FLASH", user="o")
    pair.flush()
    pair.ru.line.acknowledge(sent["id"], "duty")
    pair.flush()
    with pair.us.db.write() as conn:  # as if acknowledged by a path that does not clear it
        conn.execute(update(messages).where(messages.c.id == sent["id"]).values(due_at="0"))
    pair.us.deadlines.tick()
    assert due(pair, sent["id"]) is None
    assert [] == pair.us.alarms.listing()


def _config(pair: Pair, conn: Any) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = conn
    return config


def test_the_migration_backfills_the_open_messages_and_they_escalate_on_time(
    pair: Pair, clock: Any
) -> None:
    open_ = pair.us.line.send(to="ru", text="open", precedence="FLASH", user="o")
    legacy = pair.us.line.send(to="ru", text="legacy", precedence="FLASH", user="o")
    acked = pair.us.line.send(to="ru", text="acked", precedence="FLASH", user="o")
    pair.flush()
    pair.ru.line.acknowledge(acked["id"], "duty")
    pair.flush()
    with pair.us.db.engine.begin() as conn:
        command.downgrade(_config(pair, conn), "due_at@-1")
    with pair.us.db.write() as conn:  # an envelope from before ``ack_by`` existed
        row = conn.execute(select(messages.c.envelope).where(messages.c.id == legacy["id"]))
        old = row.scalar_one().replace(f'"ack_by":"{legacy["deadline"]}",', "")
        assert "ack_by" not in old
        conn.execute(update(messages).where(messages.c.id == legacy["id"]).values(envelope=old))
    with pair.us.db.engine.begin() as conn:
        command.upgrade(_config(pair, conn), "heads")

    assert open_["deadline"] == due(pair, open_["id"])
    assert legacy["created"] == due(pair, legacy["id"])  # looked at once, then moved on
    assert due(pair, acked["id"]) is None

    pair.us.deadlines.tick()  # the legacy one is not overdue: it is moved to its deadline
    assert [] == pair.us.alarms.listing()
    assert legacy["deadline"] == due(pair, legacy["id"])
    clock.advance(599)
    pair.us.deadlines.tick()
    assert [] == pair.us.alarms.listing()
    clock.advance(1)
    pair.us.deadlines.tick()
    overdue = {a["subject"] for a in pair.us.alarms.listing("open")}
    assert {open_["id"], legacy["id"]} == overdue
