"""Checkpoints and signed notes: published known answers, round trips, tampering.

Known answers in ``tests/protocol/vectors/signed_notes.json`` come from
golang.org/x/mod/sumdb/note, a real sum.golang.org checkpoint and the C2SP specs.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.errors import BadSignature, UnknownKey, ValidationError
from hotline.protocol.checkpoint import (
    Checkpoint,
    NoteSignature,
    add_signature,
    key_id,
    open_checkpoint,
    open_note,
    parse_note,
    parse_verifier_key,
    sign_note,
    verifier_key_string,
)
from hotline.protocol.merkle import (
    EMPTY_ROOT,
    Frontier,
    consistency_proof,
    leaf_hash,
    root,
    verify_consistency,
)

V: dict[str, Any] = json.loads(
    (Path(__file__).parent / "vectors" / "signed_notes.json").read_text(encoding="utf-8")
)
PETER, ENOCH, SUMDB = V["peter"], V["enoch"], V["sumdb"]
TEXT = PETER["text"]


def signer_from_go_key(skey: str) -> tuple[str, Ed25519PrivateKey]:
    """Decode golang.org/x/mod/sumdb/note's ``PRIVATE+KEY+name+hash+base64(0x01||seed)``."""
    _, _, name, _, key64 = skey.split("+", 4)
    material = base64.b64decode(key64)
    assert material[:1] == b"\x01"
    return name, Ed25519PrivateKey.from_private_bytes(material[1:])


PETER_NAME, PETER_KEY = signer_from_go_key(PETER["signer_key"])
ENOCH_NAME, ENOCH_PUBLIC = parse_verifier_key(ENOCH["verifier_key"])
PETER_SIG, ENOCH_SIG = PETER["signature_line"], ENOCH["signature_line"]
BOTH = {PETER_NAME: PETER_KEY.public_key(), ENOCH_NAME: ENOCH_PUBLIC}


def fixed_key(seed: int) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(bytes([seed]) * 32)


RU, US = fixed_key(1), fixed_key(2)  # two nodes of the line
RU_NAME, US_NAME = "hotline/ru", "hotline/us"  # as a node names its log


# --- known answers --------------------------------------------------------------------------


def test_go_signer_key_yields_the_published_verifier_key_and_key_id() -> None:
    assert PETER["verifier_key"] == verifier_key_string(PETER_NAME, PETER_KEY.public_key())
    assert bytes.fromhex("c74f20a3") == key_id(PETER_NAME, PETER_KEY.public_key())


def test_sign_note_reproduces_the_go_signed_note_byte_for_byte() -> None:
    assert PETER["signed"] == sign_note(TEXT, PETER_NAME, PETER_KEY)


def test_open_note_verifies_the_known_key_and_ignores_the_unknown_one() -> None:
    note = TEXT + "\n" + PETER_SIG + ENOCH_SIG
    assert open_note(note, {PETER_NAME: PETER_KEY.public_key()}) == (TEXT, [PETER_NAME])


def test_open_note_verifies_both_signatures_in_note_order() -> None:
    note = TEXT + "\n" + PETER_SIG + ENOCH_SIG
    assert open_note(note, BOTH) == (TEXT, [PETER_NAME, ENOCH_NAME])


def test_note_without_a_known_signature_is_refused_naming_its_signers() -> None:
    with pytest.raises(UnknownKey) as caught:
        open_note(TEXT + "\n" + PETER_SIG + ENOCH_SIG, {})
    assert "PeterNeumann+c74f20a3" in str(caught.value)
    assert "EnochRoot+af0cfe78" in str(caught.value)


def test_duplicated_signatures_count_once() -> None:
    mangled_enoch = ENOCH_SIG[:60] + "ABCD" + ENOCH_SIG[60:]
    note = TEXT + "\n" + PETER_SIG + PETER_SIG + ENOCH_SIG + ENOCH_SIG + mangled_enoch
    assert open_note(note, {PETER_NAME: PETER_KEY.public_key()}) == (TEXT, [PETER_NAME])


