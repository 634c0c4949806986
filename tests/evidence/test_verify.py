"""``verify_bundle`` on one real bundle: it passes as exported, and any change fails it.

Every test here reads the session's sample bundle; none needs a database or a network.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from typing import Any

import pytest

from hotline.protocol import keys, merkle
from hotline.protocol.canonical import canonical
from hotline.protocol.checkpoint import Checkpoint, add_signature, parse_note, sign_note
from hotline.protocol.envelope import make_card, signing_bytes
from hotline.services.evidence.verify import verify_bundle
from tests.evidence.conftest import Sample

Mutation = Callable[[dict[str, Any], Sample], None]


def test_the_sample_bundle_verifies_and_says_who_sent_received_and_acknowledged(
    sample: Sample,
) -> None:
    verdict = verify_bundle(sample.raw)
    assert [] == verdict.failed
    headings = [line.split(":")[0] for line in verdict.proven if not line.startswith(" ")]
    assert [
        "SENT",
        "RECEIVED",
        "ACKNOWLEDGED",
        "ACK RECEIVED",
        "LOGGED",
        "KEY of ru (Russian Federation)",
        "KEY of us (United States)",
    ] == headings
    sent = verdict.proven[0]
    assert f"us signed message {sample.message_id} to ru" in sent
    assert '"Unannounced launch at 04:10Z.\n    Запуск в 04:10Z."' == verdict.proven[1].strip()
    assert "officer 'ofitser'" in verdict.proven[3]
    assert "entries 0, 1, 2, 3 of us's log" in verdict.proven[5]
    assert "co-signed by ru" in verdict.proven[5]


def test_any_single_byte_changed_makes_verify_fail(sample: Sample) -> None:
    """Every byte of the bundle, its lowest bit flipped: not one change goes unnoticed."""
    raw = sample.raw
    passed = []
    for i in range(len(raw)):
        changed = bytearray(raw)
        changed[i] ^= 0x01
        if verify_bundle(bytes(changed)).ok:
            passed.append(i)
    assert [] == passed


@pytest.mark.parametrize("change", ["delete", "insert space", "insert newline", "duplicate"])
def test_any_byte_removed_or_added_makes_verify_fail(sample: Sample, change: str) -> None:
    raw = sample.raw
    passed = []
    for i in range(0, len(raw), 41):
        edited = {
            "delete": raw[:i] + raw[i + 1 :],
            "insert space": raw[:i] + b" " + raw[i:],
            "insert newline": raw[:i] + b"\n" + raw[i:],
            "duplicate": raw[: i + 1] + raw[i:],
        }[change]
        if verify_bundle(edited).ok:
            passed.append(i)
    assert [] == passed


def test_pretty_printing_the_same_json_fails_as_a_re_encoding(sample: Sample) -> None:
    pretty = json.dumps(json.loads(sample.raw), indent=2, ensure_ascii=False).encode() + b"\n"
    verdict = verify_bundle(pretty)
    assert verdict.failed[0].startswith("file: not byte for byte the canonical JSON")


# -- each field, tampered and re-encoded: the failure names what is wrong --------------------


def _entry(bundle: dict[str, Any], role: str) -> dict[str, Any]:
    return next(e for e in bundle["entries"] if e["role"] == role)


def _edit_logged(role: str, edit: Callable[[dict[str, Any]], None]) -> Mutation:
    def mutate(bundle: dict[str, Any], _sample: Sample) -> None:
        item = _entry(bundle, role)
        obj = json.loads(item["entry"])
        edit(obj)
        item["entry"] = canonical(obj).decode()
        item["leaf_hash"] = merkle.leaf_hash(item["entry"].encode()).hex()

    return mutate


def _set(path: str, value: Any) -> Mutation:
    def mutate(bundle: dict[str, Any], _sample: Sample) -> None:
        *parents, last = path.split(".")
        target: Any = bundle
        for part in parents:
            if part in ROLE_NAMES:
                target = next(e for e in target if e["role"] == part)
            else:
                target = target[part]
        target[last] = value(target[last]) if callable(value) else value

    return mutate


ROLE_NAMES = {"envelope", "receipt", "ack", "ack_receipt"}


def _flip_hex(h: str) -> str:
    return ("1" if h[0] == "0" else "0") + h[1:]


def _uncosign(bundle: dict[str, Any], sample: Sample) -> None:
    text = parse_note(bundle["checkpoint"]).text
    bundle["checkpoint"] = sign_note(text, "hotline/us", sample.us_key)


def _other_root(bundle: dict[str, Any], sample: Sample) -> None:
    text, signatures = parse_note(bundle["checkpoint"])
    cp = Checkpoint.parse(text)
    forged = Checkpoint(cp.origin, cp.size, bytes(32)).body()
    bundle["checkpoint"] = forged + "\n" + "".join(s.line() for s in signatures)


def _swap_receipts(bundle: dict[str, Any], _sample: Sample) -> None:
    receipt, ack_receipt = _entry(bundle, "receipt"), _entry(bundle, "ack_receipt")
    receipt["entry"], ack_receipt["entry"] = ack_receipt["entry"], receipt["entry"]


def _other_key(bundle: dict[str, Any], _sample: Sample) -> None:
    bundle["cards"]["ru"]["public_key"] = keys.public_b64(keys.generate().public_key())


def _drop_ack(bundle: dict[str, Any], _sample: Sample) -> None:
    bundle["entries"] = [e for e in bundle["entries"] if e["role"] in ("envelope", "receipt")]


TAMPERING: dict[str, tuple[Mutation, str]] = {
    "envelope text": (
        _edit_logged("envelope", lambda o: o["body"].update(text="No launch.")),
        "envelope (entry 0): its signature does not verify with us's key",
    ),
    "envelope time": (
        _edit_logged("envelope", lambda o: o.update(created="2026-11-21T14:00:00.000Z")),
        "envelope (entry 0): the inclusion proof does not lead to the checkpoint's root",
    ),
    "receipt time": (
        _edit_logged("receipt", lambda o: o.update(received="2026-11-22T00:00:00.000Z")),
        "receipt (entry 1): its signature does not verify with ru's key",
    ),
    "ack officer": (
        _edit_logged("ack", lambda o: o["body"].update(acked_by="nobody")),
        "ack (entry 2): its signature does not verify with ru's key",
    ),
    "leaf hash": (
        _set("entries.envelope.leaf_hash", _flip_hex),
        "envelope (entry 0): the leaf hash is not SHA-256(0x00 || entry bytes)",
    ),
    "proof hash": (
        _set("entries.receipt.proof", lambda p: [_flip_hex(p[0]), *p[1:]]),
        "receipt (entry 1): the inclusion proof does not lead to the checkpoint's root",
    ),
    "index": (
        _set("entries.ack.index", lambda i: i + 1),
        "ack (entry 3): the inclusion proof does not lead to the checkpoint's root",
    ),
    "co-signature removed": (_uncosign, "checkpoint: not co-signed by hotline/ru"),
    "checkpoint root": (_other_root, "checkpoint: the signature by hotline/"),
    "receipts swapped": (_swap_receipts, "receipt: it does not name its envelope's id"),
    "peer key replaced": (_other_key, "card of ru: the card's fingerprint does not match"),
    "ack left out": (_drop_ack, "bundle: the exporter's signature (by us) does not verify"),
    "kind": (_set("entries.envelope.kind", "envelope_in"), "envelope: kind envelope_in"),
    "exported_at": (
        _set("exported_at", "2030-01-01T00:00:00.000Z"),
        "bundle: the exporter's signature (by us) does not verify",
    ),
}


def _tampered(sample: Sample, mutate: Mutation, *, resign: bool) -> bytes:
    bundle = json.loads(sample.raw)
    mutate(bundle, sample)
    if resign:  # the exporter itself lies: its own signature over the bundle is good
        bundle.pop("sig")
        bundle["sig"] = keys.sign(sample.us_key, signing_bytes(bundle))
    return canonical(bundle) + b"\n"


@pytest.mark.parametrize("name", sorted(TAMPERING))
def test_a_tampered_field_fails_and_is_named(sample: Sample, name: str) -> None:
    mutate, expected = TAMPERING[name]
    verdict = verify_bundle(_tampered(sample, mutate, resign=False))
    assert not verdict.ok
    assert any(f.startswith(expected) for f in verdict.failed), verdict.failed


@pytest.mark.parametrize(
    "name", sorted(n for n in TAMPERING if n not in ("exported_at", "ack left out"))
)
def test_the_exporter_cannot_make_a_tampered_bundle_pass_by_signing_it(
    sample: Sample, name: str
) -> None:
    mutate, expected = TAMPERING[name]
    verdict = verify_bundle(_tampered(sample, mutate, resign=True))
    assert any(f.startswith(expected) for f in verdict.failed), verdict.failed


def test_a_consistent_forgery_with_other_keys_fails_only_against_trusted_fingerprints(
    sample: Sample,
) -> None:
    """A bundle built from scratch with a forger's keys is self-consistent: the file alone
    cannot tell, which is why verify prints the fingerprints and takes --trust."""
    forged = _forge_with_new_keys(sample)
    assert verify_bundle(forged).ok
    trusted = list(sample.fingerprints.values())
    verdict = verify_bundle(forged, trusted=trusted)
    assert 2 == sum("is not among the fingerprints you trust" in f for f in verdict.failed)
    assert verify_bundle(sample.raw, trusted=trusted).ok


def _forge_with_new_keys(sample: Sample) -> bytes:
    """Re-sign every signed object of the sample with two new keys, consistently."""
    bundle = json.loads(sample.raw)
    new = {"us": keys.generate(), "ru": keys.generate()}
    for party, key in new.items():
        card = bundle["cards"][party]
        fields = ("party", "name_en", "name_ru", "lang", "endpoints")
        fields += ("phrasebook_version", "phrasebook_hash")
        bundle["cards"][party] = make_card(key, **{k: card[k] for k in fields}).wire()
    digests: dict[str, str] = {}
    links = {"receipt": "envelope", "ack": "envelope", "ack_receipt": "ack"}
    for item in bundle["entries"]:
        obj = json.loads(item["entry"])
        if item["role"] == "ack":
            obj["body"]["ack_hash"] = digests["envelope"]
        elif item["role"] in links:
            obj["envelope_hash"] = digests[links[item["role"]]]
        key = new[obj["from"]]
        obj["key"] = keys.fingerprint(key.public_key())
        obj.pop("sig")
        obj["sig"] = keys.sign(key, signing_bytes(obj))
        item["entry"] = canonical(obj).decode()
        digests[item["role"]] = hashlib.sha256(item["entry"].encode()).hexdigest()
    leaves = [merkle.leaf_hash(item["entry"].encode()) for item in bundle["entries"]]
    for i, item in enumerate(bundle["entries"]):
        item["leaf_hash"] = leaves[i].hex()
        item["proof"] = [h.hex() for h in merkle.inclusion_proof_from_hashes(leaves, i, 4)]
    body = Checkpoint("hotline/us", 4, merkle.root_from_hashes(leaves)).body()
    note = sign_note(body, "hotline/us", new["us"])
    bundle["checkpoint"] = add_signature(note, "hotline/ru", new["ru"])
    bundle.pop("sig")
    bundle["sig"] = keys.sign(new["us"], signing_bytes(bundle))
    return canonical(bundle) + b"\n"


def test_garbage_is_refused_with_a_reason() -> None:
    for raw, expected in (
        (b"", "file: the bundle is not valid JSON"),
        (b"\xff\xfe", "file: the bundle is not UTF-8 text"),
        (b"[]\n", "file: not an evidence bundle"),
        (base64.b64encode(b"{}") + b"\n", "file: the bundle is not valid JSON"),
    ):
        verdict = verify_bundle(raw)
        assert not verdict.ok
        assert verdict.failed[-1].startswith(expected), verdict.failed
