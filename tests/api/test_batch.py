"""``POST /api/v1/messages/batch``: many messages in one request and one transaction, each
its own signed, chained envelope; all or nothing; idempotent per item; FLASH never passes
the two-person rule through it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import event

from hotline.domain.line import Envelope
from hotline.protocol.envelope import envelope_hash, parse, verify_signature
from hotline.testing import HTTP_TIMEOUT_S
from tests.conftest import MakeNode, MakePair, Pair, token
from tests.services.test_line import stored


def client(pair: Pair) -> httpx.Client:
    bearer = token(pair.us)
    return httpx.Client(
        base_url=pair.servers["us"].url,
        headers={"Authorization": f"Bearer {bearer}"},
        timeout=HTTP_TIMEOUT_S,
    )


@pytest.fixture
def served(pair: Pair) -> Iterator[tuple[Pair, httpx.Client]]:
    with client(pair) as http:
        yield pair, http


def batch(texts: list[str], **extra: Any) -> dict[str, Any]:
    return {"messages": [{"to": "ru", "text": t, **extra} for t in texts]}


def _writes(pair: Pair) -> list[str]:
    """ "insert" for every message row inserted, "commit" for every commit, in order."""
    seen: list[str] = []
    engine = pair.us.db.engine
    event.listen(engine, "commit", lambda _conn: seen.append("commit"))

    def statement(_conn: Any, _cursor: Any, sql: str, *_rest: Any) -> None:
        if sql.startswith("INSERT INTO messages "):
            seen.append("insert")

    event.listen(engine, "before_cursor_execute", statement)
    return seen


def test_a_batch_is_one_commit_of_signed_chained_envelopes_delivered_in_order(
    served: tuple[Pair, httpx.Client],
) -> None:
    pair, http = served
    writes = _writes(pair)
    answer = http.post("/api/v1/messages/batch", json=batch([f"m{i}" for i in range(20)]))
    assert 201 == answer.status_code, answer.text
    sent = answer.json()["messages"]
    assert [f"m{i}" for i in range(20)] == [m["body"]["text"] for m in sent]
    assert list(range(1, 21)) == [m["seq"] for m in sent]
    inserts = [i for i, seen in enumerate(writes) if seen == "insert"]
    assert 20 == len(inserts)
    assert "commit" not in writes[inserts[0] : inserts[-1]]  # all in one transaction
    previous = None
    key = pair.us.identity.key.public_key()
    for message in sent:  # each envelope signed, and chained to the one before it
        envelope = parse(pair.us.show(message["id"])["envelope"], Envelope)
        verify_signature(envelope, key)
        if previous is not None:
            assert previous == envelope.prev
        previous = envelope_hash(envelope)
    pair.flush()
    received = sorted(pair.ru.line.listing("in"), key=lambda m: m["seq"])
    assert [m["id"] for m in sent] == [m["id"] for m in received]


def test_a_bad_item_refuses_the_whole_batch_naming_it(served: tuple[Pair, httpx.Client]) -> None:
    pair, http = served
    before = stored(pair.us)
    items = batch(["one", "two", "three"])
    items["messages"][2]["to"] = "xx"  # no such peer
    answer = http.post("/api/v1/messages/batch", json=items)
    assert (404, "not_found", 2) == (
        answer.status_code,
        answer.json()["error"]["code"],
        answer.json()["error"]["context"]["item"],
    )
    assert answer.json()["error"]["message"].startswith("item 2: ")
    items = batch(["one", "two"], lang="ru")
    items["messages"][1]["text"] = ""
    answer = http.post("/api/v1/messages/batch", json=items)
    assert 422 == answer.status_code
    assert before == stored(pair.us)  # nothing at all was queued


def test_client_refs_make_each_item_idempotent(served: tuple[Pair, httpx.Client]) -> None:
    pair, http = served
    items = {
        "messages": [
            {"to": "ru", "text": "a", "client_ref": "r-a"},
            {"to": "ru", "text": "b"},
            {"to": "ru", "text": "a", "client_ref": "r-a"},  # the same, within the batch
        ]
    }
    first = http.post("/api/v1/messages/batch", json=items).json()["messages"]
    assert first[0]["id"] == first[2]["id"] != first[1]["id"]
    single = http.post("/api/v1/messages", json={"to": "ru", "text": "a", "client_ref": "r-a"})
    assert first[0]["id"] == single.json()["id"]  # the same idempotency as a single send
    again = http.post("/api/v1/messages/batch", json={"messages": [items["messages"][0]]})
    assert first[0]["id"] == again.json()["messages"][0]["id"]
    outbox = [m for m in pair.us.line.listing("out") if m["type"] == "text"]
    assert 2 == len(outbox)


def test_flash_in_a_batch_is_refused_while_it_needs_a_second_person(
    served: tuple[Pair, httpx.Client],
) -> None:
    pair, http = served
    before = stored(pair.us)
    items = batch(["routine", "flash"])
    items["messages"][1]["precedence"] = "FLASH"
    answer = http.post("/api/v1/messages/batch", json=items)
    assert (403, "forbidden", 1) == (
        answer.status_code,
        answer.json()["error"]["code"],
        answer.json()["error"]["context"]["item"],
    )
    assert before == stored(pair.us)  # nothing queued
    assert [] == pair.us.held.listing(None)  # nor held behind the rule's back


def test_without_the_two_person_rule_flash_goes_in_a_batch(make_pair: MakePair) -> None:
    with make_pair(us={"flash_two_person": False}) as pair, client(pair) as http:
        items = batch(["flash"], precedence="FLASH")
        answer = http.post("/api/v1/messages/batch", json=items)
        assert 201 == answer.status_code, answer.text
        assert "FLASH" == answer.json()["messages"][0]["precedence"]


def test_the_batch_size_is_bounded(make_pair: MakePair) -> None:
    with make_pair(us={"max_batch_messages": 3}) as pair, client(pair) as http:
        before = stored(pair.us)
        answer = http.post("/api/v1/messages/batch", json=batch(["a", "b", "c", "d"]))
        assert (422, "invalid") == (answer.status_code, answer.json()["error"]["code"])
        assert "at most 3" in answer.json()["error"]["message"]
        assert before == stored(pair.us)
        assert 201 == http.post("/api/v1/messages/batch", json=batch(["a", "b", "c"])).status_code
        empty = http.post("/api/v1/messages/batch", json={"messages": []})
        assert 422 == empty.status_code


def test_batches_to_several_peers_in_any_order_never_deadlock(make_node: MakeNode) -> None:
    """Each batch locks its channels in one order (the peers' names), whatever the order
    of its items: two batches naming the same peers the other way round wait for each
    other, never deadlock (PostgreSQL would refuse one of them)."""
    us, ru, ua = make_node("us"), make_node("ru"), make_node("ua")
    for peer in (ru, ua):
        us.add_peer(peer.identity.card().wire())
        # the channel's row exists (two first sends at once race to create it: not this)
        us.line.send(to=peer.identity.party, text="first", user="o")
    failed: list[BaseException] = []

    def send(order: list[str]) -> None:
        try:
            for round_ in range(15):
                items = [{"to": to, "text": f"{round_}"} for to in order * 3]
                us.line.send_many(items, user="o")
        except BaseException as exc:
            failed.append(exc)

    threads = [threading.Thread(target=send, args=(o,)) for o in (["ru", "ua"], ["ua", "ru"])]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert [] == failed
    assert 2 + 2 * 15 * 6 == len(us.line.listing("out", limit=1000))
