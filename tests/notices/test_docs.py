"""docs/notices.md stays true: its renderings, rules table and phrasebook match the code."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from hotline.domain.notices.base import parse_utc
from hotline.domain.notices.models import parse_notice
from hotline.domain.notices.phrasebook import Phrasebook
from hotline.render.notices import render
from hotline.services.notices.rules import RULES_DIR

from .conftest import EXAMPLES_DIR

DOC = (Path(__file__).resolve().parents[2] / "docs" / "notices.md").read_text(encoding="utf-8")
RENDERING = re.compile(r"<!-- rendering: (\S+) (en|ru) (\S+) (\S+) (\S+) -->\n```\n(.*?)```", re.S)
SHOWN = RENDERING.findall(DOC)


def test_doc_shows_every_example_in_both_languages() -> None:
    expected = {(p.name, lang) for p in EXAMPLES_DIR.glob("*.json") for lang in ("en", "ru")}

    assert expected == {(name, lang) for name, lang, *_ in SHOWN}


@pytest.mark.parametrize(("name", "lang", "sender", "receiver", "at", "text"), SHOWN)
def test_doc_rendering_is_what_the_code_renders(
    name: str, lang: str, sender: str, receiver: str, at: str, text: str
) -> None:
    notice = parse_notice(json.loads((EXAMPLES_DIR / name).read_text(encoding="utf-8")))

    actual = render(notice, lang, sender=sender, receiver=receiver, sent_at=parse_utc(at))

    assert text == actual


def test_doc_lists_every_packaged_rule() -> None:
    ids = {r["id"] for f in RULES_DIR.glob("*.json") for r in json.loads(f.read_text())["rules"]}

    assert ids == {i for i in ids if f"| `{i}` |" in DOC}


def test_doc_lists_the_packaged_phrasebook() -> None:
    rows = [f"| {e.code} | {e.en} | {e.ru} |" for e in Phrasebook.default().entries]

    assert [] == [row for row in rows if row not in DOC]