def test_invalid_signature_from_a_known_key_rejects_the_whole_note() -> None:
    note = TEXT + "\n" + PETER_SIG[:60] + "ABCD" + PETER_SIG[60:]
    with pytest.raises(BadSignature, match=r"PeterNeumann\+c74f20a3"):
        open_note(note, {PETER_NAME: PETER_KEY.public_key()})


@pytest.mark.parametrize(
    "note",
    [
        TEXT,
        TEXT + "\n",
        TEXT + "\n" + PETER_SIG[:-1],
        "\x01" + TEXT + "\n" + PETER_SIG,
        b"\xff" + (TEXT + "\n" + PETER_SIG).encode(),
        TEXT + "\n" + PETER_SIG.replace("PeterNeumann", "Bad Name")[:-1],
        TEXT + "\n" + PETER_SIG.replace("PeterNeumann", "Bad Name"),
        TEXT + "\n" + PETER_SIG.replace("PeterNeumann", "Peter+Neumann"),
        TEXT + "\n" + PETER_SIG + "Unexpected line.\n",
        TEXT + "\n" + PETER_SIG * 101,
        TEXT + "\n" + PETER_SIG.replace("—", "-"),
        TEXT + "\n" + PETER_SIG.replace("=\n", "\n"),  # unpadded base64
        TEXT + "\n" + "— PeterNeumann AAAA\n",  # shorter than key ID + 1 byte
        TEXT.replace("\n", "\r\n", 1) + "\n" + PETER_SIG,
        "\ud800" + TEXT + "\n" + PETER_SIG,
    ],
)
def test_malformed_notes_are_refused(note: str | bytes) -> None:
    with pytest.raises(ValidationError):
        open_note(note, {PETER_NAME: PETER_KEY.public_key()})


@pytest.mark.parametrize(
    "mangle",
    [
        lambda s: s.replace("PeterNeumann", "CarmenSandiego"),  # known key ID, unknown name
        lambda s: s.replace("x08g", "xxxx"),  # known name, unknown key ID
    ],
)
def test_signature_matching_a_known_key_by_name_or_id_only_is_ignored(
    mangle: Callable[[str], str],
) -> None:
    with pytest.raises(UnknownKey):
        open_note(TEXT + "\n" + mangle(PETER_SIG), {PETER_NAME: PETER_KEY.public_key()})


def test_real_sum_golang_org_checkpoint_verifies() -> None:
    name, public_key = parse_verifier_key(SUMDB["verifier_key"])
    checkpoint, signers = open_checkpoint(SUMDB["note"], {name: public_key})
    expected_root = base64.b64decode(SUMDB["root_b64"])
    assert Checkpoint(SUMDB["origin"], SUMDB["size"], expected_root) == checkpoint
    assert signers == ["sum.golang.org"]
    assert SUMDB["note"].split("\n\n")[0] + "\n" == checkpoint.body()


def test_real_checkpoint_with_one_changed_digit_is_refused() -> None:
    name, public_key = parse_verifier_key(SUMDB["verifier_key"])
    forged = SUMDB["note"].replace("30055305", "30055306")
    with pytest.raises(BadSignature):
        open_checkpoint(forged, {name: public_key})


@pytest.mark.parametrize("case", ["c2sp_checkpoint", "c2sp_note"])
def test_c2sp_examples_parse(case: str) -> None:
    example = V[case]
    text, signatures = parse_note(example["note"])
    assert [example.get("signer", example.get("origin"))] == [s.name for s in signatures]
    assert len(signatures[0].signature) == 64
    if "text" in example:
        assert example["text"] == text  # the blank line inside the text stays in it
    else:
        checkpoint = Checkpoint.parse(text)
        assert (example["origin"], example["size"]) == (checkpoint.origin, checkpoint.size)
        assert example["root_b64"] == base64.b64encode(checkpoint.root).decode()
        assert text == checkpoint.body()


# --- verifier keys ---------------------------------------------------------------------------


def test_verifier_key_round_trips() -> None:
    vkey = verifier_key_string(RU_NAME, RU.public_key())
    name, public_key = parse_verifier_key(vkey)
    assert (RU_NAME, RU.public_key().public_bytes_raw()) == (name, public_key.public_bytes_raw())


