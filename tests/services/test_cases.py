"""Incident cases: the fold, both nodes alike, amendments kept, bad accounts refused."""

from __future__ import annotations

import copy
import uuid
from datetime import timedelta
from typing import Any

import pytest

from hotline.domain.notices.base import format_utc
from hotline.domain.notices.cases import Account, IncidentAccount, fold_case
from hotline.errors import ValidationError
from hotline.geo.cases import compare
from hotline.geo.geodesy import GEOD
from hotline.protocol import keys
from tests.conftest import Pair
from tests.services.test_line import forged, post, stored
from tests.services.test_notices import sent_example

CASE = "6f1c2b7e-3d4a-4c5b-9e8f-0a1b2c3d4e5f"
SHIP = [{"designation": "Ladny", "kind": "surface_ship", "count": 1}]


def _at(pair: Pair, seconds: int) -> str:
    return format_utc(pair.us.line.clock.now() + timedelta(seconds=seconds))


def event(kind: str, time: str, lon: str, lat: str, **more: Any) -> dict[str, Any]:
    return {"kind": kind, "time": time, "position": [lon, lat], "units": SHIP, **more}


def account(case: str, report: str, events: list[dict[str, Any]], **more: Any) -> dict[str, Any]:
    return {
        "type": "incident_account",
        "case": case,
        "opened_from": {"kind": "incident_report", "ref": report},
        "events": events,
        "narrative": {"en": "As logged on the bridge."},
        **more,
    }


def one_nm_east(lon: str, lat: str) -> tuple[str, str]:
    east_lon, east_lat, _ = GEOD.fwd(float(lon), float(lat), 90.0, 1852.0)
    return f"{east_lon:.7f}", f"{east_lat:.7f}"


def parsed(body: dict[str, Any]) -> IncidentAccount:
    return IncidentAccount.model_validate(body)


def test_the_fold_gives_known_deltas_and_lists_events_one_side_alone_stated() -> None:
    lon, lat = one_nm_east("32.5000000", "43.2500000")
    ours = account(
        CASE,
        "r1",
        [
            event("closest_approach", "2026-11-14T07:03:00Z", "32.5000000", "43.2500000"),
            event("warning_issued", "2026-11-14T07:01:00Z", "32.4900000", "43.2400000"),
        ],
    )
    theirs = account(
        CASE, "r1", [event("closest_approach", "2026-11-14T07:03:17Z", lon, lat)], joins="m1"
    )
    accounts = [
        Account("us", "ru", "m1", 1, "2026-11-14T08:00:00.000Z", parsed(ours)),
        Account("ru", "us", "m2", 1, "2026-11-14T09:00:00.000Z", parsed(theirs)),
    ]

    case = fold_case(accounts)

    assert case is not None and ("us", "ru") == (case.opened_by, case.other)
    assert [] == case.rejected
    differences = compare("us", parsed(ours).events, "ru", parsed(theirs).events)
    (closest,) = differences["both"]
    assert 17 == closest["time_delta_s"]
    assert abs(1852.0 - closest["distance_m"]) <= 1.0
    assert abs(1.0 - closest["distance_nm"]) <= 0.001
    assert [("us", "warning_issued")] == [(e["party"], e["key"]) for e in differences["only"]]


def test_a_case_is_the_same_on_both_nodes_and_amendments_keep_every_version(
    pair: Pair,
) -> None:
    report = sent_example(pair, "us", "incident_report")
    seen, seen_later = _at(pair, -600), _at(pair, -583)
    opened = pair.us.cases.new_account(
        opened_from={"kind": "incident_report", "ref": report},
        events=[event("closest_approach", seen, "32.5000000", "43.2500000")],
        narrative={"en": "Crossed our bow."},
    )
    case_id = opened["case"]
    pair.us.notices.send("ru", opened, precedence="IMMEDIATE", lang=None, user="o")
    pair.flush()
    pair.us.line.clock.advance(60)  # type: ignore[attr-defined]  # FakeClock
    joined = account(
        case_id, report, [event("closest_approach", seen_later, "32.5100000", "43.2500000")]
    ) | pair.ru.cases.join_fields(pair.ru.cases.show(case_id))
    pair.ru.notices.send("us", joined, precedence="IMMEDIATE", lang=None, user="o")
    pair.us.line.clock.advance(60)  # type: ignore[attr-defined]
    amended = copy.deepcopy(opened)
    amended["events"][0]["position"] = ["32.5050000", "43.2500000"]
    pair.us.notices.send("ru", amended, precedence="IMMEDIATE", lang=None, user="o")
    pair.flush()

    ours, theirs = pair.us.cases.show(case_id), pair.ru.cases.show(case_id)

    assert ours == theirs
    versions = ours["accounts"]["us"]["versions"]
    assert [1, 2] == [v["version"] for v in versions]
    assert ["32.5000000", "32.5050000"] == [v["body"]["events"][0]["position"][0] for v in versions]
    (closest,) = ours["differences"]["both"]
    assert 17 == closest["time_delta_s"]
    assert "32.5050000" == closest["us"]["position"][0]  # the current version is compared
    assert [case_id] == [c["id"] for c in pair.ru.cases.listing()]
    assert report == ours["message_ids"][0]


