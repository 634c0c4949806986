"""Hostile review of key revocation: the holder of a compromised (revoked) key signs a new
envelope, next in the channel, with ``created`` backdated to before ``revoked_from``.
The envelope's time is the attacker's to choose, so "valid when signed" proves nothing:
after the revocation is applied, the revoked key must sign nothing more in the channel."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any

from hotline.clock import FakeClock, rfc3339
from hotline.domain.line import Envelope
from hotline.protocol import keys
from hotline.protocol.envelope import seal
from hotline.services.line import keys as key_changes
from hotline.services.line.identity import Identity
from hotline.storage import recovery as recovery_store
from tests.conftest import Pair


def received_texts(pair: Pair) -> list[str]:
    return [m["body"].get("text", m["type"]) for m in reversed(pair.ru.line.listing("in"))]


def test_a_revoked_key_cannot_inject_a_backdated_envelope(pair: Pair, clock: FakeClock) -> None:
    compromised, old_fp = pair.us.identity.key, pair.us.identity.fingerprint
    revoked_from = rfc3339(clock.now() - timedelta(minutes=5))
    key_changes.rotate_own(pair.us.line, pair.us.settings.key_path, revoked_from=revoked_from)
    identity = Identity.from_settings(pair.us.settings)
    pair.us.identity = pair.us.line.identity = pair.us.evidence.identity = identity
    pair.us.line.send(to="ru", text="New key, same node", user="duty1")
    pair.deliver("us", "ru")  # held for the officer
    now = pair.ru.line.now()
    spoken = keys.spoken_fingerprint(identity.fingerprint)
    pair.ru.db.transaction(
        lambda c: key_changes.confirm(c, "us", spoken, now, allow_plain_http=True)
    )
    pair.flush()
    assert ["key_change", "New key, same node"] == received_texts(pair)

    with pair.ru.db.read() as conn:
        seq, head = recovery_store.channel_head(conn, "us", "in")
    backdated = rfc3339(clock.now() - timedelta(minutes=10))  # before revoked_from
    unsigned: dict[str, Any] = {
        "v": 1,
        "id": str(uuid.uuid4()),
        "from": "us",
        "to": "ru",
        "seq": seq + 1,
        "prev": head,
        "created": backdated,
        "precedence": "FLASH",
        "type": "text",
        "lang": "en",
        "body": {"text": "Cease fire is cancelled."},
        "key": old_fp,
    }
    attack = seal(unsigned, compromised, Envelope).wire()
    answer = pair.http.post(
        pair.servers["ru"].url + "/federation/v1/envelopes",
        content=json.dumps({"envelopes": [attack]}).encode(),
        headers={"content-type": "application/json"},
    ).json()

    assert ["key_change", "New key, same node"] == received_texts(pair)
    assert [] == answer["receipts"]


def test_a_backdated_rotation_cannot_disown_what_the_peer_signed_before(pair: Pair) -> None:
    """us, a valid peer, sends a genuine rotation (signed by the old key and the new) whose
    ``effective`` it sets years back. ru applies it as it is: the old key now "retired" in
    2000, so us's earlier signed message no longer verifies in ru's own evidence — the
    sender has repudiated it. ``effective`` must not precede what the old key already
    signed on the line (or the change's own arrival)."""
    from dataclasses import replace as replaced

    from hotline.protocol import keychange
    from hotline.services.evidence.bundle import export_bundle
    from hotline.services.evidence.verify import verify_bundle

    first = pair.us.line.send(to="ru", text="We will strike at dawn", user="duty1")
    pair.flush()
    pair.ru.line.acknowledge(first["id"], "ofitser")
    pair.flush()
    pair.us.evidence.exchange()
    pair.ru.evidence.exchange()
    assert [] == verify_bundle(export_bundle(pair.ru.evidence, first["id"])).failed

    old, new = pair.us.identity.key, keys.generate()
    card = replaced(pair.us.identity, key=new).card()
    change = keychange.make_rotation(old, new, card, "2000-01-01T00:00:00.000Z").wire()
    with pair.us.db.write() as conn:
        pair.us.line.enqueue(
            conn, to="ru", type_="key_change", body=change, precedence="IMMEDIATE",
            lang="en", user=None,
        )  # fmt: skip
    pair.deliver("us", "ru")
    pair.ru.evidence.exchange()

    verdict = verify_bundle(export_bundle(pair.ru.evidence, first["id"]))
    assert [] == verdict.failed


def test_the_pending_revocation_alarm_clears_once_the_officer_confirmed(
    pair: Pair, clock: FakeClock
) -> None:
    """The ``peer_key_pending`` alarm says "confirm the new fingerprint out of band"; once
    an officer has confirmed it and the new key is pinned, it must not go on saying so."""
    revoked_from = rfc3339(clock.now() - timedelta(minutes=5))
    key_changes.rotate_own(pair.us.line, pair.us.settings.key_path, revoked_from=revoked_from)
    identity = Identity.from_settings(pair.us.settings)
    pair.us.identity = pair.us.line.identity = pair.us.evidence.identity = identity
    pair.deliver("us", "ru")
    assert ["us"] == [
        a["subject"] for a in pair.ru.alarms.listing("open") if a["kind"] == "peer_key_pending"
    ]
    now = pair.ru.line.now()
    pair.ru.db.transaction(
        lambda c: key_changes.confirm(c, "us", identity.fingerprint, now, allow_plain_http=True)
    )
    pair.flush()
    assert [] == [a for a in pair.ru.alarms.listing("open") if a["kind"] == "peer_key_pending"]


def test_a_peer_rotating_back_to_an_earlier_key_does_not_break_the_evidence(
    pair: Pair,
) -> None:
    """us, a valid peer, rotates A→B and then B→A: two genuine rotations, each signed by
    its old key and its new. Either the second is refused when it arrives, or the evidence
    of us's earlier message still exports and verifies on ru."""
    from dataclasses import replace as replaced

    from hotline.protocol import keychange
    from hotline.services.evidence.bundle import export_bundle
    from hotline.services.evidence.verify import verify_bundle

    first = pair.us.line.send(to="ru", text="Before", user="duty1")
    pair.flush()
    pair.us.evidence.exchange()
    pair.ru.evidence.exchange()
    a, b = pair.us.identity.key, keys.generate()
    there = keychange.make_rotation(
        a, b, replaced(pair.us.identity, key=b).card(), pair.us.line.now()
    ).wire()
    back = keychange.make_rotation(
        b, a, replaced(pair.us.identity, key=a).card(), pair.us.line.now()
    ).wire()
    with pair.us.db.write() as conn:
        for change, signer in ((there, a), (back, b)):
            sender = replaced(pair.us.line, identity=replaced(pair.us.identity, key=signer))
            sender.enqueue(
                conn, to="ru", type_="key_change", body=change, precedence="IMMEDIATE",
                lang="en", user=None,
            )  # fmt: skip
    outcome = pair.deliver("us", "ru")
    assert outcome is not None
    if outcome.delivered == 2:  # both applied: the evidence must still hold
        raw = export_bundle(pair.ru.evidence, first["id"], allow_uncosigned=True)
        assert [] == verify_bundle(raw, allow_uncosigned=True).failed


def test_a_rotation_by_the_key_under_revocation_is_not_applied_silently(
    pair: Pair, clock: FakeClock
) -> None:
    """us revokes its compromised key K1 (held on ru for the officer). The attacker, holding
    K1, sends a genuine-looking *rotation* K1→K3 (signed by K1 and K3). ru applies it without
    a person, pins the attacker's K3, and the real revocation can no longer be confirmed."""
    from dataclasses import replace as replaced

    from hotline.protocol import keychange
    from hotline.storage import peers

    compromised = pair.us.identity.key
    revoked_from = rfc3339(clock.now() - timedelta(minutes=5))
    key_changes.rotate_own(pair.us.line, pair.us.settings.key_path, revoked_from=revoked_from)
    pair.deliver("us", "ru")  # held: the officer has not confirmed yet
    assert {"peer_key_pending"} <= {a["kind"] for a in pair.ru.alarms.listing("open")}

    attacker = keys.generate()
    card = replaced(pair.us.identity, key=attacker).card()
    change = keychange.make_rotation(compromised, attacker, card, pair.ru.line.now()).wire()
    with pair.ru.db.read() as conn:
        seq, head = recovery_store.channel_head(conn, "us", "in")
    unsigned: dict[str, Any] = {
        "v": 1,
        "id": str(uuid.uuid4()),
        "from": "us",
        "to": "ru",
        "seq": seq + 1,
        "prev": head,
        "created": pair.ru.line.now(),
        "precedence": "IMMEDIATE",
        "type": "key_change",
        "lang": "en",
        "body": change,
        "key": keys.fingerprint(compromised.public_key()),
    }
    pair.http.post(
        pair.servers["ru"].url + "/federation/v1/envelopes",
        content=json.dumps({"envelopes": [seal(unsigned, compromised, Envelope).wire()]}).encode(),
        headers={"content-type": "application/json"},
    )
    with pair.ru.db.read() as conn:
        row = peers.get(conn, "us")
    assert row is not None
    assert keys.fingerprint(attacker.public_key()) != row.fingerprint