def test_every_mangling_of_a_verifier_key_is_refused() -> None:
    # golang.org/x/mod/sumdb/note TestNewVerifier: every proper substring and every
    # single-byte increment, plus the two published bad keys.
    vkey = PETER["verifier_key"]
    mangled = {vkey[i:j] for i in range(len(vkey) + 1) for j in range(i + 1, len(vkey) + 1)}
    mangled |= {vkey[:i] + chr(ord(vkey[i]) + 1) + vkey[i + 1 :] for i in range(len(vkey))}
    mangled |= {case["key"] for case in V["bad_verifier_keys"]}
    mangled.discard(vkey)
    accepted = []
    for key in sorted(mangled):
        try:
            parse_verifier_key(key)
            accepted.append(key)
        except ValidationError:
            pass
    assert accepted == []


@pytest.mark.parametrize("name", ["", "a b", "a+b", "a\tb", "a\u00a0b", "a\u2003b", "a\nb"])
def test_key_names_with_spaces_or_plus_are_refused(name: str) -> None:
    with pytest.raises(ValidationError):
        sign_note(TEXT, name, RU)
    with pytest.raises(ValidationError):
        verifier_key_string(name, RU.public_key())


# --- the checkpoint body ---------------------------------------------------------------------


def test_checkpoint_body_is_the_c2sp_format() -> None:
    checkpoint = Checkpoint(RU_NAME, 8, bytes(range(32)), ("ext one", "ext two"))
    expected = "hotline/ru\n8\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\next one\next two\n"
    assert expected == checkpoint.body()
    assert checkpoint == Checkpoint.parse(expected)


@pytest.mark.parametrize(
    "text",
    [
        "o\n1\n" + base64.b64encode(bytes(32)).decode(),  # no final newline
        "o\n1\n",
        "\n1\n" + base64.b64encode(bytes(32)).decode() + "\n",  # empty origin
        "o\n01\n" + base64.b64encode(bytes(32)).decode() + "\n",
        "o\n-1\n" + base64.b64encode(bytes(32)).decode() + "\n",
        "o\n+1\n" + base64.b64encode(bytes(32)).decode() + "\n",
        "o\n 1\n" + base64.b64encode(bytes(32)).decode() + "\n",
        "o\n1.0\n" + base64.b64encode(bytes(32)).decode() + "\n",
        "o\n١\n" + base64.b64encode(bytes(32)).decode() + "\n",  # Arabic-Indic digit one
        "o\n9223372036854775808\n" + base64.b64encode(bytes(32)).decode() + "\n",
        "o\n1\n" + base64.b64encode(bytes(31)).decode() + "\n",
        "o\n1\n" + base64.b64encode(bytes(32)).decode().rstrip("=") + "\n",
        "o\n1\nthisisnotright\n",
        "o\n1\n" + base64.b64encode(bytes(32)).decode() + "\n\n",  # empty extension line
        "o\r\n1\n" + base64.b64encode(bytes(32)).decode() + "\n",
    ],
)
def test_malformed_checkpoint_bodies_are_refused(text: str) -> None:
    with pytest.raises(ValidationError):
        Checkpoint.parse(text)


@pytest.mark.parametrize(
    "fields",
    [
        ("", 1, bytes(32)),
        ("o\n", 1, bytes(32)),
        ("o", -1, bytes(32)),
        ("o", True, bytes(32)),
        ("o", 2**63, bytes(32)),
        ("o", 1, bytes(31)),
        ("o", 1, "00" * 32),
    ],
)
def test_checkpoint_fields_are_validated(fields: tuple[Any, ...]) -> None:
    with pytest.raises(ValidationError):
        Checkpoint(*fields)


def test_empty_tree_checkpoint_has_size_zero_and_the_empty_root() -> None:
    checkpoint = Checkpoint(RU_NAME, 0, EMPTY_ROOT)
    assert checkpoint == Checkpoint.parse(checkpoint.body())
    assert checkpoint.body().split("\n")[1] == "0"


# --- signing, co-signing and tampering -------------------------------------------------------


def ru_checkpoint(entries: int = 5) -> Checkpoint:
    frontier = Frontier.from_leaf_hashes(leaf_hash(b"envelope %d" % i) for i in range(entries))
    return Checkpoint(RU_NAME, frontier.size, frontier.root())


