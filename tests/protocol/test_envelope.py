"""Envelopes and receipts: exact bytes from a fixed key, and any change is caught."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from hotline.domain.line import Envelope, Receipt
from hotline.errors import BadSignature, HotlineError, MalformedMessage
from hotline.protocol import keys
from hotline.protocol.canonical import b64decode, b64encode, canonical
from hotline.protocol.envelope import envelope_hash, parse, seal, signing_bytes, verify_signature

SEED = bytes(range(32))
FINGERPRINT = "ed25519:56475aa75463474c0285df5dbf2bcab73da651358839e9b77481b2eab107708c"
ENVELOPE_ID = "6f1c9a2e-3b4d-4e5f-8a9b-0c1d2e3f4a5b"

UNSIGNED_ENVELOPE: dict[str, Any] = {
    "v": 1,
    "id": ENVELOPE_ID,
    "from": "us",
    "to": "ru",
    "seq": 1,
    "prev": "0" * 64,
    "created": "2026-11-21T14:30:00.000Z",
    "precedence": "FLASH",
    "type": "text",
    "lang": "en",
    "body": {"text": "Test of the line. Подтвердите."},
    "key": FINGERPRINT,
}

# Written out by hand from RFC 8785: keys sorted, no whitespace, UTF-8 kept as is.
ENVELOPE_SIGNING_BYTES = (
    '{"body":{"text":"Test of the line. Подтвердите."},'
    '"created":"2026-11-21T14:30:00.000Z","from":"us",'
    '"id":"6f1c9a2e-3b4d-4e5f-8a9b-0c1d2e3f4a5b",'
    f'"key":"{FINGERPRINT}","lang":"en","precedence":"FLASH",'
    '"prev":"0000000000000000000000000000000000000000000000000000000000000000",'
    '"seq":1,"to":"ru","type":"text","v":1}'
).encode()
# Ed25519 signatures are deterministic (RFC 8032): this one is pinned from the first run.
ENVELOPE_SIG = (
    "FptTWwIcdNvrB92MyXcUeULbm9dtmVAwQuM+5WFIP/08XJGpkfPJ1ktKqme9hJXcCFHdtGgGEPlg8cYth/RzCA=="
)
ENVELOPE_HASH = "df57ce93a24cd573555c1e194d54d6b53033ddf0611799586f182f18a8a41d79"

UNSIGNED_RECEIPT: dict[str, Any] = {
    "v": 1,
    "type": "receipt",
    "envelope_id": ENVELOPE_ID,
    "envelope_hash": ENVELOPE_HASH,
    "from": "ru",
    "to": "us",
    "seq": 1,
    "received": "2026-11-21T14:30:01.250Z",
    "log_index": 0,
    "log_size": 1,
    "log_root": "a" * 64,
    "key": FINGERPRINT,
}
RECEIPT_SIGNING_BYTES = (
    f'{{"envelope_hash":"{ENVELOPE_HASH}","envelope_id":"{ENVELOPE_ID}","from":"ru",'
    f'"key":"{FINGERPRINT}","log_index":0,"log_root":"{"a" * 64}","log_size":1,'
    '"received":"2026-11-21T14:30:01.250Z","seq":1,"to":"us","type":"receipt","v":1}'
).encode()
RECEIPT_SIG = (
    "LSjQTvG5vLHnlAYePLoW4GvGbTYQufJEFeRhwIU2HR+mPUoXIkef0B8dRmKjp8Lggo6KFSDFVH89hDgG8Wn/Dw=="
)


@pytest.fixture
def key() -> Any:
    return keys.from_seed(SEED)


def test_ed25519_matches_rfc8032_test_1() -> None:
    secret = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
    expected = (
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555"
        "fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
    )
    signer = keys.from_seed(secret)
    assert (
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
        == keys.public_raw(signer.public_key()).hex()
    )
    assert expected == signer.sign(b"").hex()


def test_fingerprint_of_fixed_key(key: Any) -> None:
    assert FINGERPRINT == keys.fingerprint(key.public_key())


def test_envelope_known_answer(key: Any) -> None:
    envelope = seal(UNSIGNED_ENVELOPE, key, Envelope)
    assert ENVELOPE_SIGNING_BYTES == signing_bytes(envelope.wire())
    assert ENVELOPE_SIG == envelope.sig
    assert ENVELOPE_HASH == envelope_hash(envelope)
    verify_signature(envelope, key.public_key())


def test_receipt_known_answer(key: Any) -> None:
    receipt = seal(UNSIGNED_RECEIPT, key, Receipt)
    assert RECEIPT_SIGNING_BYTES == signing_bytes(receipt.wire())
    assert RECEIPT_SIG == receipt.sig
    verify_signature(receipt, key.public_key())


# Every signed field, changed. Where the model admits other values the change keeps the
# object well formed, so only the signature can catch it; ``v`` and a receipt's ``type``
# admit one value each, so a change there is refused as malformed before any signature is
# checked. A changed ``key`` names a key that did not sign: the signature fails.
OTHER_KEY = "ed25519:" + "0" * 64
ENVELOPE_CHANGES: dict[str, tuple[Any, str]] = {
    "v": (2, "malformed"),
    "id": ("6f1c9a2e-3b4d-4e5f-8a9b-0c1d2e3f4a5c", "bad_signature"),
    "from": ("ua", "bad_signature"),
    "to": ("ua", "bad_signature"),
    "seq": (2, "bad_signature"),
    "prev": ("1" * 64, "bad_signature"),
    "created": ("2026-11-21T14:30:00.001Z", "bad_signature"),
    "ack_by": ("2026-11-21T15:00:00.000Z", "bad_signature"),  # absent when signed: added
    "attachments": (  # absent when signed: a file added is caught
        [{"sha256": "c" * 64, "name": "plot.png", "content_type": "image/png", "size": 9}],
        "bad_signature",
    ),
    "sender": ({"user": "ivanov"}, "bad_signature"),  # absent when signed: who is added
    "approver": ({"user": "ivanov", "basis": "two_person"}, "bad_signature"),
    "precedence": ("ROUTINE", "bad_signature"),
    "type": ("ack", "bad_signature"),
    "lang": ("ru", "bad_signature"),
    "body": ({"text": "Test of the line. Подтвердите!"}, "bad_signature"),
    "key": (OTHER_KEY, "bad_signature"),
}
RECEIPT_CHANGES: dict[str, tuple[Any, str]] = {
    "v": (2, "malformed"),
    "type": ("ack", "malformed"),
    "envelope_id": ("6f1c9a2e-3b4d-4e5f-8a9b-0c1d2e3f4a5c", "bad_signature"),
    "envelope_hash": ("e" + ENVELOPE_HASH[1:], "bad_signature"),
    "from": ("ua", "bad_signature"),
    "to": ("ua", "bad_signature"),
    "seq": (2, "bad_signature"),
    "received": ("2026-11-21T14:30:01.251Z", "bad_signature"),
    "log_index": (1, "bad_signature"),
    "log_size": (2, "bad_signature"),
    "log_root": ("b" * 64, "bad_signature"),
    "key": (OTHER_KEY, "bad_signature"),
}


def signed_fields(model: type[Envelope] | type[Receipt]) -> set[str]:
    """The wire names of every field the signature covers (all but ``sig``)."""
    return {f.alias or name for name, f in model.model_fields.items()} - {"sig"}


def test_the_tampering_tables_cover_every_signed_field() -> None:
    assert signed_fields(Envelope) == set(ENVELOPE_CHANGES)
    assert signed_fields(Receipt) == set(RECEIPT_CHANGES)


@pytest.mark.parametrize("field", sorted(ENVELOPE_CHANGES))
def test_changing_any_envelope_field_is_refused(key: Any, field: str) -> None:
    wire = seal(UNSIGNED_ENVELOPE, key, Envelope).wire()
    value, code = ENVELOPE_CHANGES[field]
    wire[field] = value
    with pytest.raises(HotlineError) as caught:
        verify_signature(parse(wire, Envelope), key.public_key())
    assert code == caught.value.code


@pytest.mark.parametrize("field", sorted(RECEIPT_CHANGES))
def test_changing_any_receipt_field_is_refused(key: Any, field: str) -> None:
    wire = seal(UNSIGNED_RECEIPT, key, Receipt).wire()
    value, code = RECEIPT_CHANGES[field]
    wire[field] = value
    with pytest.raises(HotlineError) as caught:
        verify_signature(parse(wire, Receipt), key.public_key())
    assert code == caught.value.code


def test_another_key_does_not_verify(key: Any) -> None:
    envelope = seal(UNSIGNED_ENVELOPE, key, Envelope)
    with pytest.raises(BadSignature):
        verify_signature(envelope, keys.from_seed(bytes(32)).public_key())


def test_a_flipped_signature_bit_is_caught(key: Any) -> None:
    wire = seal(UNSIGNED_ENVELOPE, key, Envelope).wire()
    raw = bytearray(b64decode(wire["sig"], "sig"))
    raw[10] ^= 0x01
    wire["sig"] = b64encode(bytes(raw))
    with pytest.raises(BadSignature):
        verify_signature(parse(wire, Envelope), key.public_key())


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"seq": 0}, "seq"),
        ({"seq": "1"}, "seq"),
        ({"precedence": "URGENT"}, "precedence"),
        ({"lang": "de"}, "lang"),
        ({"created": "2026-11-21 14:30:00"}, "created"),
        ({"prev": "xyz"}, "prev"),
        ({"extra": 1}, "extra"),
    ],
)
def test_malformed_envelopes_name_the_field(key: Any, change: dict[str, Any], field: str) -> None:
    wire = seal(UNSIGNED_ENVELOPE, key, Envelope).wire() | change
    with pytest.raises(MalformedMessage) as caught:
        parse(wire, Envelope)
    assert field in caught.value.message


def test_floats_are_refused_in_signed_json() -> None:
    with pytest.raises(MalformedMessage) as caught:
        canonical({"body": {"lat": 52.25}})
    assert "$.body.lat" in caught.value.message


def test_missing_field_is_named(key: Any) -> None:
    wire = copy.deepcopy(seal(UNSIGNED_ENVELOPE, key, Envelope).wire())
    del wire["prev"]
    with pytest.raises(MalformedMessage) as caught:
        parse(wire, Envelope)
    assert "prev" in caught.value.message
