"""The console's labels: every one has a Russian entry with the same placeholders."""

from __future__ import annotations

import string

from babel.messages.pofile import read_po

from hotline.render.i18n import catalog_path
from hotline.web.i18n import console_msgids


def catalog(lang: str) -> dict[str, str]:
    with catalog_path(lang).open("rb") as po:
        return {str(m.id): str(m.string) for m in read_po(po) if m.id}


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_extraction_finds_the_console_labels() -> None:
    assert {"Acknowledge", "Needs acknowledgement", "Open alarms: {n}"} <= console_msgids()


def test_every_console_label_has_a_russian_entry_with_its_placeholders() -> None:
    russian = catalog("ru")
    missing = sorted(m for m in console_msgids() if not russian.get(m))
    mismatched = sorted(
        m
        for m in console_msgids()
        if russian.get(m) and placeholders(m) != placeholders(russian[m])
    )

    assert ([], []) == (missing, mismatched)


def test_every_console_label_is_in_the_english_catalog() -> None:
    assert [] == sorted(console_msgids() - set(catalog("en")))
