"""Key rotation and compromise between two in-process nodes over real HTTP: a rotation
reaches the peer in its channel and is applied without a re-pin; a revocation waits for
an officer; signatures by a retired or revoked key after its time are refused; hostile
key changes are refused; evidence verifies against the key valid at each signature."""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from datetime import timedelta
from typing import Any

import httpx
import pytest

from hotline.clock import FakeClock, rfc3339
from hotline.domain.line import Envelope, Receipt
from hotline.errors import BadSignature, ConfigError, Conflict, KeyRevoked, UnknownKey
from hotline.node import Node
from hotline.protocol import keychange, keys
from hotline.protocol.envelope import seal
from hotline.services.evidence.bundle import export_bundle
from hotline.services.evidence.verify import verify_bundle
from hotline.services.line import keys as key_changes
from hotline.services.line.delivery import _check_receipt_at
from hotline.services.line.identity import Identity
from hotline.storage import evidence as evidence_store
from hotline.storage import messages as messages_store
from hotline.storage import peers
from tests.conftest import Pair


def restart_on_new_key(node: Node) -> None:
    """What a restart does for the signing key: load it from the key file again."""
    identity = Identity.from_settings(node.settings)
    node.identity = identity
    node.line.identity = identity
    node.evidence.identity = identity


def pinned(node: Node, party: str) -> str:
    with node.db.read() as conn:
        row = peers.get(conn, party)
    assert row is not None
    return row.fingerprint


def post(pair: Pair, to: str, envelope: dict[str, Any]) -> httpx.Response:
    return pair.http.post(
        pair.servers[to].url + "/federation/v1/envelopes",
        content=json.dumps({"envelopes": [envelope]}).encode(),
        headers={"content-type": "application/json"},
    )


def forged(node: Node, key: Any, fingerprint: str, created: str, seq: int = 1) -> dict[str, Any]:
    """An envelope from ``node``'s party to ru signed with ``key`` (named ``fingerprint``)."""
    unsigned = {
        "v": 1,
        "id": str(uuid.uuid4()),
        "from": node.identity.party,
        "to": "ru",
        "seq": seq,
        "prev": "0" * 64,
        "created": created,
        "precedence": "ROUTINE",
        "type": "text",
        "lang": "en",
        "body": {"text": "Stand down."},
        "key": fingerprint,
        "ack_by": created,
    }
    return seal(unsigned, key, Envelope).wire()


def received_texts(node: Node) -> list[str]:
    return [m["body"].get("text", m["type"]) for m in reversed(node.line.listing("in"))]


def test_a_rotation_is_applied_by_the_peer_and_messages_in_flight_arrive(pair: Pair) -> None:
    old_fp = pair.us.identity.fingerprint
    before = [pair.us.line.send(to="ru", text=f"before {i}", user="duty1") for i in range(3)]
    pair.deliver("us", "ru")  # some in flight are delivered, then more are queued
    before += [pair.us.line.send(to="ru", text=f"queued {i}", user="duty1") for i in range(2)]
    done = key_changes.rotate_own(pair.us.line, pair.us.settings.key_path)
    restart_on_new_key(pair.us)
    new_fp = pair.us.identity.fingerprint
    after = [pair.us.line.send(to="ru", text=f"after {i}", user="duty1") for i in range(2)]
    pair.flush()

    assert (["ru"], old_fp, new_fp) == (done.peers, done.change.old_key, done.change.new_key)
    assert new_fp == pinned(pair.ru, "us")  # applied without a re-pin
    expected = ["before 0", "before 1", "before 2", "queued 0", "queued 1", "key_change"]
    assert [*expected, "after 0", "after 1"] == received_texts(pair.ru)
    states = {pair.us.line.show(m["id"])["state"] for m in before + after}
    assert {"delivered"} == states  # each with its receipt
    history = key_changes.peer_history(pair.ru.line, "us")
    assert [(old_fp, "retired"), (new_fp, "current")] == [
        (k["fingerprint"], k["state"]) for k in history
    ]
    assert history[0]["valid_to"] == history[1]["valid_from"] == done.change.effective
    alarm = next(a for a in pair.ru.alarms.listing("open") if a["kind"] == "peer_key_changed")
    said = f"us rotated its key: {old_fp} → {new_fp} at {done.change.effective}"
    assert said == alarm["detail"]["reason"]
    assert ("us", old_fp, new_fp) == (
        alarm["subject"],
        alarm["detail"]["old_key"],
        alarm["detail"]["new_key"],
    )


