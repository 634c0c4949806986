"""The gettext catalogs: every label in the code has a Russian text, with its placeholders."""

from __future__ import annotations

import string
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po

from hotline.errors import ValidationError
from hotline.render.i18n import EXTRACT_KEYWORDS, catalog_path, gettext, t, translations

SRC = Path(__file__).resolve().parents[2] / "src" / "hotline"
#: Every Python module may use a label (renderings, rules, calls, the console's pages).
SOURCES = sorted(SRC.rglob("*.py"))
#: The console's templates use labels too, extracted with Jinja2's Babel extractor.
TEMPLATES = sorted((SRC / "web" / "templates").rglob("*.html"))


def msgids_in_code() -> set[str]:
    found = [("python", source) for source in SOURCES]
    found += [("jinja2.ext:babel_extract", template) for template in TEMPLATES]
    keywords = {**EXTRACT_KEYWORDS, "_": None}  # templates call gettext as _()
    return {
        message
        for method, source in found
        for _line, message, _comments, _context in extract_from_file(
            method, str(source), keywords=keywords
        )
        if isinstance(message, str)
    }


def catalog(lang: str) -> dict[str, str]:
    with catalog_path(lang).open("rb") as po:
        return {str(m.id): str(m.string) for m in read_po(po) if m.id}


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_code_finds_some_labels() -> None:
    # guards the tests below against an extraction that silently finds nothing
    assert {"MISSILE LAUNCH", "FROM {start} TO {end}", "NOV"} <= msgids_in_code()


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_catalog_holds_exactly_the_labels_the_code_uses(lang: str) -> None:
    assert msgids_in_code() == set(catalog(lang))


def test_every_russian_entry_is_translated_with_the_same_placeholders() -> None:
    untranslated = [m for m, s in catalog("ru").items() if not s]
    mismatched = [m for m, s in catalog("ru").items() if s and placeholders(m) != placeholders(s)]

    assert ([], []) == (untranslated, mismatched)


def test_english_catalog_is_identity() -> None:
    assert "MISSILE LAUNCH" == gettext("en", "MISSILE LAUNCH")


def test_russian_labels_come_from_the_catalog() -> None:
    assert ("ПУСК РАКЕТЫ", "С 1 ДО 2") == (
        gettext("ru", "MISSILE LAUNCH"),
        t("ru", "FROM {start} TO {end}", start=1, end=2),
    )


def test_unsupported_language_is_refused() -> None:
    with pytest.raises(ValidationError, match="unsupported language 'de'"):
        translations("de")
