"""``canonical`` writes what signed JSON holds with the standard library's C encoder: this
proves it byte for byte equal to the ``rfc8785`` package on every value the wire can carry
(strings of any characters, safe integers, booleans, null, nested arrays and objects),
and that what it cannot write the same way (keys beyond ASCII, lone surrogates) still
comes out, or is refused, exactly as rfc8785 does it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.errors import MalformedMessage
from hotline.protocol import canonical as canonical_module
from hotline.protocol.canonical import canonical

SAFE = 2**53 - 1
texts = st.text(alphabet=st.characters(codec="utf-8"), max_size=40)
ascii_keys = st.text(alphabet=st.characters(codec="ascii"), max_size=12)
any_keys = st.text(alphabet=st.characters(codec="utf-8"), max_size=12)
scalars = st.none() | st.booleans() | st.integers(-SAFE, SAFE) | texts


def values(keys: st.SearchStrategy[str]) -> st.SearchStrategy[Any]:
    return st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=6) | st.dictionaries(keys, inner, max_size=6),
        max_leaves=40,
    )


@settings(max_examples=3000, deadline=None)
@given(values(ascii_keys))
def test_the_fast_encoder_is_rfc8785_byte_for_byte(value: Any) -> None:
    assert rfc8785.dumps(value) == canonical(value)


@settings(max_examples=1000, deadline=None)
@given(values(any_keys))
def test_keys_beyond_ascii_are_written_as_rfc8785_does(value: Any) -> None:
    assert rfc8785.dumps(value) == canonical(value)


def test_every_character_that_needs_care() -> None:
    every_bmp = "".join(chr(c) for c in range(0xD800))  # all controls, DEL, U+2028/9, …
    tricky = [
        every_bmp,
        "".join(chr(c) for c in range(0xE000, 0x10000)),
        "\U0001d11e \U0001f680 \U0010ffff",
        'quote " backslash \\ slash / \b\f\n\r\t',
        "",
    ]
    for text in tricky:
        value = {"t": text, "l": [text], "n": {"k": text}, "i": [0, -1, SAFE, -SAFE]}
        assert rfc8785.dumps(value) == canonical(value)
    # keys that sort differently by code point and by UTF-16 (RFC 8785's order)
    keys = {"\U0001f680": 1, "\ufb01": 2, "a": 3}
    assert rfc8785.dumps(keys) == canonical(keys)
    assert canonical(keys).index(b"\xf0\x9f\x9a\x80") < canonical(keys).index(b"\xef\xac\x81")


def test_a_lone_surrogate_is_refused_as_rfc8785_refuses_it() -> None:
    with pytest.raises(rfc8785.CanonicalizationError):
        canonical({"t": "\ud800"})


@pytest.mark.parametrize("bad", [1.5, {"a": [2**53]}, {"a": {1: 2}}, {"a": object()}])
def test_what_signed_json_cannot_hold_is_refused(bad: Any) -> None:
    with pytest.raises(MalformedMessage):
        canonical(bad)


def test_the_stored_vectors_keep_their_bytes() -> None:
    """Every JSON object of the stored vectors encodes as rfc8785 encodes it (the
    envelope known-answer test pins its own bytes in test_envelope.py)."""
    vectors = Path(__file__).parent / "vectors"
    found: list[Any] = []

    def objects(value: Any) -> None:
        if isinstance(value, dict):
            found.append(value)
            for item in value.values():
                objects(item)
        elif isinstance(value, list):
            for item in value:
                objects(item)

    for path in sorted(vectors.glob("*.json")):
        objects(json.loads(path.read_text("utf-8"), parse_float=str))
    assert found
    assert [rfc8785.dumps(obj) for obj in found] == [canonical(obj) for obj in found]


def test_a_wrong_fast_encoder_would_be_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """The comparisons above can fail: an encoder escaping non-ASCII (one plausible
    mistake) is told apart at once."""
    wrong = json.JSONEncoder(sort_keys=True, separators=(",", ":")).encode
    monkeypatch.setattr(canonical_module, "_FAST", wrong)
    assert rfc8785.dumps({"t": "é"}) != canonical({"t": "é"})