def test_receipts_of_a_rotated_receiver_verify_at_the_sender(pair: Pair) -> None:
    key_changes.rotate_own(pair.ru.line, pair.ru.settings.key_path)
    restart_on_new_key(pair.ru)
    pair.deliver("ru", "us")  # the rotation reaches us first
    sent = pair.us.line.send(to="ru", text="After your rotation", user="duty1")
    pair.flush()
    shown = pair.us.line.show(sent["id"])
    assert ("delivered", pair.ru.identity.fingerprint) == (
        shown["state"],
        shown["receipt"]["key"],
    )


def test_an_envelope_signed_with_the_retired_key_after_the_rotation_is_refused(
    pair: Pair, clock: FakeClock
) -> None:
    old_key = pair.us.identity.key
    old_fp = pair.us.identity.fingerprint
    key_changes.rotate_own(pair.us.line, pair.us.settings.key_path)
    restart_on_new_key(pair.us)
    pair.flush()
    clock.advance(timedelta(seconds=60))
    stale = forged(pair.us, old_key, old_fp, rfc3339(clock.now()), seq=2)
    before = received_texts(pair.ru)
    answer = post(pair, "ru", stale).json()

    assert "key_revoked" == answer["error"]["code"]
    assert "retired" in answer["error"]["message"] and old_fp in answer["error"]["message"]
    assert [] == answer["receipts"] and before == received_texts(pair.ru)


def test_a_revocation_waits_for_the_officer_then_the_revoked_key_is_refused(
    pair: Pair, clock: FakeClock
) -> None:
    compromised, old_fp = pair.us.identity.key, pair.us.identity.fingerprint
    revoked_from = rfc3339(clock.now() - timedelta(minutes=5))
    done = key_changes.rotate_own(
        pair.us.line, pair.us.settings.key_path, revoked_from=revoked_from
    )
    restart_on_new_key(pair.us)
    new_fp = pair.us.identity.fingerprint
    sent = pair.us.line.send(to="ru", text="New key, same node", user="duty1")
    outcome = pair.deliver("us", "ru")

    # held, not applied: the old key is still the pinned one, the change waits
    assert outcome is not None and 0 == outcome.delivered
    assert outcome.error is not None and "key_change_pending" in outcome.error
    assert old_fp == pinned(pair.ru, "us")
    history = key_changes.peer_history(pair.ru.line, "us")
    assert [(new_fp, "pending")] == [(k["fingerprint"], k["state"]) for k in history]
    assert {"peer_key_pending"} <= {a["kind"] for a in pair.ru.alarms.listing("open")}
    assert [] == received_texts(pair.ru)

    with pytest.raises(Exception, match="no key change of us waiting"):
        pair.ru.db.transaction(lambda c: key_changes.confirm(c, "us", old_fp, "x"))
    spoken = keys.spoken_fingerprint(new_fp).lower()  # as read over the telephone
    now = pair.ru.line.now()
    pair.ru.db.transaction(
        lambda c: key_changes.confirm(c, "us", spoken, now, allow_plain_http=True)
    )
    pair.flush()

    assert new_fp == pinned(pair.ru, "us")
    assert ["key_change", "New key, same node"] == received_texts(pair.ru)
    assert "delivered" == pair.us.line.show(sent["id"])["state"]
    history = key_changes.peer_history(pair.ru.line, "us")
    assert [(old_fp, "revoked", revoked_from), (new_fp, "current", None)] == [
        (k["fingerprint"], k["state"], k["revoked_from"]) for k in history
    ]
    assert done.change.sig_old is None
    # the attacker, holding the compromised key, signs after the revocation time
    attack = forged(pair.us, compromised, old_fp, rfc3339(clock.now()), seq=3)
    answer = post(pair, "ru", attack).json()
    assert "key_revoked" == answer["error"]["code"]
    assert f"revoked from {revoked_from}" in answer["error"]["message"]
    assert ["key_change", "New key, same node"] == received_texts(pair.ru)


def _rotation_body(pair: Pair, **changes: Any) -> dict[str, Any]:
    old, new = pair.us.identity.key, keys.generate()
    card = replace(pair.us.identity, key=new).card()
    change = keychange.make_rotation(old, new, card, pair.us.line.now()).wire()
    return change | changes


