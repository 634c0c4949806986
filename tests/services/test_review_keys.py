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