def test_checkpoint_round_trips_through_a_signed_note() -> None:
    note = sign_note(ru_checkpoint().body(), RU_NAME, RU)
    assert (ru_checkpoint(), [RU_NAME]) == open_checkpoint(note, {RU_NAME: RU.public_key()})


def test_co_signed_checkpoint_verifies_with_either_key_and_with_both() -> None:
    note = add_signature(sign_note(ru_checkpoint().body(), RU_NAME, RU), US_NAME, US)
    keys = {RU_NAME: RU.public_key(), US_NAME: US.public_key()}
    assert open_checkpoint(note, keys)[1] == [RU_NAME, US_NAME]
    assert open_checkpoint(note, {US_NAME: US.public_key()})[1] == [US_NAME]
    assert open_checkpoint(note, {RU_NAME: RU.public_key()})[1] == [RU_NAME]
    assert ru_checkpoint() == open_checkpoint(note, keys)[0]


#: The example of docs/merkle-log.md: the 8-leaf RFC 6962 reference tree as ru's log,
#: signed by ru and co-signed by us (Ed25519 signatures are deterministic).
DOC_EXAMPLE = (
    "hotline/ru\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n\n"
    "— hotline/ru O9Wy8osxn7UcZkDTz8LZPulTxewCsD0DA/IG7PuffbHn5hRupQls3bwSTiyvN2h1DmN6PVgujpEMiHPv"
    "+otlaA/gUAQ=\n"
    "— hotline/us pYtBLxXvHndNsIuFuEwbBq/98Ov2msJjqkGG7J+nBYBWCRDQMQ3qsVxHChscrHeYUnHDNzAt1yAmTUmZ"
    "B41cQ51c5wk=\n"
)


def test_the_co_signed_example_of_the_docs_is_reproduced_byte_for_byte() -> None:
    reference = json.loads(
        (Path(__file__).parent / "vectors" / "rfc6962_reference.json").read_text()
    )
    tree_root = root([bytes.fromhex(x) for x in reference["leaves"]])
    note = add_signature(
        sign_note(Checkpoint(RU_NAME, 8, tree_root).body(), RU_NAME, RU), US_NAME, US
    )
    assert DOC_EXAMPLE == note
    assert DOC_EXAMPLE in (Path(__file__).parents[2] / "docs" / "merkle-log.md").read_text()
    assert (
        "hotline/ru+3bd5b2f2+AYqI4910CfGV/VLbLTy6XXLKZwm/HZQSG/N0iAG0D29c",
        "hotline/us+a58b412f+AYE5dw6ofRdfVqNUZsNMfszLjYqRtO43ol32D1uPybOU",
    ) == (
        verifier_key_string(RU_NAME, RU.public_key()),
        verifier_key_string(US_NAME, US.public_key()),
    )


def test_co_signing_twice_with_the_same_key_keeps_one_signature() -> None:
    once = add_signature(sign_note(TEXT, RU_NAME, RU), US_NAME, US)
    assert once == add_signature(once, US_NAME, US)
    assert len(parse_note(once).signatures) == 2


def test_co_signing_keeps_unknown_signatures() -> None:
    note = add_signature(TEXT + "\n" + PETER_SIG + ENOCH_SIG, US_NAME, US)
    assert [s.name for s in parse_note(note).signatures] == [PETER_NAME, ENOCH_NAME, US_NAME]
    _, signers = open_note(note, {**BOTH, US_NAME: US.public_key()})
    assert signers == [PETER_NAME, ENOCH_NAME, US_NAME]


@pytest.mark.parametrize(
    "tamper",
    [
        lambda note: note.replace("\n5\n", "\n6\n", 1),  # size
        lambda note: note.replace(RU_NAME + "\n", "hotline/rv\n", 1),  # origin
        lambda note: note.replace("\n\n", "\nextension\n\n", 1),  # an added line
        lambda note: _flip_root_bit(note),
        lambda note: _flip_signature_bit(note),
    ],
    ids=["size", "origin", "added-line", "root-bit", "signature-bit"],
)
def test_tampered_checkpoint_is_refused(tamper: Callable[[str], str]) -> None:
    note = sign_note(ru_checkpoint().body(), RU_NAME, RU)
    tampered = tamper(note)
    assert tampered != note
    with pytest.raises(BadSignature):
        open_checkpoint(tampered, {RU_NAME: RU.public_key()})