def test_a_rotation_signed_by_the_new_key_only_is_refused(pair: Pair) -> None:
    body = _rotation_body(pair)
    new_only = {k: v for k, v in body.items() if k != "sig_old"}
    with pytest.raises(BadSignature, match="refused as a rotation"):
        keychange.open_change(new_only)
    self_signed = body | {"sig_old": body["sig_new"]}  # the new key signing for the old
    with pytest.raises(BadSignature, match="refused as a rotation"):
        keychange.open_change(self_signed)

    old_fp = pinned(pair.ru, "us")
    with pair.us.db.write() as conn:
        pair.us.line.enqueue(
            conn, to="ru", type_="key_change", body=self_signed, precedence="FLASH",
            lang="en", user=None,
        )  # fmt: skip
    outcome = pair.deliver("us", "ru")
    assert outcome is not None and 0 == outcome.delivered
    assert outcome.error is not None and "bad_signature" in outcome.error
    assert old_fp == pinned(pair.ru, "us") and [] == received_texts(pair.ru)


def test_a_change_chaining_from_an_unknown_key_is_refused(pair: Pair) -> None:
    stranger, new = keys.generate(), keys.generate()
    card = replace(pair.us.identity, key=new).card()
    body = keychange.make_rotation(stranger, new, card, pair.us.line.now()).wire()
    old_fp = pinned(pair.ru, "us")
    with pair.us.db.write() as conn:
        pair.us.line.enqueue(
            conn, to="ru", type_="key_change", body=body, precedence="FLASH",
            lang="en", user=None,
        )  # fmt: skip
    outcome = pair.deliver("us", "ru")
    assert outcome is not None and outcome.error is not None and "unknown_key" in outcome.error
    assert old_fp == pinned(pair.ru, "us") and [] == received_texts(pair.ru)
    # and in a key history: a change that does not chain back from the current key
    with pytest.raises(UnknownKey, match="does not chain"):
        keychange.history(old_fp, [body])


def _bundle(node: Node, message_id: str) -> bytes:
    return export_bundle(node.evidence, message_id)


def test_evidence_verifies_across_a_rotation(pair: Pair) -> None:
    first = pair.us.line.send(to="ru", text="Before the rotation", user="duty1")
    pair.flush()
    pair.ru.line.acknowledge(first["id"], "ofitser")
    pair.flush()
    pair.us.evidence.exchange()
    pair.ru.evidence.exchange()
    early = {"us": _bundle(pair.us, first["id"]), "ru": _bundle(pair.ru, first["id"])}

    for node in (pair.us, pair.ru):  # both rotate: every old signature is by an earlier key
        key_changes.rotate_own(node.line, node.settings.key_path)
        restart_on_new_key(node)
    pair.flush()
    later = pair.us.line.send(to="ru", text="After the rotation", user="duty1")
    pair.flush()
    pair.us.evidence.exchange()
    pair.ru.evidence.exchange()

    for raw in early.values():  # exported before, verified after: nothing changed in it
        assert [] == verify_bundle(raw).failed
    for node in (pair.us, pair.ru):  # exported after, covering the older message
        raw = _bundle(node, first["id"])
        verdict = verify_bundle(raw)
        assert ([], True) == (verdict.failed, verdict.complete)
        assert {"us", "ru"} == set(json.loads(raw)["key_changes"])
        assert 2 == sum(line.startswith("EARLIER KEY of") for line in verdict.proven)
        # the old key, trusted out of band, vouches for the new one by rotation
        old = json.loads(raw)["key_changes"]["us"][0]["old_key"]
        assert [] == [f for f in verify_bundle(raw, trusted=[old]).failed if "of us" in f]
    assert [] == verify_bundle(_bundle(pair.us, later["id"]), allow_uncosigned=True).failed


def test_key_alarms_and_messages_are_named_in_english_and_russian() -> None:
    from hotline.render.i18n import t
    from hotline.web.i18n import ALARM_LABELS, TYPE_LABELS

    label = TYPE_LABELS["key_change"]
    assert ("Signing key change", "Смена ключа подписи") == (t("en", label), t("ru", label))
    assert [
        ("The other side changed its signing key", "Другая сторона сменила ключ подписи"),
        (
            "The other side revoked its key: confirm the new fingerprint",
            "Другая сторона отозвала свой ключ: подтвердите новый отпечаток",
        ),
    ] == [
        (t("en", ALARM_LABELS[kind]), t("ru", ALARM_LABELS[kind]))
        for kind in ("peer_key_changed", "peer_key_pending")
    ]