def _refused(pair: Pair, body: dict[str, Any], words: str) -> None:
    before = stored(pair.us)
    with pytest.raises(ValidationError) as caught:
        pair.us.notices.send("ru", body, precedence="ROUTINE", lang=None, user="o")
    assert words in caught.value.message
    assert before == stored(pair.us)


def test_accounts_that_cannot_be_true_are_refused_before_sending(pair: Pair) -> None:
    report = sent_example(pair, "us", "incident_report")
    past = _at(pair, -60)
    good = account(str(uuid.uuid4()), report, [event("first_contact", past, "32.5", "43.2")])
    pair.us.notices.send("ru", good, precedence="ROUTINE", lang=None, user="o")

    _refused(pair, good | {"joins": "x"}, "leave joins out")
    other_origin = copy.deepcopy(good) | {"opened_from": {"kind": "alarm", "ref": "1"}}
    _refused(pair, other_origin, f"was opened from incident_report {report}")
    future = account(str(uuid.uuid4()), report, [event("first_contact", _at(pair, 3600), "1", "2")])
    _refused(pair, future, "is in the future")
    north_of_the_pole = account(str(uuid.uuid4()), report, [event("separation", past, "1", "91")])
    _refused(pair, north_of_the_pole, "latitude 91 is out of range")
    nowhere = account(str(uuid.uuid4()), "no-such-report", [event("separation", past, "1", "2")])
    _refused(pair, nowhere, "no incident report no-such-report on the line with ru")
    twice = account(
        str(uuid.uuid4()),
        report,
        [event("separation", past, "1", "2"), event("separation", past, "1", "3")],
    )
    _refused(pair, twice, "event separation is stated twice")


def test_a_peer_account_contradicting_the_case_is_rejected_alike_on_both_nodes(
    pair: Pair,
) -> None:
    report = sent_example(pair, "us", "incident_report")
    case_id = str(uuid.uuid4())
    opened = account(case_id, report, [event("first_contact", _at(pair, -60), "32.5", "43.2")])
    pair.us.notices.send("ru", opened, precedence="ROUTINE", lang=None, user="o")
    pair.flush()
    pair.us.line.clock.advance(60)  # type: ignore[attr-defined]
    # a node that skips the checks (an older or a modified one) sends it all the same
    opening = pair.ru.cases.show(case_id)["opening_message"]
    elsewhere = opened | {"opened_from": {"kind": "conflict", "ref": "7"}, "joins": opening}
    pair.ru.line.send(to="us", body=elsewhere, type_="incident_account", user="o")
    pair.flush()

    ours, theirs = pair.us.cases.show(case_id), pair.ru.cases.show(case_id)

    assert ours == theirs
    assert 0 == ours["accounts"]["ru"]["current"]
    (rejected,) = ours["rejected"]
    assert "ru" == rejected["from"] and "opened_from" in rejected["reason"]


def test_an_account_signed_by_anyone_but_its_sender_is_refused(pair: Pair) -> None:
    report = sent_example(pair, "us", "incident_report")
    body = account(str(uuid.uuid4()), report, [event("first_contact", _at(pair, -60), "1", "2")])
    stranger = keys.generate()
    claimed = forged(pair, signer=stranger, sign={"type": "incident_account", "body": body})
    before = stored(pair.ru)

    response = post(pair, "ru", {"envelopes": [claimed]})

    assert (403, "bad_signature") == (response.status_code, response.json()["error"]["code"])
    assert before == stored(pair.ru)
    assert [] == pair.ru.cases.listing()


def test_an_impossible_time_in_a_received_account_is_rejected_by_the_fold() -> None:
    body = parsed(account(CASE, "r1", [event("separation", "2026-11-14T09:00:00Z", "1", "2")]))

    case = fold_case([Account("us", "ru", "m1", 1, "2026-11-14T08:00:00.000Z", body)])

    assert case is None


def test_two_openings_of_one_case_both_stand_whatever_either_clock_says() -> None:
    def opening(party: str, to: str, mid: str, created: str, ref: str) -> Account:
        body = account(CASE, ref, [event("closest_approach", "2026-11-13T07:00:00Z", "1", "2")])
        return Account(party, to, mid, 3, created, parsed(body))

    ours = opening("us", "ru", "m-us", "2026-11-14T08:00:00.000Z", "r1")
    theirs = opening("ru", "us", "m-ru", "2026-11-13T08:00:00.000Z", "r2")
    for backdated in ("2026-11-13T08:00:00.000Z", "2026-11-15T08:00:00.000Z"):
        rival = Account("ru", "us", "m-ru", 3, backdated, theirs.body)
        for accounts in ([ours, rival], [rival, ours]):
            case = fold_case(accounts)
            assert case is not None and case.contested and [] == case.rejected
            assert ("ru", "us") == (case.opened_by, case.other)  # by name, not by clock
            assert {"us": "m-us", "ru": "m-ru"} == {
                p: a.message_id for p, a in case.openings.items()
            }
            assert (None, ours.body.opened_from) == case.expected("us")  # amends, joins nothing
