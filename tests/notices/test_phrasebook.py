"""The phrasebook: codes to agreed texts, identified by the hash of its canonical JSON."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from hotline.domain.notices.models import CodedMessage, parse_notice
from hotline.domain.notices.phrasebook import Phrasebook
from hotline.errors import ValidationError
from hotline.render.notices import render

from .conftest import load_example

TINY = {"version": "1", "entries": [{"code": 1, "en": "Test.", "ru": "Проверка."}]}
# RFC 8785 by hand: keys sorted, no whitespace, UTF-8 as is
TINY_CANONICAL = '{"entries":[{"code":1,"en":"Test.","ru":"Проверка."}],"version":"1"}'


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "book.json"
    path.write_text(text, encoding="utf-8")
    return path


def test_hash_is_sha256_of_the_canonical_json(tmp_path: Path) -> None:
    book = Phrasebook.load(write(tmp_path, json.dumps(TINY, indent=4)))

    assert hashlib.sha256(TINY_CANONICAL.encode()).hexdigest() == book.hash


def test_hash_ignores_layout_and_key_order(tmp_path: Path) -> None:
    reordered = '{ "entries": [ {"ru": "Проверка.", "en": "Test.", "code": 1} ],\n "version": "1" }'

    assert Phrasebook(TINY).hash == Phrasebook.load(write(tmp_path, reordered)).hash


def test_hash_changes_with_a_single_word() -> None:
    changed = {"version": "1", "entries": [{"code": 1, "en": "Test!", "ru": "Проверка."}]}

    assert Phrasebook(TINY).hash != Phrasebook(changed).hash


def test_default_phrasebook_has_about_twenty_entries_in_both_languages() -> None:
    book = Phrasebook.default()

    assert ("2026.1", list(range(1, 22))) == (book.version, [e.code for e in book.entries])
    assert "This is a test of the line." == book.lookup(1).en
    assert "Это проверка линии связи." == book.lookup(1).ru


def test_lookup_of_an_unknown_code_is_refused_naming_the_field() -> None:
    with pytest.raises(ValidationError) as caught:
        Phrasebook.default().lookup(99)

    assert "code" == caught.value.context["field"]
    assert "code: unknown code 99 in phrasebook version 2026.1" == caught.value.message


def test_a_different_phrasebook_is_refused_with_both_hashes() -> None:
    ours = Phrasebook.default()
    theirs = Phrasebook(TINY)

    with pytest.raises(ValidationError) as caught:
        ours.check_compatible(theirs.hash)

    assert "phrasebook_hash" == caught.value.context["field"]
    assert f"has hash {theirs.hash}, ours (version 2026.1) has {ours.hash}" in caught.value.message


def test_the_same_phrasebook_is_compatible() -> None:
    Phrasebook.default().check_compatible(Phrasebook.default().hash)


def test_coded_message_from_another_phrasebook_is_not_rendered() -> None:
    body = load_example("coded_message.json") | {"phrasebook_hash": Phrasebook(TINY).hash}

    with pytest.raises(ValidationError, match="phrasebook mismatch"):
        render(parse_notice(body), "en")


def test_coded_message_with_a_wrong_version_is_refused() -> None:
    body = load_example("coded_message.json") | {"phrasebook_version": "2025.9"}

    with pytest.raises(ValidationError) as caught:
        Phrasebook.default().check_message(CodedMessage.model_validate(body))

    assert "phrasebook_version" == caught.value.context["field"]


def test_coded_message_with_an_unknown_code_is_refused() -> None:
    body = load_example("coded_message.json") | {"code": 99}

    with pytest.raises(ValidationError, match="code: unknown code 99"):
        render(parse_notice(body), "ru")


def test_coded_message_body_names_this_phrasebook() -> None:
    book = Phrasebook.default()

    expected = CodedMessage(
        type="coded_message", code=9, phrasebook_version="2026.1", phrasebook_hash=book.hash
    )
    assert expected == book.coded_message(9)


def test_the_example_coded_message_names_the_packaged_phrasebook() -> None:
    assert Phrasebook.default().hash == load_example("coded_message.json")["phrasebook_hash"]


def test_duplicate_codes_are_refused() -> None:
    entry = {"code": 1, "en": "Test.", "ru": "Проверка."}
    twice = {"version": "1", "entries": [entry, entry]}

    with pytest.raises(ValidationError, match="code 1 appears twice"):
        Phrasebook(twice)


def test_entries_need_both_languages() -> None:
    with pytest.raises(ValidationError, match=r"entries\[0\]\.ru"):
        Phrasebook({"version": "1", "entries": [{"code": 1, "en": "Test."}]})


def test_unreadable_file_is_a_validation_error(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="cannot read phrasebook"):
        Phrasebook.load(write(tmp_path, "{not json"))
