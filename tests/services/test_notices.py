"""Notices, coded messages and translations carried by the line between two nodes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from hotline.domain.notices import parse_notice
from hotline.errors import Conflict, Forbidden, PhrasebookMismatch, ValidationError
from hotline.render.notices import render
from tests.conftest import MakeNode, Pair
from tests.services.test_line import forged, post, stored

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "notices"


def example(name: str) -> dict[str, Any]:
    return dict(json.loads((EXAMPLES / f"{name}.json").read_text(encoding="utf-8")))


@pytest.mark.parametrize(
    "name", sorted(p.stem for p in EXAMPLES.glob("*.json") if p.stem != "coded_message")
)
def test_each_notice_reaches_the_peer_rendered_in_both_languages(pair: Pair, name: str) -> None:
    notice = example(name)
    sent = pair.us.notices.send("ru", notice, precedence="PRIORITY", lang="en", user="o")
    pair.flush()
    shown = pair.ru.show(sent["message"]["id"])
    parsed = parse_notice(notice)
    for lang in ("en", "ru"):
        expected = render(
            parsed, lang, sender="us", receiver="ru", message_id=shown["id"],
            sent_at=pair.ru.clock.now().replace(microsecond=0),
        )  # fmt: skip
        assert expected.splitlines()[1:] == shown["rendering"][lang].splitlines()[1:]
    assert sent["findings"] == shown["findings"]  # both sides see the same findings
    assert notice["type"] == shown["type"]


def test_a_notice_missing_its_impact_area_is_refused_naming_the_field(pair: Pair) -> None:
    notice = example("activity_notice_missile_launch")
    del notice["impact_area"]
    with pytest.raises(ValidationError) as caught:
        pair.us.notices.send("ru", notice, precedence="FLASH", lang="en", user="o")
    assert "impact_area" in caught.value.message
    assert 0 == stored(pair.us)[0]


def test_a_late_missile_launch_notice_is_sent_with_its_finding(pair: Pair, clock: Any) -> None:
    notice = example("activity_notice_missile_launch")
    clock.set(clock.now().replace(year=2026, month=12, day=2, hour=12, minute=0))  # 21 h ahead
    sent = pair.us.notices.send("ru", notice, precedence="FLASH", lang="en", user="o")
    late = [f for f in sent["findings"] if not f["satisfied"]]
    assert 1 == len(late)
    assert late[0]["margin_s"] == -3 * 3600
    assert "queued" == sent["message"]["state"]


def test_a_coded_message_shows_its_full_text_in_both_languages(pair: Pair) -> None:
    book = pair.us.identity.phrasebook
    sent = pair.us.notices.send_code("ru", 1, precedence="ROUTINE", user="o")
    pair.flush()
    shown = pair.ru.show(sent["message"]["id"])
    entry = book.lookup(1)
    assert entry.en in shown["rendering"]["en"]
    assert entry.ru in shown["rendering"]["ru"]


def test_an_unknown_code_is_refused(pair: Pair) -> None:
    with pytest.raises(ValidationError) as caught:
        pair.us.notices.send_code("ru", 9999, precedence="ROUTINE", user="o")
    assert "unknown code 9999" in caught.value.message


def test_a_phrasebook_mismatch_is_refused_before_sending(
    make_node: MakeNode, tmp_path: Path
) -> None:
    data = json.loads(
        (
            Path(__file__).resolve().parents[2] / "src/hotline/data/phrasebook/default.json"
        ).read_text(encoding="utf-8")
    )
    data["version"] = "2027.1"
    other = tmp_path / "other-phrasebook.json"
    other.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    us, ru = make_node("us"), make_node("ru", phrasebook=str(other))
    us.add_peer(ru.identity.card().wire())
    with pytest.raises(PhrasebookMismatch) as caught:
        us.notices.send_code("ru", 1, precedence="ROUTINE", user="o")
    assert "2027.1" in caught.value.message


def test_the_receiver_refuses_a_code_from_another_phrasebook(pair: Pair) -> None:
    body = pair.us.identity.phrasebook.coded_message(1).model_dump(mode="json")
    body["phrasebook_hash"] = "0" * 64
    before = stored(pair.ru)
    response = post(
        pair, "ru", {"envelopes": [forged(pair, sign={"type": "coded_message", "body": body})]}
    )
    assert (409, "phrasebook_mismatch") == (response.status_code, response.json()["error"]["code"])
    assert before == stored(pair.ru)


def test_translation_needs_a_second_person_to_certify(pair: Pair) -> None:
    sent = pair.us.line.send(to="ru", text="Request a call at 1400Z.", user="o")
    pair.flush()
    translation = pair.ru.notices.translate(sent["id"], "ru", "Просим звонок в 1400Z.", "anna")
    assert translation["certified_by"] is None
    with pytest.raises(Forbidden) as caught:
        pair.ru.notices.certify(translation["id"], "anna")
    assert "cannot certify their own" in caught.value.message
    certified = pair.ru.notices.certify(translation["id"], "boris")
    assert ("boris", "anna") == (certified["certified_by"], certified["translator"])
    shown = pair.ru.show(sent["id"])
    assert "Request a call at 1400Z." == shown["body"]["text"]  # the original is kept
    assert [("ru", "anna", "boris")] == [
        (t["lang"], t["translator"], t["certified_by"]) for t in shown["translations"]
    ]
    assert ["received", "translated", "certified"] == [s["kind"] for s in shown["trail"]]


def test_without_a_translator_the_machine_draft_says_none_is_available(pair: Pair) -> None:
    sent = pair.us.line.send(to="ru", text="Hello", user="o")
    pair.flush()
    with pytest.raises(Conflict) as caught:
        pair.ru.notices.draft(sent["id"], "ru", "anna")
    assert "машинный перевод недоступен" in caught.value.message or "no machine" in str(
        caught.value.message
    )
