"""Escalation off the line (issue 15): the out-of-band contacts on the signed card, the
checklist, the signed and logged attempt records and their place in the evidence bundle;
deadlines on call requests, call answers and watch-level notices."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from hotline.clock import FakeClock, rfc3339
from hotline.errors import BadSignature, Conflict, NotFound, ValidationError
from hotline.protocol.envelope import open_card
from hotline.services.evidence import attempts as evidence_attempts
from hotline.services.evidence.bundle import export_bundle
from hotline.services.evidence.verify import verify_bundle
from hotline.services.line import escalation as escalation_service
from hotline.storage import evidence as log_store
from hotline.storage.tables.core import messages
from tests.calls.conftest import COMMANDER, OFFICER, PRINCIPALS, SECOND_COMMANDER
from tests.conftest import MakePair, Pair

#: The peer's ladder with the ways to reach each rung when the line is down.
RU_CONTACTS = [
    {
        "id": "duty",
        "role_en": "Duty desk",
        "role_ru": "Дежурный",
        "channels": [
            {
                "id": "voice",
                "kind": "voice",
                "value": "+7 495 000-00-01",
                "label_en": "NDCC duty officer",
                "label_ru": "Дежурный НЦУО",
                "hours": "24/7",
            },
            {
                "id": "fax",
                "kind": "fax",
                "value": "+7 495 000-00-02",
                "label_en": "Duty fax",
                "label_ru": "Факс дежурного",
            },
        ],
    },
    {
        "id": "watch",
        "role_en": "Watch commander",
        "role_ru": "Начальник смены",
        "channels": [
            {
                "id": "sat",
                "kind": "satphone",
                "value": "+870 77 000 0003",
                "label_en": "Inmarsat, watch commander",
                "label_ru": "Inmarsat, начальник смены",
            }
        ],
    },
]
US_CONTACTS = [
    {"id": "duty", "role_en": "Duty desk", "role_ru": "Дежурный"},
    {"id": "watch", "role_en": "Watch commander", "role_ru": "Начальник смены"},
]


@pytest.fixture
def oob(make_pair: MakePair) -> Iterator[Pair]:
    """us and ru, each with a ladder and principals on its card; ru's has channels."""
    with make_pair(
        us={"files": {"contacts.json": US_CONTACTS, "principals.json": PRINCIPALS["us"]}},
        ru={"files": {"contacts.json": RU_CONTACTS, "principals.json": PRINCIPALS["ru"]}},
    ) as made:
        yield made


# -- the card -------------------------------------------------------------------------------


def test_the_peers_channels_travel_on_its_signed_card(oob: Pair) -> None:
    [ru] = [p for p in oob.us.peer_list() if p["party"] == "ru"]
    assert RU_CONTACTS == ru["contacts"]
    card = oob.ru.identity.card().wire()
    assert "hours" not in card["contacts"][0]["channels"][1]  # absent, not null: as signed
    assert "channels" not in oob.us.identity.card().wire()["contacts"][0]


def test_a_card_whose_phone_number_was_changed_is_refused(oob: Pair) -> None:
    card = oob.ru.identity.card().wire()
    tampered = copy.deepcopy(card)
    tampered["contacts"][1]["channels"][0]["value"] = "+1 202 555 0100"
    with pytest.raises(BadSignature, match="signature does not verify"):
        oob.us.add_peer(tampered)
    open_card(card)  # the untouched card still verifies


def test_a_card_signed_before_channels_existed_still_verifies(pair: Pair) -> None:
    card = pair.ru.identity.card().wire()
    assert [] == card["contacts"]
    parsed, _ = open_card(json.loads(json.dumps(card)))
    assert card == parsed.wire()


def test_a_channel_of_an_unknown_kind_is_refused(oob: Pair) -> None:
    card = oob.ru.identity.card().wire()
    card["contacts"][0]["channels"][0]["kind"] = "pigeon"
    with pytest.raises(Exception, match=r"contacts\.0\.channels\.0\.kind"):
        open_card(card)


# -- the checklist and the attempts ---------------------------------------------------------


def overdue(pair: Pair, clock: FakeClock) -> str:
    """An IMMEDIATE message the peer never acknowledges, 30 min on: step 1 is due."""
    sent = pair.us.line.send(
        to="ru", text="Impact at 51.0N 23.9E", precedence="IMMEDIATE", user="o"
    )
    pair.flush()
    clock.advance(30 * 60)
    pair.us.deadlines.tick()
    return str(sent["id"])


def test_the_checklist_names_our_rung_and_the_peers_channels(oob: Pair, clock: FakeClock) -> None:
    message_id = overdue(oob, clock)
    listed = oob.us.escalation.checklist(message_id)
    assert (True, "watch") == (listed["overdue"], listed["alarm"]["detail"]["alert"])
    assert [("duty/voice", "+7 495 000-00-01", "24/7"), ("duty/fax", "+7 495 000-00-02", None)] == [
        (c["ref"], c["value"], c.get("hours")) for c in listed["contacts"][0]["channels"]
    ]
    assert ["Начальник смены"] == [s["role_ru"] for s in listed["steps"]]