def test_evidence_of_a_record_signed_by_a_revoked_key_after_its_revocation_fails(
    pair: Pair, clock: FakeClock
) -> None:
    good = pair.us.line.send(to="ru", text="Before the compromise", user="duty1")
    pair.flush()
    clock.advance(timedelta(minutes=10))
    revoked_from = rfc3339(clock.now() - timedelta(minutes=1))
    bad = pair.us.line.send(to="ru", text="Signed after the key was stolen", user="duty1")
    pair.flush()  # accepted: ru does not know yet
    old_fp = pair.us.identity.fingerprint
    key_changes.rotate_own(pair.us.line, pair.us.settings.key_path, revoked_from=revoked_from)
    restart_on_new_key(pair.us)
    pair.deliver("us", "ru")  # held
    new_fp = pair.us.identity.fingerprint
    now = pair.ru.line.now()
    pair.ru.db.transaction(
        lambda c: key_changes.confirm(c, "us", new_fp, now, allow_plain_http=True)
    )
    pair.flush()
    pair.us.evidence.exchange()
    pair.ru.evidence.exchange()

    for node in (pair.ru, pair.us):
        raw = _bundle(node, good["id"])  # signed with the old key before T: still proof
        assert [] == verify_bundle(raw).failed
        with pytest.raises(Conflict) as refused:
            _bundle(node, bad["id"])
        assert (
            f"envelope (entry {_index(node, bad['id'])}) was signed at "
            f"{pair.us.line.show(bad['id'])['created']} by the key {old_fp}, revoked from "
            f"{revoked_from} (compromised): it is not trusted"
        ) in refused.value.message


def _index(node: Node, message_id: str) -> int:
    """The position of the message's envelope in ``node``'s log."""
    with node.db.read() as conn:
        found = evidence_store.entries_for(conn, message_id)
    return next(e.idx for e in found if e.kind.startswith("envelope"))


def test_a_receipt_signed_by_a_revoked_key_after_its_revocation_is_refused(
    pair: Pair, clock: FakeClock
) -> None:
    sent = pair.us.line.send(to="ru", text="Receipt wanted", user="duty1")
    compromised, old_fp = pair.ru.identity.key, pair.ru.identity.fingerprint
    revoked_from = rfc3339(clock.now() - timedelta(minutes=1))
    key_changes.rotate_own(pair.ru.line, pair.ru.settings.key_path, revoked_from=revoked_from)
    restart_on_new_key(pair.ru)
    pair.deliver("ru", "us")  # held at us until its officer confirms
    now = pair.us.line.now()
    new_fp = pair.ru.identity.fingerprint
    pair.us.db.transaction(
        lambda c: key_changes.confirm(c, "ru", new_fp, now, allow_plain_http=True)
    )
    row = pair.us.line.show(sent["id"])

    def receipt(received: str) -> dict[str, Any]:
        unsigned = {
            "v": 1,
            "type": "receipt",
            "envelope_id": row["id"],
            "envelope_hash": row["hash"],
            "from": "ru",
            "to": "us",
            "seq": row["seq"],
            "received": received,
            "log_index": 0,
            "log_size": 1,
            "log_root": "0" * 64,
            "key": old_fp,
        }
        return seal(unsigned, compromised, Receipt).wire()

    current = pair.ru.identity.key.public_key()
    with pair.us.db.read() as conn:
        with pytest.raises(KeyRevoked, match=f"revoked from {revoked_from}"):
            _check_receipt_at(conn, receipt(now), row, "us", current)
        # one the old key signed before the revocation time (stored, offered again) holds
        earlier = rfc3339(clock.now() - timedelta(minutes=2))
        assert old_fp == _check_receipt_at(conn, receipt(earlier), row, "us", current).key


def test_an_envelope_of_the_old_key_after_the_rotation_in_the_channel_is_refused(
    pair: Pair, clock: FakeClock
) -> None:
    """Dated before the rotation took effect, but standing after it in the channel: the
    sender queues its rotation after everything signed with the old key, so this one was
    signed later, its time set back (by the key's thief, say). Its place decides, not its
    time; the rotation itself, offered again, still gets its receipt."""
    old_key, old_fp = pair.us.identity.key, pair.us.identity.fingerprint
    signed_at = rfc3339(clock.now())
    clock.advance(timedelta(seconds=5))
    key_changes.rotate_own(pair.us.line, pair.us.settings.key_path)
    restart_on_new_key(pair.us)
    pair.flush()
    assert pair.us.identity.fingerprint == pinned(pair.ru, "us")
    with pair.ru.db.write() as conn:
        head = messages_store.lock_channel(conn, "us", messages_store.IN)
    late = forged(pair.us, old_key, old_fp, signed_at, seq=head.last_seq + 1)
    late["prev"] = head.last_hash
    late = seal({k: v for k, v in late.items() if k != "sig"}, old_key, Envelope).wire()

    answer = post(pair, "ru", late).json()
    assert ("key_revoked", 0) == (answer["error"]["code"], len(answer["receipts"]))
    assert f"key change at seq {head.last_seq}" in answer["error"]["message"]
    assert ["key_change"] == received_texts(pair.ru)
    (rotation,) = pair.ru.line.listing("in")
    with pair.ru.db.read() as conn:
        stored = messages_store.get(conn, rotation["id"])
    assert stored is not None
    again = post(pair, "ru", json.loads(stored["envelope"])).json()
    assert (None, 1) == (again["error"], len(again["receipts"]))


