"""Key changes and key histories (pure): which key may have signed at which time."""

from __future__ import annotations

from typing import Any

import pytest

from hotline.errors import BadSignature, KeyRevoked, MalformedMessage, UnknownKey
from hotline.protocol import keychange, keys
from hotline.protocol.envelope import make_card

T0, T1, T2 = "2026-12-01T00:00:00Z", "2026-12-02T00:00:00Z", "2026-12-03T00:00:00Z"


def card(key: Any) -> Any:
    return make_card(
        key,
        party="ru",
        name_en="Russian Federation",
        name_ru="Российская Федерация",
        lang="ru",
        endpoints=["http://127.0.0.1:1"],
        phrasebook_version="1",
        phrasebook_hash="0" * 64,
    )


def fp(key: Any) -> str:
    return keys.fingerprint(key.public_key())


def test_a_rotation_then_a_revocation_make_a_history_of_three_keys() -> None:
    a, b, c = (keys.from_seed(bytes([n]) * 32) for n in (1, 2, 3))
    rotation = keychange.make_rotation(a, b, card(b), T1).wire()
    revocation = keychange.make_revocation(b.public_key(), c, card(c), T2, T1).wire()
    history = keychange.history(fp(c), [revocation, rotation])  # any order
    assert [
        (fp(a), None, T1, None, None),
        (fp(b), T1, T2, T1, "key_rotation"),
        (fp(c), T2, None, None, "key_revocation"),
    ] == [
        (p.fingerprint, p.valid_from, p.valid_to, p.revoked_from, p.introduced_by) for p in history
    ]
    assert fp(a) == keychange.key_at(history, fp(a), T0, "x").fingerprint
    # a rotated key may sign until its rotation, not after
    assert fp(a) == keychange.key_at(history, fp(a), T1, "x").fingerprint
    with pytest.raises(KeyRevoked, match="retired at 2026-12-02T00:00:00Z by a key rotation"):
        keychange.key_at(history, fp(a), "2026-12-02T00:00:00.001Z", "x")
    # the revoked key is not trusted from its revocation time on
    with pytest.raises(KeyRevoked, match="revoked from 2026-12-02T00:00:00Z"):
        keychange.key_at(history, fp(b), "2026-12-02T12:00:00Z", "the receipt")
    with pytest.raises(UnknownKey):
        keychange.key_at(history, "ed25519:" + "1" * 64, T0, "x")
    assert [] == keychange.history(fp(a), [])


def test_hostile_key_changes_are_refused() -> None:
    a, b, c = (keys.from_seed(bytes([n]) * 32) for n in (4, 5, 6))
    rotation = keychange.make_rotation(a, b, card(b), T1).wire()
    with pytest.raises(BadSignature, match="refused as a rotation"):
        keychange.open_change({k: v for k, v in rotation.items() if k != "sig_old"})
    with pytest.raises(BadSignature, match="not signed by its new key"):
        keychange.open_change(rotation | {"effective": T2})
    with pytest.raises(BadSignature, match="card is not the party's card with the new key"):
        keychange.open_change(rotation | {"card": card(c).wire()})
    # a revocation cannot pass for a rotation, nor reach into the future
    revocation = keychange.make_revocation(a.public_key(), b, card(b), T1, T0).wire()
    with pytest.raises(BadSignature, match="not signed by its new key"):
        keychange.open_change(revocation | {"type": "key_rotation"})
    with pytest.raises(MalformedMessage, match="cannot start after"):
        keychange.make_revocation(a.public_key(), b, card(b), T1, T2)
    # a change from a key outside the chain
    d = keys.generate()
    stray = keychange.make_rotation(c, d, card(d), T2)
    with pytest.raises(UnknownKey, match="does not chain"):
        keychange.history(fp(b), [rotation, stray.wire()])
    with pytest.raises(MalformedMessage):
        keychange.open_change("not an object")
