"""Every file in examples/notices parses, round-trips, renders and passes its rules."""

from __future__ import annotations

import json

import pytest

from hotline.domain.notices.models import NOTICE_TYPES, parse_notice, to_wire
from hotline.render.notices import render
from hotline.services.notices.rules import check

from .conftest import EXAMPLE_ENVELOPES, EXAMPLES_DIR

EXAMPLES = sorted(p.name for p in EXAMPLES_DIR.glob("*.json"))


def test_every_type_has_an_example_and_every_example_a_sending_time() -> None:
    types = {json.loads((EXAMPLES_DIR / name).read_text())["type"] for name in EXAMPLES}

    assert (set(NOTICE_TYPES), set(EXAMPLES)) == (types, set(EXAMPLE_ENVELOPES))


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_round_trips_to_the_same_json(name: str) -> None:
    data = json.loads((EXAMPLES_DIR / name).read_text(encoding="utf-8"))

    assert data == to_wire(parse_notice(data))


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_passes_its_rules(name: str) -> None:
    sender, receiver, sent_at = EXAMPLE_ENVELOPES[name]
    notice = parse_notice(json.loads((EXAMPLES_DIR / name).read_text(encoding="utf-8")))

    findings = check(notice, sent_at=sent_at, sender=sender, receiver=receiver)

    assert [] == [f.rule_id for f in findings if not f.satisfied]


@pytest.mark.parametrize("name", EXAMPLES)
@pytest.mark.parametrize("lang", ["en", "ru"])
def test_example_renders_with_the_same_number_of_lines_in_both_languages(
    name: str, lang: str
) -> None:
    notice = parse_notice(json.loads((EXAMPLES_DIR / name).read_text(encoding="utf-8")))

    lines = render(notice, lang).splitlines()

    assert len(render(notice, "en").splitlines()) == len(lines)
