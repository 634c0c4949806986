"""Filters and search over messages (issue 17): direction, type, precedence, state, a UTC
range and free text (English and Russian bodies, a coded message's phrase, translations),
the same answers on PostgreSQL and SQLite; the Watch page under a search (a URL) and its
CSV export. Real HTTP, both backends, the fake clock."""

from __future__ import annotations

import pytest

from hotline.clock import FakeClock
from hotline.errors import ValidationError
from hotline.services.search import MessageFilter
from tests.conftest import Pair
from tests.web.conftest import PASSWORD, log_in


def ids(found: list[dict[str, object]]) -> set[object]:
    return {m["id"] for m in found}


def test_messages_are_found_by_each_filter_and_by_text_in_both_languages(
    pair: Pair, clock: FakeClock
) -> None:
    old = pair.ru.line.send(to="us", text="Radar SITE Alpha down.", precedence="ROUTINE", user="d")
    clock.advance(86_400)
    flash = pair.ru.line.send(
        to="us", text="ЗАПУСК РАКЕТЫ обнаружен", precedence="FLASH", lang="ru", user="d"
    )
    coded = pair.ru.notices.send_code("us", 1, precedence="PRIORITY", user="d")["message"]
    ours = pair.us.line.send(to="ru", text="Call us at 0600Z.", precedence="IMMEDIATE", user="o")
    pair.flush()
    pair.us.line.acknowledge(old["id"], "duty")
    pair.us.notices.translate(flash["id"], "en", "Missile launch detected", "duty")
    clock.advance(601)  # the FLASH (10 min) is overdue, the PRIORITY (3 h) is not
    now = clock.now()

    def find(**given: str) -> set[object]:
        return ids(pair.us.search.search(MessageFilter.parse(given), now))

    assert {old["id"], flash["id"], coded["id"]} == find(direction="in")
    assert {ours["id"]} == find(direction="out")
    assert {flash["id"]} == find(precedence="FLASH")
    assert {coded["id"]} == find(type="coded_message")
    assert {flash["id"], coded["id"], ours["id"]} == find(state="unacknowledged")
    assert {flash["id"]} == find(state="overdue")
    assert {old["id"]} == find(until=old["created"][:10])  # a date: that whole day
    assert {flash["id"], coded["id"], ours["id"]} == find(since=flash["created"][:10])
    assert {old["id"]} == find(q="site alpha")  # case folded
    assert {flash["id"]} == find(q="запуск ракеты")  # Cyrillic folded on both backends
    assert {flash["id"]} == find(q="MISSILE launch")  # its translation
    entry = pair.us.identity.phrasebook.lookup(1)
    assert {coded["id"]} == find(q=entry.ru.split()[0].upper())  # the phrase, in Russian
    assert set() == find(q="precedence")  # a key of the envelope is not its text
    assert {flash["id"]} == find(direction="in", state="overdue", q="ракет")
    with pytest.raises(ValidationError):
        MessageFilter.parse({"since": "yesterday"})

    pair.us.auth.add_user("duty", PASSWORD)
    duty = log_in(pair.servers["us"].url, "duty")  # after the clock's jumps
    page = duty.get("/console", params={"q": "ракет", "direction": "in"}).text
    exported = duty.get("/console/queue.csv", params={"direction": "in"}).text.splitlines()
    bad = duty.get("/console", params={"state": "lost"})

    assert f'id="row-{flash["id"]}"' in page
    assert f'id="row-{coded["id"]}"' not in page and f'id="row-{ours["id"]}"' not in page
    assert 'value="ракет"' in page and 'id="f-active"' in page
    assert f'action="/console/messages/{flash["id"]}/ack?direction=in&amp;q=' in page
    rows = [line.rsplit(",", 1)[1] for line in exported[2:]]
    assert [flash["id"], coded["id"], old["id"]] == rows  # the queue, then the handled
    duty.http.close()
    assert 422 == bad.status_code and "state" in bad.text