def test_an_attempt_is_signed_logged_in_the_trail_and_on_the_checklist(
    oob: Pair, clock: FakeClock
) -> None:
    message_id = overdue(oob, clock)
    clock.advance(60)
    made = oob.us.escalation.record(
        message_id, contact="sat", result="no_answer", note="rang 40 times", user="duty1"
    )
    assert ("watch", "sat", "satphone", "+870 77 000 0003", "no_answer", "duty1") == (
        made["rung"],
        made["channel"],
        made["kind"],
        made["value"],
        made["result"],
        made["officer"],
    )
    with oob.us.db.read() as conn:
        [logged] = [e for e in log_store.entries_for(conn, message_id) if e.kind == "oob_attempt"]
    assert made["log_index"] == logged.idx
    assert "rang 40 times" == json.loads(logged.entry)["note"]
    assert "oob_attempt" == oob.us.show(message_id)["trail"][-1]["kind"]
    [channel] = oob.us.escalation.checklist(message_id)["contacts"][1]["channels"]
    assert [("duty1", "no_answer", made["at"])] == [
        (a["officer"], a["result"], a["at"]) for a in channel["attempts"]
    ]


@pytest.mark.parametrize(
    ("contact", "result", "words"),
    [
        ("pigeon", "reached", "no out-of-band contact 'pigeon'"),
        ("watch/voice", "reached", "no out-of-band contact 'watch/voice'"),
        ("duty/voice", "maybe", "result must be one of reached, no_answer, busy, failed"),
    ],
)
def test_a_bad_attempt_is_refused_saying_what_and_nothing_is_logged(
    oob: Pair, clock: FakeClock, contact: str, result: str, words: str
) -> None:
    message_id = overdue(oob, clock)
    with pytest.raises(ValidationError, match=words):
        oob.us.escalation.record(message_id, contact=contact, result=result, note=None, user="o")
    assert [] == oob.us.escalation.checklist(message_id)["attempts"]


def test_attempts_are_only_about_messages_we_sent(oob: Pair) -> None:
    sent = oob.ru.line.send(to="us", text="x", user="o")
    oob.flush()
    with pytest.raises(NotFound, match="sent by this node"):
        oob.us.escalation.record(sent["id"], contact="sat", result="busy", note=None, user="o")


