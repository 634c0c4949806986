"""The line between two in-process nodes over real HTTP: delivery, receipts, acks, refusals."""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from hotline.domain.line import Envelope, Receipt
from hotline.errors import NotFound, ValidationError
from hotline.protocol import keys
from hotline.protocol.envelope import parse, seal, verify_signature
from hotline.storage import log
from hotline.storage.tables.core import log_entries, messages
from tests.conftest import Pair


def stored(node: Any) -> tuple[int, int, list[Any]]:
    """What a node holds: message count, log size, and every message row."""
    with node.db.read() as conn:
        count = conn.execute(select(func.count()).select_from(messages)).scalar_one()
        rows = [tuple(r) for r in conn.execute(select(messages).order_by(messages.c.id))]
        return int(count), log.head(conn).size, rows


def post(pair: Pair, to: str, body: bytes | dict[str, Any]) -> httpx.Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return pair.http.post(
        pair.servers[to].url + "/federation/v1/envelopes",
        content=content,
        headers={"content-type": "application/json"},
    )


def outbound_wire(pair: Pair, message_id: str) -> dict[str, Any]:
    with pair.us.db.read() as conn:
        row = conn.execute(select(messages.c.envelope).where(messages.c.id == message_id)).one()
    return dict(json.loads(row[0]))


def test_a_message_is_delivered_with_a_verifiable_receipt(pair: Pair) -> None:
    sent = pair.us.line.send(to="ru", text="Test of the line", precedence="FLASH", user="officer")
    assert "queued" == sent["state"]
    outcome = pair.deliver("us", "ru")
    assert outcome is not None and 1 == outcome.delivered

    shown = pair.us.line.show(sent["id"])
    assert "delivered" == shown["state"]
    receipt = parse(shown["receipt"], Receipt)
    verify_signature(receipt, pair.ru.identity.key.public_key())
    assert shown["hash"] == receipt.envelope_hash
    assert ["created", "delivered"] == [step["kind"] for step in shown["trail"]]

    inbox = pair.ru.line.listing("in")
    assert [(sent["id"], "received", "Test of the line")] == [
        (m["id"], m["state"], m["body"]["text"]) for m in inbox
    ]


def test_an_acknowledgement_travels_back_signed(pair: Pair) -> None:
    sent = pair.us.line.send(to="ru", text="Acknowledge", precedence="FLASH", user="officer")
    pair.flush()
    acked = pair.ru.line.acknowledge(sent["id"], "ofitser")
    assert "acknowledged" == acked["state"]
    pair.flush()
    shown = pair.us.line.show(sent["id"])
    assert ("acknowledged", "ru:ofitser") == (shown["state"], shown["acked_by"])
    assert ["created", "delivered", "acknowledged"] == [s["kind"] for s in shown["trail"]]
    ack_envelope = pair.ru.line.show(acked["ack_message_id"])["envelope"]
    verify_signature(parse(ack_envelope, Envelope), pair.ru.identity.key.public_key())


def test_a_late_acknowledgement_is_recorded_with_its_time(pair: Pair, clock: Any) -> None:
    sent = pair.us.line.send(to="ru", text="Late", precedence="FLASH", user="officer")
    pair.flush()
    clock.advance(timedelta(hours=2))
    expected_time = pair.ru.line.now()
    pair.ru.line.acknowledge(sent["id"], "ofitser")
    pair.flush()
    assert expected_time == pair.us.line.show(sent["id"])["acked_at"]


def test_acknowledging_twice_keeps_the_first(pair: Pair, clock: Any) -> None:
    sent = pair.us.line.send(to="ru", text="Once", user="officer")
    pair.flush()
    first = pair.ru.line.acknowledge(sent["id"], "ofitser")
    clock.advance(60)
    second = pair.ru.line.acknowledge(sent["id"], "other")
    assert (first["acked_at"], "ofitser") == (second["acked_at"], second["acked_by"])


def test_order_is_kept_across_many_messages(pair: Pair) -> None:
    ids = [pair.us.line.send(to="ru", text=f"m{i}", user="o")["id"] for i in range(150)]
    pair.flush()
    received = sorted(pair.ru.line.listing("in", limit=500), key=lambda m: m["seq"])
    assert ids == [m["id"] for m in received]
    assert list(range(1, 151)) == [m["seq"] for m in received]


def test_sending_with_the_same_client_ref_queues_once(pair: Pair) -> None:
    first = pair.us.line.send(to="ru", text="x", user="o", client_ref="ref-1")
    again = pair.us.line.send(to="ru", text="x", user="o", client_ref="ref-1")
    assert first["id"] == again["id"]
    assert 1 == len(pair.us.line.listing("out"))