def _flip_root_bit(note: str) -> str:
    origin, size, root64, rest = note.split("\n", 3)
    root = bytearray(base64.b64decode(root64))
    root[0] ^= 1
    return "\n".join([origin, size, base64.b64encode(bytes(root)).decode(), rest])


def _flip_signature_bit(note: str) -> str:
    text, signatures = parse_note(note)
    name, kid, signature = signatures[0]
    flipped = NoteSignature(name, kid, bytes([signature[0] ^ 1]) + signature[1:])
    return text + "\n" + flipped.line()


def test_signature_by_another_key_under_a_known_name_is_ignored() -> None:
    note = sign_note(ru_checkpoint().body(), RU_NAME, US)  # right name, wrong key
    with pytest.raises(UnknownKey):
        open_checkpoint(note, {RU_NAME: RU.public_key()})


def test_signature_by_another_key_claiming_the_known_key_id_is_refused() -> None:
    text = ru_checkpoint().body()
    forged = NoteSignature(RU_NAME, key_id(RU_NAME, RU.public_key()), US.sign(text.encode()))
    with pytest.raises(BadSignature):
        open_checkpoint(text + "\n" + forged.line(), {RU_NAME: RU.public_key()})


@pytest.mark.parametrize(
    "call",
    [
        lambda: sign_note("no final newline", RU_NAME, RU),
        lambda: sign_note("bell \x07\n", RU_NAME, RU),
        lambda: sign_note(TEXT, RU_NAME, "key"),  # type: ignore[arg-type]
        lambda: open_note(12, {}),  # type: ignore[arg-type]
        lambda: open_note(PETER["signed"], {PETER_NAME: "key"}),  # type: ignore[dict-item]
        lambda: parse_verifier_key(None),  # type: ignore[arg-type]
        lambda: add_signature(TEXT, US_NAME, US),  # not a signed note
    ],
)
def test_bad_arguments_raise_validation_error(call: Callable[[], object]) -> None:
    with pytest.raises(ValidationError):
        call()


# --- the intended use: co-sign only what extends what was co-signed --------------------------


def test_peer_co_signs_a_newer_checkpoint_only_after_a_consistency_proof() -> None:
    log = [b"envelope %d" % i for i in range(12)]
    old = Checkpoint(RU_NAME, 7, Frontier.from_leaf_hashes(map(leaf_hash, log[:7])).root())
    new = Checkpoint(RU_NAME, 12, Frontier.from_leaf_hashes(map(leaf_hash, log)).root())
    proof = consistency_proof(log, old.size, new.size)
    assert verify_consistency(old.size, new.size, old.root, new.root, proof)
    rewritten = [*log[:3], b"edited", *log[4:]]
    forked = Checkpoint(RU_NAME, 12, Frontier.from_leaf_hashes(map(leaf_hash, rewritten)).root())
    assert not verify_consistency(old.size, forked.size, old.root, forked.root, proof)
    fork_proof = consistency_proof(rewritten, old.size, forked.size)
    assert not verify_consistency(old.size, forked.size, old.root, forked.root, fork_proof)


# --- properties --------------------------------------------------------------------------------

origins = st.text(
    alphabet=st.characters(min_codepoint=0x20, codec="utf-8"), min_size=1, max_size=40
)


@settings(max_examples=100, deadline=None)
@given(
    origin=origins,
    size=st.integers(0, 2**63 - 1),
    root=st.binary(min_size=32, max_size=32),
    extensions=st.lists(origins, max_size=3),
)
def test_any_checkpoint_round_trips_signed(
    origin: str, size: int, root: bytes, extensions: list[str]
) -> None:
    checkpoint = Checkpoint(origin, size, root, tuple(extensions))
    note = add_signature(sign_note(checkpoint.body(), RU_NAME, RU), US_NAME, US)
    keys = {RU_NAME: RU.public_key(), US_NAME: US.public_key()}
    assert (checkpoint, [RU_NAME, US_NAME]) == open_checkpoint(note, keys)
