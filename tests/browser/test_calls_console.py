"""The calls, watch-level and evidence pages in a real browser, against two real nodes.

The story of the source articles, on the fake clock so that its dates are those of 2022:
the defence chiefs spoke on 18 February; a request on 1 March was declined, one on
24 March went unanswered; on 10 May the US side asks again from the console, the Russian
side accepts from the keyboard, the call is held on 13 May ("the first call in 84 days")
and both sides publish their readouts. A commander proposes raising the watch level and
a second one approves it; an auditor-minded officer exchanges checkpoints and downloads
a message's evidence bundle. The pages are photographed into ``test-artifacts/console/``
(copied into ``docs/screenshots/`` by hand when they change).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from hotline.clock import FakeClock
from hotline.services.auth import User
from hotline.services.evidence.verify import verify_bundle
from hotline.testing import DatabaseFactory
from tests.browser.conftest import PASSWORD, log_in
from tests.browser.test_console import UNLABELLED, tab_to
from tests.calls.conftest import PRINCIPALS
from tests.conftest import MakePair, Pair
from tests.evidence.conftest import converse

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "console"
OFFICER = User("duty", ("officer",))
RU_COMMANDERS = (User("komandir", ("commander",)), User("zamestitel", ("commander",)))
PARTICIPANTS = [
    {"party": "us", "name": "Lloyd Austin", "role": "Secretary of Defense"},
    {"party": "ru", "name": "Sergei Shoigu", "role": "Minister of Defence"},
]


def at(month: int, day: int, hour: int = 9, minute: int = 0) -> datetime:
    return datetime(2022, month, day, hour, minute, tzinfo=UTC)


@dataclass
class Desks:
    pair: Pair
    clock: FakeClock
    us: Page
    ru: Page
    second: Page  # a second commander at the US node

    def url(self, party: str) -> str:
        return self.pair.servers[party].url


@pytest.fixture
def desks(
    databases: DatabaseFactory, make_pair: MakePair, browser: Browser, clock: FakeClock
) -> Iterator[Desks]:
    if databases.backend != "sqlite":
        pytest.skip("browser tests run on SQLite only (see tests/browser/conftest.py)")
    clock.set(at(2, 10))
    options = {
        party: {"files": {"principals.json": PRINCIPALS[party]}, "token_ttl_s": 10**9}
        for party in PRINCIPALS
    }
    with make_pair(us=options["us"], ru=options["ru"]) as pair:
        pair.us.auth.add_user("duty", PASSWORD, ["commander"])
        pair.us.auth.add_user("deputy", PASSWORD, ["commander"])
        pair.ru.auth.add_user("duty", PASSWORD, ["officer"])
        contexts = [browser.new_context(viewport={"width": 1280, "height": 800}) for _ in range(3)]
        pages = [context.new_page() for context in contexts]
        for page, (party, user) in zip(
            pages, (("us", "duty"), ("ru", "duty"), ("us", "deputy")), strict=True
        ):
            page.set_default_timeout(15_000)
            log_in(page, pair.servers[party].url, user)
        try:
            yield Desks(pair, clock, *pages)
        finally:
            for context in contexts:
                context.close()


def earlier_history(pair: Pair, clock: FakeClock) -> None:
    """18 February held; 1 March declined; 24 March unanswered (through the services)."""
    us, ru = pair.us.calls, pair.ru.calls
    first = us.requests.request(
        to="ru",
        principal="secdef",
        counterpart="minister",
        topics=["risk reduction"],
        slots=[{"start": "2022-02-18T15:00:00Z", "minutes": 60}],
        answer_by="2022-02-15T00:00:00Z",
        user=OFFICER,
    )
    pair.flush()
    ru.requests.answer(first["id"], answer="accept", slot=first["slots"][0], user=OFFICER)
    pair.flush()
    clock.set(at(2, 18, 16))
    us.records.record(
        first["id"],
        held_at="2022-02-18T15:00:00Z",
        minutes=60,
        participants=PARTICIPANTS,
        user=OFFICER,
    )
    pair.flush()
    for month, day, reason in ((3, 1, "Not at this time."), (3, 24, None)):
        clock.set(at(month, day))
        asked = us.requests.request(
            to="ru",
            principal="secdef",
            counterpart="minister",
            topics=["ceasefire"],
            slots=[{"start": f"2022-0{month}-{day + 3:02d}T15:00:00Z", "minutes": 60}],
            answer_by=f"2022-0{month}-{day + 2:02d}T12:00:00Z",
            user=OFFICER,
        )
        pair.flush()
        if reason:
            ru.requests.answer(asked["id"], answer="decline", reason=reason, user=OFFICER)
            pair.flush()
    clock.set(at(3, 26, 12))
    us.tick()
    pair.ru.calls.tick()


def unlabelled(page: Page) -> list[str]:
    found: list[str] = page.evaluate(UNLABELLED)
    return found


def test_a_call_is_requested_accepted_by_keyboard_held_and_both_readouts_shown(
    desks: Desks,
) -> None:
    pair, clock = desks.pair, desks.clock
    earlier_history(pair, clock)

    # 10 May: the US desk asks for a call from the calls page.
    clock.set(at(5, 10))
    desks.us.goto(desks.url("us") + "/console/calls")
    assert [] == unlabelled(desks.us)
    desks.us.select_option("#principal", "secdef")
    desks.us.select_option("#counterpart", "ru:minister")
    desks.us.fill("#topics", "Immediate ceasefire\nLines of communication")
    desks.us.check("input[name=precedence][value=PRIORITY]")
    desks.us.fill("#slot-0-start", "2022-05-13 14:00")
    desks.us.fill("#answer_by", "2022-05-12 12:00")
    desks.us.click("text=Sign and send the request")
    expect(desks.us.locator("#h-req")).to_contain_text("Lloyd Austin")
    request_url = desks.us.url
    pair.flush()

    # The Russian desk opens it from its calls page and accepts from the keyboard.
    desks.ru.goto(desks.url("ru") + "/console/calls")
    desks.ru.click(f"a[href='{request_url.removeprefix(desks.url('us'))}']")
    assert [] == unlabelled(desks.ru)
    tab_to(desks.ru, "answer-accept")
    desks.ru.keyboard.press("Enter")
    expect(desks.ru.locator("#h-req")).to_be_visible()
    expect(desks.ru.locator("main .facts")).to_contain_text("принят")
    pair.flush()

    # 13 May: held; the US desk records it, both sides write their public readouts.
    clock.set(at(5, 13, 15, 10))
    desks.us.goto(request_url)
    desks.us.fill("#held_at", "2022-05-13 14:00")
    desks.us.fill("#part-0-name", "Lloyd Austin")
    desks.us.fill("#part-0-role", "Secretary of Defense")
    desks.us.fill("#part-1-name", "Sergei Shoigu")
    desks.us.fill("#part-1-role", "Minister of Defence")
    desks.us.fill("#interp-0-name", "Interpreter A")
    desks.us.select_option("#interp-0-party", "ru")
    desks.us.click("#record-held")
    expect(desks.us.locator("#h-call")).to_be_visible()
    call_url = desks.us.url
    pair.flush()
    call_path = call_url.removeprefix(desks.url("us"))
    for party, page, title, text in (
        (
            "us",
            desks.us,
            "Readout of Secretary Austin's call with Minister Shoigu",
            "Secretary Austin urged an immediate ceasefire in Ukraine and emphasized the "
            "importance of maintaining lines of communication.",
        ),
        (
            "ru",
            desks.ru,
            "О телефонном разговоре Сергея Шойгу с Ллойдом Остином",
            "Состоялся телефонный разговор по инициативе американской стороны. "
            "Обсуждены актуальные вопросы международной безопасности, в том числе "
            "ситуация на Украине.",
        ),
    ):
        page.goto(desks.url(party) + call_path)
        page.fill("#ro-title", title)
        page.fill("#ro-text", text)
        page.check("input[name=visibility][value=public]")
        page.click("#ro-save")
        # saved when the call's page lists it (the post first checks the node is there)
        expect(page.locator("td .readout-text").first).to_contain_text(text[:40], timeout=60_000)
    pair.flush()

    desks.us.goto(call_url)
    sides = desks.us.locator(".readouts")
    expect(sides).to_contain_text("Secretary Austin urged")
    expect(sides).to_contain_text("Состоялся телефонный разговор")
    assert [] == unlabelled(desks.us)
    desks.us.screenshot(path=str(SCREENSHOTS / "console-call-readouts.png"), full_page=True)

    # A week later, the calls page: 7 days since the last contact, the first call in 84.
    clock.set(at(5, 20, 8))
    desks.us.goto(desks.url("us") + "/console/calls")
    expect(desks.us.locator("#days-1")).to_have_text("7")
    expect(desks.us.locator(".contact-log")).to_contain_text("first call in 84 days")
    desks.us.screenshot(path=str(SCREENSHOTS / "console-calls.png"), full_page=True)


def test_a_watch_level_raised_by_one_commander_takes_effect_when_a_second_approves(
    desks: Desks,
) -> None:
    pair = desks.pair
    url = desks.url("us")
    desks.us.goto(url + "/console/watch-level")
    assert [] == unlabelled(desks.us)
    desks.us.select_option("#wl-level", "possible-crisis")
    desks.us.fill("#wl-reason", "Missile impact in Przewodów; no answer on the line.")
    desks.us.select_option("#wl-notify", "ru")
    desks.us.fill("#wl-message", "Watch level raised pending clarification.")
    desks.us.click("#propose-change")
    expect(desks.us.locator("#h-pending")).to_be_visible()
    expect(desks.us.locator("#approve-change")).to_have_count(0)  # not for the proposer
    expect(desks.us.locator("#wl-current")).to_have_text("NORMAL")

    desks.second.goto(url + "/console/watch-level")
    tab_to(desks.second, "approve-change", limit=120)
    desks.second.keyboard.press("Enter")
    expect(desks.second.locator("#wl-current")).to_have_text("POSSIBLE CRISIS")
    expect(desks.second.locator("#watch-chip")).to_contain_text("US POSSIBLE CRISIS")
    pair.flush()

    desks.ru.goto(desks.url("ru") + "/console/watch-level")
    expect(desks.ru.locator("#wl-peer-us")).to_have_text("ВОЗМОЖНЫЙ КРИЗИС")
    expect(desks.ru.locator("#watch-chip")).to_contain_text("US ВОЗМОЖНЫЙ КРИЗИС")

    # the other side raises its own level (its two commanders) and says so
    theirs = pair.ru.calls.watch
    change = theirs.propose(
        "possible-crisis", reason="Ответные меры.", notify="us", user=RU_COMMANDERS[0]
    )
    theirs.approve(change["id"], user=RU_COMMANDERS[1])
    pair.flush()
    desks.second.goto(url + "/console/watch-level")
    expect(desks.second.locator("#wl-peer-ru")).to_have_text("POSSIBLE CRISIS")
    desks.second.screenshot(path=str(SCREENSHOTS / "console-watch-level.png"), full_page=True)


def test_the_evidence_page_exchanges_checkpoints_and_downloads_a_bundle_that_verifies(
    desks: Desks,
) -> None:
    pair = desks.pair
    url = desks.url("us")
    message_id = converse(pair, "Test of the line. Подтвердите.")
    converse(pair, "Unannounced launch at 04:10Z.\nЗапуск в 04:10Z.")

    desks.us.goto(url + "/console/evidence")
    expect(desks.us.locator("#cosign-warning")).to_be_visible()  # never co-signed yet
    assert [] == unlabelled(desks.us)
    tab_to(desks.us, "exchange-now", limit=120)
    desks.us.keyboard.press("Enter")
    expect(desks.us.locator("#h-results")).to_be_visible()
    pair.ru.evidence.exchange()  # and the other side has its own log co-signed
    desks.us.goto(url + "/console/evidence")
    expect(desks.us.locator("#cosign-warning")).to_have_count(0)
    desks.us.screenshot(path=str(SCREENSHOTS / "console-evidence.png"), full_page=True)

    desks.us.goto(url + f"/console/messages/{message_id}")
    with desks.us.expect_download() as download:
        desks.us.click("#download-evidence")
    saved = download.value.path()
    verdict = verify_bundle(Path(saved).read_bytes())
    assert (True, []) == (verdict.ok, verdict.failed)