def test_sending_to_an_unknown_peer_is_refused(pair: Pair) -> None:
    with pytest.raises(NotFound) as caught:
        pair.us.line.send(to="ua", text="x", user="o")
    assert "ua" in caught.value.message
    assert 0 == stored(pair.us)[0]


def test_an_empty_text_is_refused_naming_the_field(pair: Pair) -> None:
    with pytest.raises(ValidationError) as caught:
        pair.us.line.send(to="ru", text="", user="o")
    assert "body.text" in caught.value.message


def test_a_duplicate_delivery_gets_the_same_receipt_and_is_stored_once(pair: Pair) -> None:
    sent = pair.us.line.send(to="ru", text="twice", user="o")
    wire = outbound_wire(pair, sent["id"])
    first = post(pair, "ru", {"envelopes": [wire]})
    second = post(pair, "ru", {"envelopes": [wire]})
    assert (200, 200) == (first.status_code, second.status_code)
    assert first.json()["receipts"] == second.json()["receipts"]
    assert 1 == len(pair.ru.line.listing("in"))


def test_failover_to_the_second_endpoint(pair: Pair) -> None:
    dead = "http://127.0.0.1:9"  # discard port: nothing listens
    card = replace(pair.ru.identity, endpoints=(dead, pair.servers["ru"].url)).card()
    pair.us.add_peer(card.wire())
    sent = pair.us.line.send(to="ru", text="via the second route", user="o")
    outcome = pair.deliver("us", "ru")
    assert outcome is not None and 1 == outcome.delivered
    delivered = pair.us.line.show(sent["id"])["trail"][-1]
    assert pair.servers["ru"].url == delivered["detail"]["endpoint"]
    assert delivered["detail"]["failed_endpoints"][0].startswith(dead)


def test_an_unreachable_peer_leaves_the_message_queued_with_the_attempt_recorded(
    pair: Pair,
) -> None:
    card = replace(pair.ru.identity, endpoints=("http://127.0.0.1:9",)).card()
    pair.us.add_peer(card.wire())
    sent = pair.us.line.send(to="ru", text="nobody home", user="o")
    outcome = pair.deliver("us", "ru")
    assert outcome is not None and outcome.error and 0 == outcome.delivered
    shown = pair.us.line.show(sent["id"])
    assert ("sent", 1) == (shown["state"], shown["attempts"])
    assert "attempt_failed" == shown["trail"][-1]["kind"]


# -- refusals: each has its own code and a message; nothing stored changes ----------------


def forged(pair: Pair, **changes: Any) -> dict[str, Any]:
    """An envelope from us to ru, correctly signed after ``changes`` unless told otherwise."""
    unsigned: dict[str, Any] = {
        "v": 1,
        "id": str(uuid.uuid4()),
        "from": "us",
        "to": "ru",
        "seq": 1,
        "prev": "0" * 64,
        "created": pair.us.line.now(),
        "precedence": "ROUTINE",
        "type": "text",
        "lang": "en",
        "body": {"text": "hello"},
        "key": pair.us.identity.fingerprint,
    }
    signer = changes.pop("signer", pair.us.identity.key)
    unsigned.update(changes.pop("sign", {}))
    wire = seal(unsigned, signer, Envelope).wire()
    wire.update(changes)
    return wire


def _later(pair: Pair, seconds: int) -> str:
    from hotline.clock import rfc3339

    return rfc3339(pair.us.clock.now() + timedelta(seconds=seconds))


REFUSALS: dict[str, tuple[int, str]] = {
    "bad_signature": (403, "signature"),
    "unknown_key": (403, "pinned"),
    "unknown_party": (403, "not pinned"),
    "wrong_recipient": (421, "addressed to"),
    "seq_gap": (409, "next expected is 1"),
    "prev_mismatch": (409, "prev"),
    "clock_skew_future": (400, "in the future"),
    "clock_skew_old": (400, "older than"),
    "too_large": (413, "limit"),
    "malformed_json": (400, "not valid JSON"),
    "malformed_field": (400, "seq"),
    "float": (400, "floating-point"),
    "unknown_type": (400, "unknown message type"),
    "replay_conflict": (409, "already used"),
    "ack_by_before_created": (400, "before it was created"),
}