def test_a_key_change_interrupted_before_the_file_swap_is_finished(
    pair: Pair, monkeypatch: pytest.MonkeyPatch
) -> None:
    old_fp = pair.us.identity.fingerprint
    real_replace = key_changes.os.replace

    def crash(*_args: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(key_changes.os, "replace", crash)
    with pytest.raises(OSError, match="No space left"):
        key_changes.rotate_own(pair.us.line, pair.us.settings.key_path)
    monkeypatch.setattr(key_changes.os, "replace", real_replace)
    on_file = keys.load_private(pair.us.settings.key_path).public_key()
    assert old_fp == keys.fingerprint(on_file)  # committed, but the old key is in the file
    with pytest.raises(ConfigError, match="an earlier key change did not finish"):
        key_changes.rotate_own(pair.us.line, pair.us.settings.key_path)

    assert key_changes.finish_own(pair.us.line, pair.us.settings.key_path)
    restart_on_new_key(pair.us)
    current = [k["fingerprint"] for k in key_changes.own_history(pair.us.line)][-1]
    assert current == pair.us.identity.fingerprint != old_fp
    assert not key_changes.finish_own(pair.us.line, pair.us.settings.key_path)


def test_a_rotation_held_beside_a_revocation_is_shown_and_dropped_by_the_confirmation(
    pair: Pair, clock: FakeClock
) -> None:
    """The thief of the key under revocation rotates it to his own key: the rotation is
    held beside the revocation, the officer sees both, and confirming the key read out of
    band pins it and drops the other."""
    compromised = pair.us.identity.key
    revoked_from = rfc3339(clock.now() - timedelta(minutes=5))
    done = key_changes.rotate_own(
        pair.us.line, pair.us.settings.key_path, revoked_from=revoked_from
    )
    pair.deliver("us", "ru")  # the revocation, held
    thief = keys.generate()
    card = replace(pair.us.identity, key=thief).card()
    change = keychange.make_rotation(compromised, thief, card, pair.ru.line.now()).wire()
    with pair.ru.db.write() as conn:
        head = messages_store.lock_channel(conn, "us", messages_store.IN)
    unsigned = json.loads(
        json.dumps(forged(pair.us, compromised, done.change.old_key, revoked_from))
    )
    unsigned |= {"seq": head.last_seq + 1, "prev": head.last_hash, "created": pair.ru.line.now()}
    unsigned |= {"type": "key_change", "body": change, "precedence": "IMMEDIATE"}
    del unsigned["sig"], unsigned["ack_by"]
    answer = post(pair, "ru", seal(unsigned, compromised, Envelope).wire()).json()

    assert "key_change_pending" == answer["error"]["code"]
    assert "may come from the key's thief" in answer["error"]["message"]
    shown = [
        (k["fingerprint"], k["state"], k["change_type"])
        for k in key_changes.peer_history(pair.ru.line, "us")
    ]
    assert sorted(
        [
            (done.change.new_key, "pending", "key_revocation"),
            (keys.fingerprint(thief.public_key()), "pending", "key_rotation"),
        ]
    ) == sorted(shown)
    (alarm,) = [a for a in pair.ru.alarms.listing("open") if a["kind"] == "peer_key_pending"]
    assert keys.fingerprint(thief.public_key()) == alarm["detail"]["rotation_held"]

    now = pair.ru.line.now()
    pair.ru.db.transaction(
        lambda c: key_changes.confirm(c, "us", done.change.new_key, now, allow_plain_http=True)
    )
    assert done.change.new_key == pinned(pair.ru, "us")
    assert ["pending"] not in [[k["state"]] for k in key_changes.peer_history(pair.ru.line, "us")]
