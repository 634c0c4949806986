"""Hostile review of evidence sets: a set that verifies while it visibly leaves out the
messages its own messages name."""

from __future__ import annotations

from hotline.services.evidence.sets import export_set
from hotline.services.evidence.verify_set import verify_set
from tests.conftest import Pair
from tests.evidence.test_sets import _case


def test_a_case_set_without_the_account_its_accounts_join_is_not_verified_complete(
    pair: Pair,
) -> None:
    case_id, (_report, _opening, joined) = _case(pair)
    # an exporter keeps only ru's account: it joins `_opening` (signed, in its body) and
    # names `_report` as the case's origin, and neither is in the set
    raw = export_set(pair.us.evidence, [joined], {"case": case_id})

    verdict = verify_set(raw)

    assert verdict.ok  # what it holds is genuine
    # but "VERIFIED: evidence set of case …, 1 messages" reads as the whole case, and the
    # file itself shows it is not: the account that opened the case is missing
    assert not verdict.complete, verdict.to_dict()