def refusal_body(pair: Pair, case: str) -> bytes | dict[str, Any]:
    stranger = keys.from_seed(bytes([7]) * 32)
    envelopes: dict[str, Any] = {
        "bad_signature": lambda: forged(pair, body={"text": "changed"}),
        "unknown_key": lambda: forged(
            pair, signer=stranger, sign={"key": keys.fingerprint(stranger.public_key())}
        ),
        "unknown_party": lambda: forged(pair, sign={"from": "ua"}),
        "wrong_recipient": lambda: forged(pair, sign={"to": "ua"}),
        "seq_gap": lambda: forged(pair, sign={"seq": 3}),
        "prev_mismatch": lambda: forged(pair, sign={"prev": "1" * 64}),
        "clock_skew_future": lambda: forged(pair, sign={"created": _later(pair, 3600)}),
        "clock_skew_old": lambda: forged(pair, sign={"created": _later(pair, -30 * 86400)}),
        "too_large": lambda: forged(pair, sign={"body": {"text": "x" * 300_000}}),
        "malformed_field": lambda: forged(pair, seq="one"),
        "unknown_type": lambda: forged(pair, sign={"type": "gossip"}),
        "ack_by_before_created": lambda: forged(pair, sign={"ack_by": _later(pair, -60)}),
    }
    if case == "malformed_json":
        return b'{"envelopes": [{"v": 1,'
    if case == "float":
        return b'{"envelopes": [{"v": 1.0}]}'
    if case == "replay_conflict":
        first = forged(pair)
        assert 200 == post(pair, "ru", {"envelopes": [first]}).status_code
        return {"envelopes": [forged(pair, sign={"id": first["id"], "body": {"text": "other"}})]}
    return {"envelopes": [envelopes[case]()]}


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_refusals_have_their_own_code_and_change_nothing(pair: Pair, case: str) -> None:
    body = refusal_body(pair, case)
    before = stored(pair.ru)
    response = post(pair, "ru", body)
    status, words = REFUSALS[case]
    error = response.json()["error"]
    expected_code = {
        "unknown_party": "unknown_key",
        "malformed_json": "malformed",
        "malformed_field": "malformed",
        "float": "malformed",
        "unknown_type": "malformed",
        "clock_skew_future": "clock_skew",
        "clock_skew_old": "clock_skew",
        "ack_by_before_created": "malformed",
    }.get(case, case)
    assert (status, expected_code) == (response.status_code, error["code"])
    assert words in error["message"]
    assert [] == response.json()["receipts"]
    assert before == stored(pair.ru)


def test_a_batch_stops_at_the_first_refusal_and_keeps_what_came_before(pair: Pair) -> None:
    first = pair.us.line.send(to="ru", text="one", user="o")
    second = pair.us.line.send(to="ru", text="two", user="o")
    good, bad = outbound_wire(pair, first["id"]), outbound_wire(pair, second["id"])
    bad["body"] = {"text": "tampered"}
    response = post(pair, "ru", {"envelopes": [good, bad]})
    assert 200 == response.status_code
    assert 1 == len(response.json()["receipts"])
    assert ("bad_signature", 1) == (
        response.json()["error"]["code"],
        response.json()["error"]["context"]["index"],
    )
    assert [first["id"]] == [m["id"] for m in pair.ru.line.listing("in")]


def logged(node: Any) -> list[tuple[str, str]]:
    """The node's Merkle log in order: (kind, id of the message the entry concerns)."""
    with node.db.read() as conn:
        rows = conn.execute(
            select(log_entries.c.kind, log_entries.c.ref).order_by(log_entries.c.idx)
        )
        return [(str(kind), str(ref)) for kind, ref in rows]


def test_a_message_and_its_acknowledgement_are_logged_once_each_on_both_sides(
    pair: Pair,
) -> None:
    sent = pair.us.line.send(to="ru", text="Log me", user="officer")
    pair.flush()
    ack_id = pair.ru.line.acknowledge(sent["id"], "ofitser")["ack_message_id"]
    pair.flush()
    message, ack = sent["id"], ack_id

    assert [
        ("envelope_out", message),
        ("receipt_in", message),
        ("envelope_in", ack),
        ("receipt_out", ack),
    ] == logged(pair.us)
    assert [
        ("envelope_in", message),
        ("receipt_out", message),
        ("envelope_out", ack),
        ("receipt_in", ack),
    ] == logged(pair.ru)

    # each envelope delivered again (a lost answer, a restarted sender): not logged twice
    before = (logged(pair.us), logged(pair.ru))
    again_to_ru = post(pair, "ru", {"envelopes": [outbound_wire(pair, message)]})
    ack_wire = pair.ru.line.show(ack)["envelope"]
    again_to_us = post(pair, "us", {"envelopes": [ack_wire]})
    assert (200, 200) == (again_to_ru.status_code, again_to_us.status_code)
    assert (1, 1) == (
        len(again_to_ru.json()["receipts"]),
        len(again_to_us.json()["receipts"]),
    )
    assert before == (logged(pair.us), logged(pair.ru))
