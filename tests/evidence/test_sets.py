"""Evidence sets: every message of a case or a window in one file, verified per message."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from hotline.errors import Conflict, NotFound
from hotline.services.evidence.sets import export_set, window
from hotline.services.evidence.verify_set import verify_set
from tests.conftest import Pair
from tests.services.test_cases import _at, account, event
from tests.services.test_notices import sent_example


def _case(pair: Pair) -> tuple[str, list[str]]:
    """A report by us, us's account, ru's account, each acknowledged; exchanged."""
    report = sent_example(pair, "us", "incident_report")
    case_id = str(uuid.uuid4())
    seen = _at(pair, -120)
    ours = account(case_id, report, [event("closest_approach", seen, "32.5", "43.25")])
    sent = [report, pair.us.notices.send("ru", ours, precedence="ROUTINE", lang=None, user="o")]
    pair.flush()
    theirs = account(case_id, report, [event("closest_approach", seen, "32.51", "43.25")])
    theirs["joins"] = sent[1]["message"]["id"]
    sent.append(pair.ru.notices.send("us", theirs, precedence="ROUTINE", lang=None, user="o"))
    pair.flush()
    ids = [sent[0]] + [s["message"]["id"] for s in sent[1:]]
    pair.ru.line.acknowledge(ids[0], "o")
    pair.ru.line.acknowledge(ids[1], "o")
    pair.us.line.acknowledge(ids[2], "o")
    pair.flush()
    pair.us.evidence.exchange()
    pair.ru.evidence.exchange()
    return case_id, ids


def _flip(raw: bytes, at: int) -> bytes:
    return raw[:at] + bytes([raw[at] ^ 0x01]) + raw[at + 1 :]


def test_a_case_set_proves_each_message_and_catches_any_change(pair: Pair) -> None:
    case_id, ids = _case(pair)

    raw = export_set(pair.us.evidence, pair.us.cases.message_ids(case_id), {"case": case_id})
    verdict = verify_set(raw)

    assert (True, True) == (verdict.ok, verdict.complete)
    assert sorted(ids) == sorted(m for m, _ in verdict.messages)
    for at in (len(raw) // 3, len(raw) // 2, len(raw) - 200):
        assert not verify_set(_flip(raw, at)).ok, at


def test_a_set_holding_a_message_of_another_case_fails(pair: Pair) -> None:
    case_id, _ids = _case(pair)
    stray = pair.us.line.send(to="ru", text="unrelated", user="o")
    pair.flush()
    pair.us.evidence.exchange()
    ids = [*pair.us.cases.message_ids(case_id), stray["id"]]

    with pytest.raises(Conflict, match="not an account of case"):
        export_set(pair.us.evidence, ids, {"case": case_id})


def test_a_window_set_holds_the_messages_created_in_it(pair: Pair) -> None:
    _case_id, ids = _case(pair)
    start, end = _at(pair, -3600), _at(pair, 1)

    found, scope = window(pair.ru.evidence, start, end)
    raw = export_set(pair.ru.evidence, found, scope)

    verdict = verify_set(raw)
    assert verdict.complete
    shown: dict[str, Any] = json.loads(raw)
    assert set(ids) == set(shown["message_ids"])  # the acks are inside their bundles
    with pytest.raises(NotFound):
        export_set(pair.ru.evidence, *window(pair.ru.evidence, _at(pair, 10), _at(pair, 20)))
