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
from tests.conftest import MakePair, Pair
from tests.services.test_conflicts import corridor_notice
from tests.services.test_negotiation import send
from tests.web.conftest import PASSWORD, Console, log_in

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


def test_a_deconfliction_request_offers_an_answer_form_pre_filled_with_it(
    pair: Pair, consoles: dict[str, Console]
) -> None:
    ru_notice = send(pair, "ru", corridor_notice("R1", "36.0000000", "35.0000000", (0, 3000)))
    request_id = send(
        pair,
        "us",
        {
            "type": "deconfliction_request",
            "refers_to": ru_notice,
            "concerns": [{"message_id": ru_notice, "volume_id": "R1", "version": 1}],
            "concern": "R1 is 2 km from our A1. Request you move it east.",
        },
    )
    ru = consoles["ru"]
    ru.post("/console/lang", {"lang": "en"})
    page = ru.get(f"/console/messages/{request_id}").text
    answer_url = f"/console/compose?tab=notice&amp;type=deconfliction_answer&amp;ref={request_id}"
    compose = ru.get(answer_url.replace("&amp;", "&")).text
    request_dtg = pair.ru.line.show(request_id)["created"]

    assert f'id="answer-{request_id}" href="{answer_url}"' in page
    assert f'href="/console/messages/{ru_notice}" id="reference-link">Activity notice ' in page
    assert f'<option value="{request_id}" selected>Deconfliction request ' in compose
    assert "211430Z NOV 26 ← US · R1 is 2 km from our…" in compose  # first words in the label
    assert '<option value="us" selected>' in compose
    assert 'value="PRIORITY" checked' in compose
    assert f'href="/console/map?focus={ru_notice}"' in compose  # the notice it is about
    volume_cells = texts(r'<table class="grid answering-volumes">.*?<tbody>(.*?)</tbody>', compose)
    assert 1 == len(volume_cells) and "R1" in volume_cells[0] and "0–3000" in volume_cells[0]
    assert request_dtg[:10] in compose
    # a counter-proposal starts from the request's volume, in an editable row
    assert 'id="counter-rows-note"' in compose
    assert 'name="vol-0-id" value="R1"' in compose
    assert '<option value="circle" selected>' in compose
    assert ">35.0000000, 36.0000000</textarea>" in compose
    assert 'data-frame=\'[{"geometry": {"coordinates": [36.0, 35.0]' in compose  # the map


def test_a_text_offers_a_reply_pre_filled_and_a_sent_message_offers_none(
    pair: Pair, consoles: dict[str, Console]
) -> None:
    sent = pair.ru.line.send(to="us", text="Call us on channel 4 at 1400.", user="d")
    pair.flush()
    us = consoles["us"]
    page = us.get(f"/console/messages/{sent['id']}").text
    reply = us.get(f"/console/compose?tab=text&reply_to={sent['id']}").text
    theirs = consoles["ru"].get(f"/console/messages/{sent['id']}").text

    assert f'id="answer-{sent["id"]}" href="/console/compose?tab=text&amp;reply_to=' in page
    prefilled = r'<textarea id="text"[^>]*>Free text \d{6}Z [A-Z]{3} \d\d ← RU · Call us'
    assert re.search(prefilled, reply)
    assert '<option value="ru" selected>' in reply
    assert 'id="answer-' not in theirs  # the sender does not answer its own message


def test_the_handover_page_lists_the_open_items_and_the_queue_exports_as_safe_csv(
    make_pair: MakePair, clock: FakeClock
) -> None:
    with make_pair() as pair:
        pair.us.auth.add_user("duty", PASSWORD)
        late = pair.ru.line.send(to="us", text="=HYPERLINK(1)", precedence="FLASH", user="d")
        pair.flush()
        clock.advance(601)
        fresh = pair.ru.line.send(to="us", text="Fresh.", precedence="IMMEDIATE", user="d")
        pair.us.line.send(to="ru", text="Ours.", precedence="PRIORITY", user="duty")
        pair.flush()
        us = log_in(pair.servers["us"].url, "duty")
        page = us.get("/console/handover").text
        exported = us.get("/console/queue.csv")
        us.http.close()

    assert "Received, not acknowledged: 2" in page
    assert "Of those overdue: 1" in page
    assert "Sent, awaiting the other side: 1" in page
    assert "FLASH awaiting a second person’s approval: 0" in page
    lines = exported.text.splitlines()
    assert "text/csv; charset=utf-8" == exported.headers["content-type"]
    assert "UNCLASSIFIED" == lines[0]  # the line's marking first
    assert lines[1].startswith("direction,precedence,created,peer,type,subject,deadline")
    assert [late["id"], fresh["id"]] == [line.rsplit(",", 1)[1] for line in lines[2:4]]
    assert ",'=HYPERLINK(1)," in lines[2] and ",-1," in lines[2]  # a formula kept as text
    assert lines[4].startswith("out,PRIORITY,")


def test_a_received_notice_shows_its_conflicts_with_our_volumes(
    pair: Pair, consoles: dict[str, Console]
) -> None:
    ru_notice = send(pair, "ru", corridor_notice("R1", "36.0000000", "35.0000000", (0, 3000)))
    send(pair, "us", corridor_notice("A1", "36.0000000", "35.1080000", (1000, 5000)))
    clear = pair.us.line.send(to="ru", text="Only text.", user="duty")
    pair.flush()
    page = consoles["us"].get(f"/console/messages/{ru_notice}").text
    senders = consoles["ru"].get(f"/console/messages/{ru_notice}").text
    text_page = consoles["ru"].get(f"/console/messages/{clear['id']}").text

    conflict = texts(r'<li class="conflict">(.*?)</li>', page)
    assert 1 == len(conflict)
    assert conflict[0].startswith("Their volume R1 conflicts with our volume A1 — from ")
    assert f'href="/console/map?focus={ru_notice}"' in page
    assert 'id="notice-conflicts"' not in senders  # shown on a RECEIVED notice
    assert 'id="notice-conflicts"' not in text_page  # and on a notice only
