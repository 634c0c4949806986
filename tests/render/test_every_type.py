"""Every type the line carries reads as words in English and Russian, never as raw JSON:
one test per registered type (a new type without a rendering fails here), and
``hotline verify`` prints each so."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from hotline.domain.bodies import BODY_MODELS, check_body
from hotline.domain.notices.models import NOTICE_MODELS
from hotline.render.bodies import render_message

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "notices"
UUID = "6f1c2a9e-1d2b-4c3d-8e4f-5a6b7c8d9e0f"
HASH = "ab" * 32
AT = "2026-11-21T16:30:00Z"
KEY = "ed25519:" + "cd" * 32
SLOT = {"start": AT, "minutes": 30}
PEOPLE = [{"party": "us", "name": "Gen. Mark Milley"}, {"party": "ru", "name": "Gen. V. Gerasimov"}]
LEVEL = {"id": "possible-crisis", "name_en": "POSSIBLE CRISIS", "name_ru": "ВОЗМОЖНЫЙ КРИЗИС"}

#: A body of each type that is not a notice (notices: ``examples/notices``), with a word
#: of its own that its rendering must show (the type's own content, not only its header).
BODIES: dict[str, tuple[dict[str, Any], str]] = {
    "text": ({"text": "Stand by."}, "Stand by."),
    "ack": ({"ack_of": UUID, "ack_hash": HASH, "acked_by": "ru:ofitser", "acked_at": AT},
            "ru:ofitser"),
    "link_test": ({"test_id": UUID, "pangram_en": "The quick brown fox",
                   "pangram_ru": "Съешь же ещё", "digits": "0123456789"}, "Съешь же ещё"),
    "link_test_reply": ({"test_id": UUID, "test_hash": HASH, "intact": True}, UUID),
    "escalation": ({"of_message": UUID, "of_hash": HASH, "step": 2, "contact_id": "cdr",
                    "contact_role_en": "Watch commander", "contact_role_ru": "Командир смены"},
                   "Watch commander|Командир смены"),
    "operator_test": ({"test_id": UUID, "lang": "en", "text": "Pack my box", "digits": "42",
                       "answer_by": AT}, "Pack my box"),
    "operator_test_answer": ({"test_id": UUID, "test_hash": HASH, "officer": "ofitser"},
                             "ofitser"),
    "call_request": ({"request_id": UUID,
                      "requester": {"id": "cjcs", "name_en": "Gen. Mark Milley",
                                    "name_ru": "генерал Марк Милли", "title_en": "Chairman",
                                    "title_ru": "Председатель"},
                      "counterpart": "cgs", "topics": ["Risk reduction"], "slots": [SLOT],
                      "answer_by": AT}, "Risk reduction"),
    "call_answer": ({"request_id": UUID, "answer": "decline", "reason": "Not now."}, "Not now."),
    "call_withdrawal": ({"request_id": UUID, "reason": "Overtaken"}, "Overtaken"),
    "call_record": ({"call_id": UUID, "requested_by": "us", "held_at": AT, "minutes": 30,
                     "participants": PEOPLE}, "Gen. Mark Milley (us)"),
    "call_privacy": ({"call_id": UUID, "details_private": True}, "YES|ДА"),
    "call_readout": ({"readout_id": UUID, "call_id": UUID, "visibility": "public",
                      "title": "Readout", "text": "Discussed risk reduction.",
                      "published_at": AT}, "Discussed risk reduction."),
    "watch_level": ({"level": LEVEL, "rank": 1, "of_levels": 3, "effective_at": AT,
                     "previous": {"id": "normal", "name_en": "NORMAL", "name_ru": "ОБЫЧНЫЙ"}},
                    "POSSIBLE CRISIS|ВОЗМОЖНЫЙ КРИЗИС"),
    "track_report": ({"type": "track_report", "tracks": [
        {"id": "R1", "party": "us", "lat": "54.1", "lon": "19.9", "alt_m": "9000",
         "gs_mps": "220", "trk_deg": "90", "vs_mps": "0", "time": AT, "callsign": "RCH123"}]},
        "RCH123"),
    "key_change": ({"v": 1, "type": "key_change", "party": "us", "old_key": KEY,
                    "old_public_key": "x", "new_key": KEY, "new_public_key": "y",
                    "effective": AT, "card": {}, "sig_old": "s", "sig_new": "t"}, KEY),
}  # fmt: skip


def body_of(type_: str) -> tuple[dict[str, Any], str]:
    if type_ in NOTICE_MODELS:
        name = {"activity_notice": "activity_notice_missile_launch"}.get(type_, type_)
        return json.loads((EXAMPLES / f"{name}.json").read_text("utf-8")), ""
    return BODIES[type_]


@pytest.mark.parametrize("type_", sorted(BODY_MODELS))
def test_every_type_renders_in_english_and_russian(type_: str) -> None:
    body, own = body_of(type_)
    if type_ not in ("track_report", "key_change"):  # their signatures and tracks aside
        body = check_body(type_, body)  # the shapes are the real ones
    english = render_message(type_, body, "en", sender="us", receiver="ru", message_id=UUID)
    russian = render_message(type_, body, "ru", sender="us", receiver="ru", message_id=UUID)
    assert english.startswith("HOTLINE MESSAGE\n") and english.endswith("END OF MESSAGE\n")
    assert russian.endswith("КОНЕЦ СООБЩЕНИЯ\n") and english != russian
    subject = next(line for line in russian.splitlines() if line.startswith("ТЕМА: "))
    assert subject.upper() == subject and not subject[len("ТЕМА: ") :].isascii()
    for text in (english, russian):
        assert '{"' not in text and '":' not in text and "{'" not in text, text
    words = own.split("|")
    assert words[0] in english and words[-1] in russian
