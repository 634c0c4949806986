"""A readout's public export shows only what the call's privacy allows, per level
(docs/calls.md, "Public export by privacy level"): each withheld field is absent."""

from __future__ import annotations

import pytest

from hotline.clock import FakeClock
from tests.calls.conftest import OFFICER, SECOND_COMMANDER
from tests.calls.test_never_leaves import held_call
from tests.conftest import Pair

TOPIC = "Deconfliction near the Polish border"
PEOPLE = ("Gen. Mark Milley", "Gen. Valery Gerasimov", "Lloyd Austin")  # principals, participants
INTERPRETER = "Ivan Perevodchikov"
ISSUER = "Col. Dave Butler"
READOUT = "Discussed risk reduction and operational de-confliction."


def exported(pair: Pair, clock: FakeClock, level: str) -> dict[str, str]:
    """Both languages' export of a call at ``level``, with a public readout from us."""
    call_id = held_call(
        pair,
        clock,
        private=level != "open",
        interpreters=[{"party": "ru", "name": INTERPRETER}],
    )
    if level == "private":
        pair.ru.calls.records.set_private(call_id, True, user=OFFICER)
        pair.flush()
    written = pair.us.calls.records.write_readout(
        call_id, title="Readout of the call", text=READOUT, visibility="public",
        issued_by=ISSUER, user=OFFICER,
    )  # fmt: skip
    if written["status"] == "awaiting_approval":
        pair.us.calls.records.approve(written["id"], user=SECOND_COMMANDER)
    pair.flush()
    call = pair.us.calls.records.get_call(call_id)
    assert (level == "private", level != "open") == (
        call["details_private"],
        bool(call["private_requested_by"]),
    )
    return {lang: pair.us.calls.readouts_markdown(call_id, lang) for lang in ("en", "ru")}


def test_an_open_call_exports_its_whole_record(calls_pair: Pair, clock: FakeClock) -> None:
    texts = exported(calls_pair, clock, "open")
    for text in texts.values():
        for shown in (TOPIC, INTERPRETER, ISSUER, READOUT, *PEOPLE[:2]):
            assert shown in text
    assert "**Duration:** 30 min" in texts["en"]
    assert "**Requested by:** United States" in texts["en"]


@pytest.mark.parametrize("level", ["asked", "private"])
def test_a_call_kept_private_exports_no_names_topics_or_interpreters(
    calls_pair: Pair, clock: FakeClock, level: str
) -> None:
    texts = exported(calls_pair, clock, level)
    for text in texts.values():
        for withheld in (TOPIC, INTERPRETER, ISSUER, *PEOPLE):
            assert withheld not in text
        assert READOUT in text  # what each side published for the press stays
    english = texts["en"]
    for label in ("Duration", "Requested by", "Topics", "Participants", "Interpreters"):
        assert f"**{label}:**" not in english
    assert (
        "Between Chairman of the Joint Chiefs of Staff (us) and Chief of the General Staff (ru)."
        in english
    )
    note = {
        "asked": "*Details withheld: one side asked to keep them private.*",
        "private": "*Details kept private by mutual agreement.*",
    }[level]
    assert note in english
    assert "не разглашаются" in texts["ru"]