def test_the_evidence_bundle_carries_the_attempts_and_says_what_they_prove(
    oob: Pair, clock: FakeClock
) -> None:
    message_id = overdue(oob, clock)
    oob.us.escalation.record(message_id, contact="duty/voice", result="busy", note=None, user="a")
    oob.us.escalation.record(
        message_id, contact="sat", result="reached", note="Col. Ivanov will ack", user="b"
    )
    raw = export_bundle(oob.us.evidence, message_id, allow_uncosigned=True)
    verdict = verify_bundle(raw, allow_uncosigned=True)
    assert ([], 2) == (verdict.failed, len(json.loads(raw)["attempts"]))
    said = [p for p in verdict.proven if p.startswith("OUT OF BAND")]
    assert 2 == len(said)
    assert "officer 'b' tried ru's watch by satphone +870 77 000 0003" in said[1]
    assert 'reached ("Col. Ivanov will ack")' in said[1]
    assert "ru did not sign this" in said[1]

    bundle = json.loads(raw)  # an attempt turned from "busy" into "reached" shows
    bundle["attempts"][0]["entry"] = bundle["attempts"][0]["entry"].replace("busy", "reached")
    forged = json.dumps(bundle, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    failed = verify_bundle(forged.encode() + b"\n", allow_uncosigned=True).failed
    assert any("attempt (entry" in f and "leaf hash" in f for f in failed)


def test_a_bundle_without_attempts_has_no_attempts_member(oob: Pair) -> None:
    sent = oob.us.line.send(to="ru", text="x", user="o")
    oob.flush()
    raw = export_bundle(oob.us.evidence, sent["id"], allow_uncosigned=True)
    assert "attempts" not in json.loads(raw)


# -- deadlines on the calls -----------------------------------------------------------------


def ask(pair: Pair, clock: FakeClock, precedence: str) -> dict[str, Any]:
    made = pair.us.calls.requests.request(
        to="ru",
        principal="secdef",
        counterpart="minister",
        topics=["The missile that fell in Przewodów"],
        slots=[{"start": rfc3339(clock.now() + timedelta(hours=2)), "minutes": 30}],
        answer_by=rfc3339(clock.now() + timedelta(hours=1)),
        user=OFFICER,
        precedence=precedence,
    )
    pair.flush()
    return made


def test_a_call_request_carries_its_deadline_and_unanswered_raises_the_alarm(
    oob: Pair, clock: FakeClock
) -> None:
    made = ask(oob, clock, "IMMEDIATE")
    shown = oob.us.show(made["message_id"])
    expected = rfc3339(clock.now() + timedelta(minutes=30))
    assert expected == shown["envelope"]["ack_by"] == shown["deadline"]
    assert expected == oob.ru.show(made["message_id"])["deadline"]  # the peer shows it too
    clock.advance(30 * 60 - 1)
    oob.us.deadlines.tick()
    assert [] == oob.us.alarms.listing()
    clock.advance(1)
    oob.us.deadlines.tick()
    [alarm] = oob.us.alarms.listing("open")
    assert ("ack_overdue", made["message_id"], "watch") == (
        alarm["kind"],
        alarm["subject"],
        alarm["detail"]["alert"],
    )


def test_the_peers_answer_to_a_call_request_stops_its_ladder(oob: Pair, clock: FakeClock) -> None:
    made = ask(oob, clock, "IMMEDIATE")
    clock.advance(30 * 60)
    oob.us.deadlines.tick()
    assert 1 == len(oob.us.alarms.listing("open"))
    oob.ru.calls.requests.answer(
        made["id"], answer="decline", reason="Not at this time", user=OFFICER
    )
    oob.flush()
    assert [] == oob.us.alarms.listing("open")
    [cleared] = oob.us.alarms.listing("cleared")
    assert "answered" == cleared["clear_reason"]
    clock.advance(3600)
    oob.us.deadlines.tick()
    assert [] == oob.us.alarms.listing("open")
    answer = next(m for m in oob.ru.line.listing("out") if m["type"] == "call_answer")
    assert answer["deadline"] is not None  # the answer itself waits on a person here


def test_a_watch_level_notice_carries_its_deadline(oob: Pair, clock: FakeClock) -> None:
    watch = oob.us.calls.watch
    proposed = watch.propose(
        "possible-crisis", reason="Impact near the border", user=COMMANDER, notify="ru"
    )
    approved = watch.approve(proposed["id"], user=SECOND_COMMANDER)
    oob.flush()
    shown = oob.us.show(approved["message_id"])
    assert ("watch_level", "IMMEDIATE", rfc3339(clock.now() + timedelta(minutes=30))) == (
        shown["type"],
        shown["precedence"],
        shown["envelope"]["ack_by"],
    )  # IMMEDIATE: 30 min
    assert shown["deadline"] == oob.ru.show(approved["message_id"])["deadline"]


def test_no_more_attempts_are_recorded_than_a_bundle_carries(
    oob: Pair, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert escalation_service.MAX_ATTEMPTS == evidence_attempts.MAX_ATTEMPTS
    monkeypatch.setattr(escalation_service, "MAX_ATTEMPTS", 2)
    message_id = overdue(oob, clock)
    for _ in range(2):
        oob.us.escalation.record(message_id, contact="fax", result="failed", note=None, user="o")
    with pytest.raises(Conflict, match="already has 2 attempts recorded"):
        oob.us.escalation.record(message_id, contact="fax", result="failed", note=None, user="o")
    assert 2 == len(oob.us.escalation.checklist(message_id)["attempts"])


def test_a_call_request_sent_before_call_steps_had_deadlines_never_escalates(
    oob: Pair, clock: FakeClock
) -> None:
    made = ask(oob, clock, "FLASH")
    with oob.us.db.write() as conn:  # as stored by an older version: no ack_by
        envelope = json.loads(conn.execute(select(messages.c.envelope).where(
            messages.c.id == made["message_id"])).scalar_one())  # fmt: skip
        del envelope["ack_by"]
        conn.execute(
            update(messages)
            .where(messages.c.id == made["message_id"])
            .values(envelope=json.dumps(envelope))
        )
    clock.advance(3600)
    oob.us.deadlines.tick()
    assert [] == oob.us.alarms.listing()
    with oob.us.db.read() as conn:
        due = conn.execute(select(messages.c.due_at).where(messages.c.id == made["message_id"]))
        assert due.scalar_one() is None  # and it is not looked at again


def test_attempts_recorded_before_a_key_rotation_verify_after_it(
    oob: Pair, clock: FakeClock
) -> None:
    """An attempt is signed by the key of its time: after our node rotates its key, a
    bundle exported later checks it against that earlier key, from the key history."""
    from hotline.services.line import keys as key_changes
    from tests.services.test_keys import restart_on_new_key

    message_id = overdue(oob, clock)
    oob.us.escalation.record(message_id, contact="duty/voice", result="busy", note=None, user="a")
    key_changes.rotate_own(oob.us.line, oob.us.settings.key_path)
    restart_on_new_key(oob.us)
    oob.flush()
    raw = export_bundle(oob.us.evidence, message_id, allow_uncosigned=True)
    verdict = verify_bundle(raw, allow_uncosigned=True)
    assert ([], 1) == (verdict.failed, len(json.loads(raw)["attempts"]))
    assert 1 == sum(p.startswith("OUT OF BAND") for p in verdict.proven)
