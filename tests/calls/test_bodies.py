"""The calls' message bodies: strict shapes, no floats, no way to carry anything internal."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from hotline.domain.bodies import BODY_MODELS, check_body
from hotline.domain.calls import CALL_MODELS
from hotline.errors import ValidationError
from tests.calls.conftest import PRINCIPALS
from tests.conftest import Pair

REQUEST_ID = "6f1c9a2e-3b4d-4e5f-8a9b-0c1d2e3f4a5b"
SLOT = {"start": "2022-05-13T14:00:00Z", "minutes": 60}


def request_body(**changes: Any) -> dict[str, Any]:
    body = {
        "request_id": REQUEST_ID,
        "requester": PRINCIPALS["us"][1],
        "counterpart": "minister",
        "topics": ["immediate ceasefire"],
        "slots": [SLOT],
        "answer_by": "2022-05-12T12:00:00Z",
        "message": None,
    }
    return body | changes


def test_every_call_type_travels_on_the_line() -> None:
    assert set(CALL_MODELS) <= set(BODY_MODELS)
    assert {
        "call_request",
        "call_answer",
        "call_withdrawal",
        "call_record",
        "call_privacy",
        "call_readout",
        "watch_level",
    } == set(CALL_MODELS)


def test_a_valid_request_is_signed_as_given() -> None:
    assert request_body() == check_body("call_request", request_body())


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"slots": [{"start": "2022-05-13T14:00:00Z", "minutes": 60.0}]}, "slots.0.minutes"),
        ({"answer_by": "2022-13-45T12:00:00Z"}, "answer_by"),
        ({"answer_by": "2022-05-12T12:00:00+03:00"}, "answer_by"),
        ({"internal_note": "kept home"}, "internal_note"),
        ({"topics": []}, "topics"),
        ({"counterpart": "Minister"}, "counterpart"),
    ],
)
def test_a_request_body_is_refused(changes: dict[str, Any], problem: str) -> None:
    with pytest.raises(ValidationError, match=f"body.{problem}"):
        check_body("call_request", request_body(**changes))


@pytest.mark.parametrize(
    ("answer", "needs"),
    [
        ({"answer": "accept"}, "'accept' needs slot"),
        ({"answer": "accept", "slot": SLOT, "reason": "x"}, "not allowed: reason"),
        ({"answer": "decline"}, "'decline' needs reason"),
        ({"answer": "propose", "slots": [SLOT]}, "missing answer_by"),
    ],
)
def test_an_answer_carries_exactly_what_it_needs(answer: dict[str, Any], needs: str) -> None:
    with pytest.raises(ValidationError, match=needs):
        check_body("call_answer", {"request_id": REQUEST_ID, **answer})


def test_no_body_can_carry_an_internal_readout() -> None:
    readout = {
        "readout_id": str(uuid.uuid4()),
        "call_id": REQUEST_ID,
        "visibility": "internal",
        "title": "Kept home",
        "text": "Not for the peer",
        "issued_by": None,
        "published_at": "2022-05-13T16:00:00.000Z",
    }
    with pytest.raises(ValidationError, match=r"body\.visibility"):
        check_body("call_readout", readout)
    assert "shared" == check_body("call_readout", readout | {"visibility": "shared"})["visibility"]


def test_a_watch_level_must_stand_on_its_ladder() -> None:
    level = {"id": "red", "name_en": "RED", "name_ru": "КРАСНЫЙ"}
    body = {"level": level, "rank": 3, "of_levels": 3, "effective_at": "2022-03-31T00:00:00Z"}
    with pytest.raises(ValidationError, match="rank 3 is not on a ladder of 3 levels"):
        check_body("watch_level", body)


def test_a_peer_answering_an_unknown_request_is_refused_and_nothing_is_stored(
    calls_pair: Pair,
) -> None:
    forged = {"request_id": REQUEST_ID, "answer": "decline", "reason": "x"}
    # Line.send refuses call types; a misbehaving peer can still put one on the wire.
    with calls_pair.ru.db.write() as conn:
        calls_pair.ru.line.enqueue(
            conn,
            to="us",
            type_="call_answer",
            body=forged,
            precedence="ROUTINE",
            lang="ru",
            user="mallory",
        )
    outcome = calls_pair.deliver("ru", "us")
    assert outcome is not None and 0 == outcome.delivered
    assert "no call request" in str(outcome.error)
    assert [] == calls_pair.us.line.listing("in")
