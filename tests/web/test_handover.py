"""The watch handover's sign-off (issue 17): the outgoing officer's note and signature, the
incoming officer's — another person, with their own session, who sees the first's note —
stored with what was open, in the history, and in the security log. Real HTTP, both
backends."""

from __future__ import annotations

import json
import re

import pytest

from hotline.clock import FakeClock
from hotline.errors import Conflict, Forbidden, ValidationError
from tests.conftest import MakeNode, Pair
from tests.web.conftest import Console


def test_two_officers_sign_the_handover_each_with_their_own_session(
    pair: Pair, consoles: dict[str, Console]
) -> None:
    outgoing, incoming = consoles["us"], consoles["us2"]
    pair.ru.line.send(to="us", text="Still to acknowledge.", precedence="PRIORITY", user="d")
    pair.flush()

    signed = outgoing.post("/console/handover", {"note": "Radar 3 <down> until 0600Z."})
    own_page = outgoing.get("/console/handover").text
    own_take_over = outgoing.post(f"/console/handover/{_awaiting_id(own_page)}/take-over")
    seen = incoming.get("/console/handover").text
    taken = incoming.post(
        f"/console/handover/{_awaiting_id(seen)}/take-over", {"note": "Understood."}
    )
    after = incoming.get("/console/handover").text

    assert (303, 403) == (signed.status_code, own_take_over.status_code)
    assert 'id="ho-waiting"' in own_page and 'id="ho-take-over"' not in own_page
    assert "Radar 3 &lt;down&gt; until 0600Z." in seen  # the first's note, escaped
    assert "Open when signed: 1 not acknowledged (0 overdue)" in seen
    assert 303 == taken.status_code
    assert 'id="ho-sign-off"' in after  # the next handover can start
    history = after[after.index('id="ho-history"') :]
    assert ["duty", "duty2", "Understood.", "taken over"] == [
        w for w in ("duty", "duty2", "Understood.", "taken over") if w in history
    ]
    [done] = pair.us.handovers.history()
    assert ("complete", "duty", "duty2") == (done["state"], done["outgoing"], done["incoming"])
    assert 1 == len(done["summary"]["unacknowledged"])
    logged = [json.loads(line) for line in _security_log(pair).splitlines()]
    signs = [(e["user"], e["role"]) for e in logged if e["event"] == "handover_signed"]
    assert [("duty", "outgoing"), ("duty2", "incoming")] == signs


def test_the_handover_rules_hold_in_the_service(make_node: MakeNode, clock: FakeClock) -> None:
    node = make_node("us")
    with pytest.raises(ValidationError):
        node.handovers.sign_off("alpha", "   ", {})
    first = node.handovers.sign_off("alpha", "All quiet.", {"alarms": 0})
    with pytest.raises(Conflict) as second:
        node.handovers.sign_off("bravo", "Me too.", {})
    with pytest.raises(Forbidden):
        node.handovers.take_over(first["id"], "alpha")
    with pytest.raises(Forbidden):
        node.handovers.withdraw(first["id"], "bravo")
    node.handovers.withdraw(first["id"], "alpha")
    clock.advance(60)
    again = node.handovers.sign_off("alpha", "All quiet, really.", {})
    done = node.handovers.take_over(again["id"], "bravo", "ok")
    with pytest.raises(Conflict):
        node.handovers.take_over(again["id"], "charlie")

    assert "alpha" in second.value.message  # names who is waiting
    assert ("complete", "bravo", "ok") == (done["state"], done["incoming"], done["incoming_note"])
    assert ["complete", "withdrawn"] == [h["state"] for h in node.handovers.history()]
    assert node.handovers.awaiting() is None


def _awaiting_id(html: str) -> str:
    match = re.search(r'action="/console/handover/([0-9a-f-]{36})/', html)
    assert match is not None, "the page offers the awaiting handover"
    return match.group(1)


def _security_log(pair: Pair) -> str:
    path = pair.us.settings.directory / pair.us.settings.security_log
    return path.read_text("utf-8") if path.is_file() else ""
