"""The watch's queue (issue 17, item 3): what needs action first.

Overdue before time left, whatever the precedence; one time format (``h:mm:ss``, a minus
sign when overdue) with the deadline's date-time group beside it; amber at half the
allowance; an alert when our own acknowledgements are overdue; escalations written on the
message they escalate (an older peer's escalation envelope folded into its original and
acknowledged with it); operator tests answered from the queue, never left waiting for an
acknowledgement; call requests with their answer deadline. Real HTTP, both backends, the
fake clock.
"""

from __future__ import annotations

import re

from hotline.clock import FakeClock
from hotline.domain.bodies import check_body
from tests.conftest import MakePair
from tests.web.conftest import PASSWORD, log_in

CONTACTS = [
    {"id": "duty", "role_en": "Duty desk", "role_ru": "Дежурный"},
    {"id": "watch", "role_en": "Watch commander", "role_ru": "Начальник смены"},
]
ROW = re.compile(r'<tr class="msg [^"]*" id="row-([0-9a-f-]+)"')


def queue_section(html: str) -> str:
    """The page from the queue's heading to the Sent panel: the rows that need action."""
    return html[html.index('id="h-action"') : html.index('id="h-sent"')]


def sent_section(html: str) -> str:
    return html[html.index('id="h-sent"') : html.index('id="h-handled"')]


def texts(pattern: str, html: str) -> list[str]:
    return [" ".join(m.split()) for m in re.findall(pattern, html, re.S)]


def test_an_overdue_priority_is_above_an_immediate_with_time_left(
    make_pair: MakePair, clock: FakeClock
) -> None:
    with make_pair() as pair:
        pair.us.auth.add_user("duty", PASSWORD)
        priority = pair.ru.line.send(to="us", text="Late one.", precedence="PRIORITY", user="d")
        clock.advance(3 * 3600 + 51)  # the PRIORITY's 3 hours are gone, 51 s ago
        immediate = pair.ru.line.send(to="us", text="Fresh.", precedence="IMMEDIATE", user="d")
        routine = pair.ru.line.send(to="us", text="Later.", precedence="ROUTINE", user="d")
        pair.flush()
        clock.advance(9)
        us = log_in(pair.servers["us"].url, "duty")
        english = us.get("/console").text
        russian = us.post("/console/lang", {"lang": "ru"}) and us.get("/console").text
        us.http.close()

    queue = queue_section(english)
    assert [priority["id"], immediate["id"], routine["id"]] == ROW.findall(queue)
    assert ["−0:01:00", "0:29:51", "5:59:51"] == texts(r'class="cd-value">(.*?)<', queue)
    # the deadline's date-time group beside each countdown (the clock starts 211430Z)
    assert ["211730Z NOV 26", "211800Z NOV 26", "212330Z NOV 26"] == texts(
        r'class="cd-dtg mono">(.*?)<', queue
    )
    # amber at half the allowance: 90 minutes of a PRIORITY's 3 hours, 15 of 30 …
    assert ["5400", "900", "10800"] == re.findall(r'data-soon="(\d+)"', queue)
    assert "Our acknowledgements are overdue: 1" in english
    assert "Наши подтверждения просрочены: 1" in russian
    assert ["211730Z НОЯ 26", "211800Z НОЯ 26", "212330Z НОЯ 26"] == texts(
        r'class="cd-dtg mono">(.*?)<', queue_section(russian)
    )


def test_no_alert_while_our_acknowledgements_have_time_left(
    make_pair: MakePair, clock: FakeClock
) -> None:
    with make_pair() as pair:
        pair.us.auth.add_user("duty", PASSWORD)
        pair.ru.line.send(to="us", text="In time.", precedence="FLASH", user="d")
        pair.flush()
        clock.advance(301)  # past half of a FLASH's 10 minutes: amber, not yet overdue
        us = log_in(pair.servers["us"].url, "duty")
        html = us.get("/console").text
        us.http.close()

    assert "Our acknowledgements are overdue" not in html
    assert ['class="countdown soon"'] == re.findall(r'class="countdown[^"]*"', queue_section(html))


