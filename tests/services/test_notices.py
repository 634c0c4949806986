"""Notices, coded messages and translations carried by the line between two nodes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from hotline.domain.notices.models import parse_notice
from hotline.errors import ConfigError, Conflict, Forbidden, PhrasebookMismatch, ValidationError
from hotline.render.machine import Draft
from hotline.render.notices import render
from hotline.services.notices.service import Notices
from tests.conftest import MakeNode, MakePair, Pair
from tests.notices.conftest import present_rule
from tests.services.test_line import forged, post, stored

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "notices"


def example(name: str) -> dict[str, Any]:
    return dict(json.loads((EXAMPLES / f"{name}.json").read_text(encoding="utf-8")))


def other(party: str) -> str:
    return "ru" if party == "us" else "us"


def sent_example(pair: Pair, sender: str, name: str, **changes: Any) -> str:
    """Send an example from ``sender`` to the other node, deliver it, return its id."""
    body = example(name) | changes
    sent = pair.node(sender).notices.send(
        other(sender), body, precedence="ROUTINE", lang=None, user="o"
    )
    pair.flush()
    return str(sent["message"]["id"])


def linked(pair: Pair, name: str, sender: str = "us") -> dict[str, Any]:
    """An example whose reference names a real message of the right kind on the line.

    The files in examples/notices refer to ids no node holds: a request concerns a
    notice (here one the other side sent), an answer a request the other side sent,
    an invitation the sender's own exercise notification, an observer answer an
    invitation the other side sent.
    """
    notice = example(name)
    hazard = "activity_notice_hazardous_activity"
    if name == "deconfliction_request":
        notice["refers_to"] = sent_example(pair, other(sender), hazard)
        notice["concerns"] = [concern(notice["refers_to"])]
    elif name == "deconfliction_answer":
        notice["refers_to"] = request_to(pair, sender, hazard)
    elif name == "deconfliction_concurrence":
        request = request_to(pair, other(sender), hazard)
        answer = example("deconfliction_answer") | {"refers_to": request}
        notice["refers_to"] = sent_example(pair, other(sender), "deconfliction_answer", **answer)
    elif name == "observer_invitation":
        notice["exercise_ref"] = sent_example(pair, sender, "exercise_notification")
    elif name == "observer_answer":  # answers an invitation the other side sent
        exercise = sent_example(pair, other(sender), "exercise_notification")
        notice["invitation_ref"] = sent_example(
            pair, other(sender), "observer_invitation", exercise_ref=exercise
        )
    elif name == "notice_amendment":
        notice["refers_to"] = sent_example(pair, sender, "exercise_notification")
    elif name == "notice_cancellation":
        notice["refers_to"] = sent_example(pair, sender, "activity_notice_missile_launch")
    elif name == "incident_account":  # a case opened from a report on the line
        report = sent_example(pair, sender, "incident_report")
        notice["opened_from"] = {"kind": "incident_report", "ref": report}
    return notice


def concern(message_id: str, volume_id: str = "G1") -> dict[str, Any]:
    """A reference to version 1 of a volume (G1: the hazardous-activity example's)."""
    return {"message_id": message_id, "volume_id": volume_id, "version": 1}


def request_to(pair: Pair, sender: str, notice: str) -> str:
    """``sender``'s notice, and the other side's request about it; the request's id."""
    activity = sent_example(pair, sender, notice)
    return sent_example(
        pair,
        other(sender),
        "deconfliction_request",
        refers_to=activity,
        concerns=[concern(activity)],
    )


@pytest.mark.parametrize(
    "name", sorted(p.stem for p in EXAMPLES.glob("*.json") if p.stem != "coded_message")
)
def test_each_notice_reaches_the_peer_rendered_in_both_languages(pair: Pair, name: str) -> None:
    notice = linked(pair, name)
    sent = pair.us.notices.send("ru", notice, precedence="PRIORITY", lang="en", user="o")
    pair.flush()
    shown = pair.ru.show(sent["message"]["id"])
    parsed = parse_notice(notice)
    for lang in ("en", "ru"):
        expected = render(
            parsed, lang, sender="us", receiver="ru", message_id=shown["id"],
            sent_at=pair.ru.clock.now().replace(microsecond=0),
        )  # fmt: skip
        assert expected == shown["rendering"][lang]
    assert sent["rendering"] == shown["rendering"]  # the sender sees what the receiver sees
    assert sent["findings"] == shown["findings"]  # both sides see the same findings
    assert notice["type"] == shown["type"]


def test_the_rendering_returned_on_send_carries_the_id_and_time(pair: Pair) -> None:
    sent = pair.us.notices.send_code("ru", 1, precedence="ROUTINE", user="o")

    header = [line for text in sent["rendering"].values() for line in text.splitlines()[3:5]]
    assert [
        f"MSG ID: {sent['message']['id']}",
        "DTG: 211430Z NOV 26",  # the fake clock: 2026-11-21T14:30:00Z
        f"НОМЕР СООБЩЕНИЯ: {sent['message']['id']}",
        "ДАТА-ВРЕМЯ: 211430Z НОЯ 26",
    ] == header


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
    """A translator certifies, never the one who translated; an officer cannot."""
    for name, roles in (("anna", ["translator"]), ("boris", ["translator"]), ("oleg", ["officer"])):
        pair.ru.auth.add_user(name, "correct horse battery", roles)
    sent = pair.us.line.send(to="ru", text="Request a call at 1400Z.", user="o")
    pair.flush()
    translation = pair.ru.notices.translate(sent["id"], "ru", "Просим звонок в 1400Z.", "anna")
    assert translation["certified_by"] is None
    with pytest.raises(Forbidden) as caught:
        pair.ru.notices.certify(translation["id"], "anna")
    assert "cannot certify their own" in caught.value.message
    by_officer = pair.ru.notices.translate(sent["id"], "ru", "Звонок в 1400Z.", "oleg")
    for who, which in (("oleg", translation), ("oleg", by_officer), ("nobody", translation)):
        with pytest.raises(Forbidden, match="it takes the translator role"):
            pair.ru.notices.certify(which["id"], who)
    # a translator certifies an officer's translation: the translator's judgement counts
    assert "anna" == pair.ru.notices.certify(by_officer["id"], "anna")["certified_by"]
    certified = pair.ru.notices.certify(translation["id"], "boris")
    assert ("boris", "anna") == (certified["certified_by"], certified["translator"])
    shown = pair.ru.show(sent["id"])
    assert "Request a call at 1400Z." == shown["body"]["text"]  # the original is kept
    assert [("ru", "anna", "boris"), ("ru", "oleg", "anna")] == [
        (t["lang"], t["translator"], t["certified_by"]) for t in shown["translations"]
    ]
    assert ["received", "translated", "translated", "certified", "certified"] == [
        s["kind"] for s in shown["trail"]
    ]


def test_without_a_translator_the_machine_draft_says_none_is_available(pair: Pair) -> None:
    sent = pair.us.line.send(to="ru", text="Hello", user="o")
    pair.flush()
    with pytest.raises(Conflict) as caught:
        pair.ru.notices.draft(sent["id"], "ru", "anna")
    assert "машинный перевод недоступен" == caught.value.message


def test_a_notices_free_text_has_no_draft_without_a_translator(pair: Pair) -> None:
    sent = pair.us.notices.send(
        "ru", example("incident_report"), precedence="ROUTINE", lang="en", user="o"
    )
    pair.flush()
    with pytest.raises(Conflict) as caught:
        pair.ru.notices.draft(sent["message"]["id"], "ru", "anna")
    assert "машинный перевод недоступен" == caught.value.message


class Shouting:
    """A translator for the test: its "translation" is the text in capitals."""

    def draft(self, text: str, source: str, target: str) -> Draft | None:
        return Draft(original=text, text=text.upper(), source=source, target=target, engine="t")


def test_a_notices_free_text_is_drafted_under_its_labels(pair: Pair) -> None:
    notice = example("incident_report") | {"description": "Pass at 30 m."}
    sent = pair.us.notices.send("ru", notice, precedence="ROUTINE", lang="en", user="o")
    pair.flush()
    notices = Notices(pair.ru.line, translator=Shouting())

    made = notices.draft(sent["message"]["id"], "ru", "anna")

    assert ("[машинный черновик — не заверен] ОПИСАНИЕ: PASS AT 30 M.", True) == (
        made["text"],
        bool(made["machine"]),
    )


def test_a_notice_without_free_text_has_nothing_to_draft(pair: Pair) -> None:
    sent = pair.us.notices.send_code("ru", 1, precedence="ROUTINE", user="o")
    pair.flush()
    with pytest.raises(ValidationError, match="a coded_message message has no free text"):
        Notices(pair.ru.line, translator=Shouting()).draft(sent["message"]["id"], "ru", "anna")


def test_a_draft_into_the_messages_own_language_is_refused_as_such(pair: Pair) -> None:
    sent = pair.us.line.send(to="ru", text="Привет", lang="ru", user="o")
    pair.flush()
    with pytest.raises(ValidationError) as caught:
        pair.ru.notices.draft(sent["id"], "ru", "anna")
    assert f"message {sent['id']} is written in ru already: nothing to translate" == (
        caught.value.message
    )


# --- references between notices ---------------------------------------------------------------


def test_an_answer_to_a_request_that_does_not_exist_is_refused(pair: Pair) -> None:
    with pytest.raises(ValidationError) as caught:
        pair.us.notices.send(
            "ru", example("deconfliction_answer"), precedence="ROUTINE", lang=None, user="o"
        )
    assert "refers_to" == caught.value.context["field"]
    assert caught.value.message.startswith(
        "refers_to: no message 7c1e5b2a-4d3f-4a8e-b6c9-0e1f2a3b4c5d on the line with ru"
    )


def test_an_answer_must_refer_to_a_request(pair: Pair) -> None:
    notice_id = sent_example(pair, "ru", "activity_notice_hazardous_activity")
    answer = example("deconfliction_answer") | {"refers_to": notice_id}
    with pytest.raises(ValidationError) as caught:
        pair.us.notices.send("ru", answer, precedence="ROUTINE", lang=None, user="o")
    assert (
        f"refers_to: message {notice_id} is an activity_notice, not a deconfliction_request"
        == caught.value.message
    )


def test_an_answer_cannot_answer_the_senders_own_request(pair: Pair) -> None:
    activity = sent_example(pair, "ru", "activity_notice_hazardous_activity")
    own = sent_example(
        pair, "us", "deconfliction_request", refers_to=activity, concerns=[concern(activity)]
    )
    answer = example("deconfliction_answer") | {"refers_to": own}
    with pytest.raises(ValidationError, match="refers to a deconfliction_request sent by ru"):
        pair.us.notices.send("ru", answer, precedence="ROUTINE", lang=None, user="o")


def test_a_reference_to_a_message_on_another_line_is_refused(
    pair: Pair, make_node: MakeNode
) -> None:
    ua = make_node("ua")
    pair.us.add_peer(ua.identity.card().wire())
    elsewhere = pair.us.notices.send(
        "ua",
        example("activity_notice_hazardous_activity"),
        precedence="ROUTINE",
        lang=None,
        user="o",
    )
    request = example("deconfliction_request") | {"refers_to": elsewhere["message"]["id"]}
    with pytest.raises(ValidationError, match="on the line with ru"):
        pair.us.notices.send("ru", request, precedence="ROUTINE", lang=None, user="o")


def test_an_invitation_names_the_senders_own_exercise(pair: Pair) -> None:
    theirs = sent_example(pair, "ru", "exercise_notification")
    invitation = example("observer_invitation") | {"exercise_ref": theirs}
    with pytest.raises(ValidationError) as caught:
        pair.us.notices.send("ru", invitation, precedence="ROUTINE", lang=None, user="o")
    assert "exercise_ref" == caught.value.context["field"]


def test_a_shown_notice_names_the_message_it_refers_to(pair: Pair) -> None:
    exercise = sent_example(pair, "us", "exercise_notification")
    invitation = sent_example(pair, "us", "observer_invitation", exercise_ref=exercise)

    shown = pair.ru.show(invitation)

    assert {
        "field": "exercise_ref",
        "id": exercise,
        "found": True,
        "type": "exercise_notification",
        "direction": "in",
        "created": "2026-11-21T14:30:00.000Z",
        "summary": {
            "en": "EXERCISE NOTIFICATION: Щит Союза-2027",
            "ru": "УВЕДОМЛЕНИЕ ОБ УЧЕНИИ: Щит Союза-2027",
        },
    } == shown["link"]


# --- agreement rules on a node ----------------------------------------------------------------


def rules_file(folder: Path, rules: list[dict[str, Any]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    text = json.dumps({"parties": ["us", "ru"], "version": "t", "rules": rules})
    (folder / "us-ru.json").write_text(text, encoding="utf-8")
    return folder


def test_a_node_with_a_broken_rules_file_does_not_start(
    make_node: MakeNode, tmp_path: Path
) -> None:
    rule = present_rule(check={"kind": "present", "fields": ["contact_frequncy"]})
    folder = rules_file(tmp_path / "rules", [rule])
    with pytest.raises(ConfigError) as caught:
        make_node("us", rules_dir=str(folder))
    assert caught.value.message.startswith(f"rules file {folder / 'us-ru.json'}: ")
    assert "activity_notice has no field 'contact_frequncy'" in caught.value.message


def test_a_node_without_a_rules_file_for_a_pair_checks_no_rules(
    make_pair: MakePair, tmp_path: Path
) -> None:
    (tmp_path / "empty").mkdir()
    with make_pair(us={"rules_dir": str(tmp_path / "empty")}) as pair:
        sent = pair.us.notices.send(
            "ru",
            example("activity_notice_missile_launch"),
            precedence="ROUTINE",
            lang=None,
            user="o",
        )
    assert [] == sent["findings"]


def test_a_rules_file_broken_after_start_fails_loudly(make_pair: MakePair, tmp_path: Path) -> None:
    folder = rules_file(tmp_path / "rules", [present_rule(blocking=False)])
    notice = example("activity_notice_missile_launch")
    with make_pair(us={"rules_dir": str(folder)}) as pair:
        before = pair.us.notices.send("ru", notice, precedence="ROUTINE", lang=None, user="o")
        (folder / "us-ru.json").write_text("{", encoding="utf-8")

        with pytest.raises(ConfigError, match="cannot read rules file"):
            pair.us.notices.prepare("ru", notice)
        with pytest.raises(ConfigError, match="cannot read rules file"):
            pair.us.notices.send("ru", notice, precedence="ROUTINE", lang=None, user="o")
        shown = pair.us.show(before["message"]["id"])

    assert ("config", []) == (shown["findings_error"]["code"], shown["findings"])


def test_a_blocked_notice_is_refused_saying_which_rule_and_why(
    make_pair: MakePair, tmp_path: Path
) -> None:
    folder = rules_file(tmp_path / "rules", [present_rule()])
    with make_pair(us={"rules_dir": str(folder)}) as pair, pytest.raises(Conflict) as caught:
        pair.us.notices.send(
            "ru",
            example("activity_notice_missile_launch"),
            precedence="ROUTINE",
            lang=None,
            user="o",
        )
    assert (
        "the agreement rules block sending this notice: frequency-given "
        "(Contact frequency given): missing: contact_frequency"
    ) == caught.value.message
