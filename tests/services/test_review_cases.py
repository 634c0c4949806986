"""Hostile review of incident cases: the fold orders a side's versions by the time its
sender *claims* (``created``), which a clock step back or a hostile peer chooses."""

from __future__ import annotations

from hotline.domain.notices.cases import Account, fold_case
from tests.services.test_cases import CASE, account, event, parsed

T0 = "2026-11-14T07:00:00Z"


def test_an_amendment_signed_after_a_clock_step_back_is_still_the_current_version() -> None:
    # us opens (seq 5); ru joins it; us then amends (seq 6) after its clock was stepped
    # back two minutes by NTP: created is earlier than the opening's, seq is later.
    opening = Account(
        "us",
        "ru",
        "m-open",
        5,
        "2026-11-14T08:00:00.000Z",
        parsed(account(CASE, "r1", [event("closest_approach", T0, "32.5000000", "43.2500000")])),
    )
    joined = Account(
        "ru",
        "us",
        "m-join",
        9,
        "2026-11-14T08:00:30.000Z",
        parsed(
            account(
                CASE,
                "r1",
                [event("closest_approach", T0, "32.5100000", "43.2500000")],
                joins="m-open",
            )
        ),
    )
    amended = Account(
        "us",
        "ru",
        "m-amend",
        6,
        "2026-11-14T07:58:00.000Z",
        parsed(account(CASE, "r1", [event("closest_approach", T0, "32.5050000", "43.2500000")])),
    )

    case = fold_case([opening, joined, amended])

    assert case is not None
    assert [] == [(r.account.message_id, r.reason) for r in case.rejected]  # ru joined m-open
    assert ["m-open", "m-amend"] == [a.message_id for a in case.versions["us"]]
    current = case.current("us")
    assert current is not None and "m-amend" == current.message_id  # not overwritten by v1


def test_a_peer_cannot_erase_our_account_by_backdating_a_rival_opening() -> None:
    # us opens the case; ru has received it (and so knows its id) and answers not by
    # joining but with its own "opening" of the same case id, created a day earlier
    # (any created up to max_age_s = 7 days in the past is accepted on receipt).
    ours = Account(
        "us",
        "ru",
        "m-ours",
        5,
        "2026-11-14T08:00:00.000Z",
        parsed(account(CASE, "r1", [event("closest_approach", T0, "32.5000000", "43.2500000")])),
    )
    rival = Account(
        "ru",
        "us",
        "m-rival",
        9,
        "2026-11-13T08:00:00.000Z",
        parsed(
            account(CASE, "r1", [event("closest_approach", "2026-11-13T07:00:00Z", "1", "2")])
            | {"opened_from": {"kind": "alarm", "ref": "12"}}
        ),
    )

    case = fold_case([ours, rival])

    assert case is not None
    rejected = {r.account.message_id: r.reason for r in case.rejected}
    assert "m-ours" not in rejected, rejected  # our signed account is set aside on both nodes
    assert ["m-ours"] == [a.message_id for a in case.versions.get("us", [])]