def test_an_older_peers_escalation_is_folded_into_its_original_and_acknowledged_with_it(
    make_pair: MakePair, clock: FakeClock
) -> None:
    with make_pair() as pair:
        pair.us.auth.add_user("duty", PASSWORD)
        original = pair.ru.line.send(to="us", text="Answer.", precedence="IMMEDIATE", user="d")
        pair.flush()
        clock.advance(1801)
        held = pair.ru.line.show(original["id"])
        with pair.ru.db.write() as conn:  # as an older node sent it
            escalation_id = pair.ru.line.enqueue(
                conn,
                to="us",
                type_="escalation",
                body=check_body(
                    "escalation",
                    {
                        "of_message": original["id"],
                        "of_hash": held["hash"],
                        "step": 1,
                        "contact_id": "watch",
                        "contact_role_en": "Watch commander",
                        "contact_role_ru": "Начальник смены",
                    },
                ),
                precedence="IMMEDIATE",
                lang="ru",
                user="d",
            )
        pair.flush()
        us = log_in(pair.servers["us"].url, "duty")
        english = queue_section(us.get("/console").text)
        russian = us.post("/console/lang", {"lang": "ru"}) and queue_section(
            us.get("/console").text
        )
        acked = us.post(f"/console/messages/{original['id']}/ack")
        after = us.get("/console").text
        us.http.close()
        mine = [pair.us.line.show(i)["acked_by"] for i in (original["id"], escalation_id)]
        pair.flush()
        theirs = [pair.ru.line.show(i)["acked_at"] is not None for i in (original["id"],)]

    assert [original["id"]] == ROW.findall(english)  # no row of its own
    assert ["Escalated: step 1 → Watch commander"] == texts(
        r'class="escalated[^"]*">(.*?)<', english
    )
    assert ["Эскалация: шаг 1 → Начальник смены"] == texts(
        r'class="escalated[^"]*">(.*?)<', russian
    )
    assert 303 == acked.status_code
    assert ["duty", "duty"] == mine  # acknowledged with it
    assert [] == ROW.findall(queue_section(after))
    assert escalation_id not in after  # nor listed among the received
    assert [True] == theirs


def test_our_own_escalation_is_written_on_the_sent_message(
    make_pair: MakePair, clock: FakeClock
) -> None:
    with make_pair(us={"files": {"contacts.json": CONTACTS}}) as pair:
        pair.us.auth.add_user("duty", PASSWORD)
        sent = pair.us.line.send(to="ru", text="Answer now.", precedence="FLASH", user="duty")
        pair.flush()
        clock.advance(601)
        pair.us.deadlines.tick()
        us = log_in(pair.servers["us"].url, "duty")
        html = sent_section(us.get("/console").text)
        us.http.close()

    assert sent["id"] == ROW.findall(html)[0]
    assert ["Escalated: step 1 → Watch commander"] == texts(r'class="escalated[^"]*">(.*?)<', html)
    assert ["−0:00:01"] == texts(r'class="cd-value">(.*?)<', html)


def test_an_operator_test_is_answered_from_the_queue_and_leaves_it(
    make_pair: MakePair, clock: FakeClock
) -> None:
    with make_pair() as pair:
        pair.us.auth.add_user("duty", PASSWORD)
        pair.ru.operator_tests.send("us")
        pair.flush()
        [test] = pair.us.operator_tests.listing("in", "pending")
        us = log_in(pair.servers["us"].url, "duty")
        before = queue_section(us.get("/console").text)
        answered = us.post(f"/console/operator-tests/{test['id']}/answer")
        after = us.get("/console").text
        us.http.close()
        [state] = [t["state"] for t in pair.us.operator_tests.listing("in")]

    assert [test["message_id"]] == ROW.findall(before)
    assert f'id="answer-test-{test["message_id"]}"' in before
    assert 'id="ack-' not in before  # answered, never "awaiting acknowledgement"
    assert 303 == answered.status_code
    assert [] == ROW.findall(queue_section(after))
    assert "answered" == state
