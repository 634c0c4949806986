"""A log rewritten in the database is caught at the next checkpoint exchange.

Three forgers, from clumsy to thorough. Each test damages both nodes' logs, one way on
``us`` and another on ``ru``, after both logs were co-signed at size 4:

- the clumsy one edits an entry's bytes or removes a row and leaves everything else:
  the node itself sees its entries no longer add up, refuses to sign, keeps the evidence;
- the careful one also recomputes leaf hashes and ``log_state``: the node sees the log
  contradicts the checkpoints it signed before, and refuses;
- the thorough one also wipes the node's own record of those checkpoints: the node signs,
  and the peer, which kept its co-signed copy, refuses and keeps the evidence.
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from hotline.cli.main import app
from hotline.errors import LogFork
from hotline.node import Node
from tests.conftest import Pair, token
from tests.evidence.conftest import (
    converse,
    edit_entry,
    forget_checkpoints,
    rebuild_state,
    remove_entry,
)


@pytest.fixture
def cosigned(pair: Pair) -> Pair:
    """A pair whose logs (4 entries each) are co-signed both ways."""
    converse(pair)
    assert [True] == [r["ok"] for r in pair.us.evidence.exchange()]
    assert [True] == [r["ok"] for r in pair.ru.evidence.exchange()]
    return pair


def refusal(node: Node) -> str:
    with pytest.raises(LogFork) as caught:
        node.evidence.exchange()
    return caught.value.message


def kinds(node: Node) -> list[tuple[str, str]]:
    return [(row["log"], row["kind"]) for row in node.evidence.forks()]


def test_an_edited_entry_or_a_removed_row_is_refused_by_the_node_itself(cosigned: Pair) -> None:
    pair = cosigned
    edit_entry(pair.us, 1, rehash=False)
    remove_entry(pair.ru, 2, renumber=False)

    assert "entry 1 (receipt_in of " in refusal(pair.us)
    assert "its bytes no longer hash to the leaf hash stored beside them" in refusal(pair.us)
    assert "entry 2 is missing (the next stored entry is 3)" in refusal(pair.ru)

    assert [("us", "damaged")] == kinds(pair.us)  # kept once, however often it is refused
    assert [("ru", "damaged")] == kinds(pair.ru)
    open_alarms = pair.us.alarms.listing("open") + pair.ru.alarms.listing("open")
    assert [("log_fork", "us"), ("log_fork", "ru")] == [
        (a["kind"], a["subject"]) for a in open_alarms
    ]
    assert 4 == pair.us.evidence.state()["last_cosigned"]["size"]  # nothing new was signed


def test_a_log_rewritten_consistently_contradicts_what_the_node_signed_and_is_refused(
    cosigned: Pair,
) -> None:
    pair = cosigned
    edit_entry(pair.us, 0, rehash=True)
    rebuild_state(pair.us)
    remove_entry(pair.ru, 3, renumber=True)
    rebuild_state(pair.ru)

    assert "the first 4 entries no longer hash to the root of the checkpoint" in refusal(pair.us)
    ru_says = refusal(pair.ru)
    assert "a checkpoint at size 4 was signed by this node on 2026-11-21T14:30:00.000Z" in ru_says
    assert "but the log now holds only 3 entries (a rollback)" in ru_says
    assert [("us", "damaged")] == kinds(pair.us)
    assert [("ru", "damaged")] == kinds(pair.ru)


def test_a_log_rewritten_with_the_nodes_memory_wiped_is_caught_by_the_peer(
    cosigned: Pair,
) -> None:
    pair = cosigned
    edit_entry(pair.us, 0, rehash=True)
    rebuild_state(pair.us)
    forget_checkpoints(pair.us)
    pair.us.line.send(to="ru", text="Written after the rewrite", user="duty1")  # size 5
    remove_entry(pair.ru, 3, renumber=True)
    rebuild_state(pair.ru)
    forget_checkpoints(pair.ru)

    us_outcome = pair.us.evidence.exchange()
    ru_outcome = pair.ru.evidence.exchange()
    assert [(False, "log_fork")] == [(r["ok"], r["error"]["code"]) for r in us_outcome]
    assert [(False, "log_fork")] == [(r["ok"], r["error"]["code"]) for r in ru_outcome]

    # ru checked us's consistency proof from what it co-signed (4) to 5: it fails
    fork = next(row for row in pair.ru.evidence.forks() if row["log"] == "us")
    assert ("fork", 4, 5) == (fork["kind"], fork["old_size"], fork["new_size"])
    assert "consistency proof from size 4 (which this node co-signed" in fork["detail"]
    assert (4, 5) == (fork["proof"]["old_size"], fork["proof"]["new_size"])
    assert fork["proof"]["hashes"] and fork["old_note"] != fork["new_note"]
    # us caught ru presenting a smaller log than the one it co-signed
    rollback = next(row for row in pair.us.evidence.forks() if row["log"] == "ru")
    assert ("rollback", 4, 3) == (rollback["kind"], rollback["old_size"], rollback["new_size"])
    # and each rewritten node was told: refused, kept as evidence against its own log;
    # us also got ru's copy of the checkpoint it signed at 4, which its log contradicts
    assert [("us", "refused"), ("us", "damaged")] == [k for k in kinds(pair.us) if k[0] == "us"]
    assert [("ru", "refused")] == [k for k in kinds(pair.ru) if k[0] == "ru"]


def test_the_cli_exchange_with_json_reports_a_damaged_log_as_json(cosigned: Pair) -> None:
    pair = cosigned
    token(pair.us, "duty1", "correct horse battery")
    edit_entry(pair.us, 1, rehash=False)
    runner = CliRunner(env={"HOTLINE_USER": "duty1", "HOTLINE_PASSWORD": "correct horse battery"})
    folder = str(pair.us.settings.directory)

    as_json = runner.invoke(app, ["evidence", "exchange", "--json", "--dir", folder])
    as_text = runner.invoke(app, ["evidence", "exchange", "--dir", folder])

    assert 1 == as_json.exit_code
    answer = json.loads(as_json.stdout)
    assert (False, [], "log_fork") == (answer["ok"], answer["results"], answer["error"]["code"])
    assert "entry 1 (receipt_in of " in answer["error"]["message"]
    assert (1, "") == (as_text.exit_code, as_text.stdout)
    assert "entry 1 (receipt_in of " in as_text.stderr
