"""The evidence page over real HTTP, between two real nodes: the log's state, checkpoints
exchanged, fork evidence, and evidence bundles downloaded from the console that verify
offline and are byte for byte what ``hotline evidence export`` writes."""

from __future__ import annotations

import json
import re

from hotline.clock import FakeClock
from hotline.services.evidence.bundle import export_bundle
from hotline.services.evidence.verify import verify_bundle
from tests.conftest import Pair
from tests.evidence.conftest import converse, edit_entry
from tests.web.conftest import PASSWORD, Console, log_in


def figure(page: str, element_id: str) -> str:
    found = re.search(rf'id="{element_id}">([^<]*)<', page)
    assert found is not None, f"the page shows #{element_id}"
    return found.group(1)


def test_the_page_shows_the_log_and_warns_while_nothing_is_co_signed(
    pair: Pair, consoles: dict[str, Console]
) -> None:
    converse(pair)

    page = consoles["us"].get("/console/evidence").text

    state = pair.us.evidence.state()
    assert (str(state["size"]), state["root"]) == (
        figure(page, "log-size"),
        figure(page, "log-root"),
    )
    assert "hotline/us" in page and "never co-signed" in page and "log-stale" in page


def test_exchanging_from_the_console_shows_the_co_signature_then_its_age(
    pair: Pair, consoles: dict[str, Console], clock: FakeClock
) -> None:
    converse(pair)

    exchanged = consoles["us"].post("/console/evidence/exchange")
    fresh = consoles["us"].get("/console/evidence").text
    clock.advance(3 * pair.us.settings.checkpoint_interval_s + 1)
    old = consoles["us"].get("/console/evidence").text

    assert 200 == exchanged.status_code
    assert "RU co-signed size" in exchanged.text or "RU: " in exchanged.text
    assert "co-signed recently" in fresh and "log-stale" not in fresh
    assert "co-signature is old" in old and "log-stale" in old
    # the other side's page lists the checkpoint of us's log it co-signed
    assert "hotline/ru" in consoles["ru"].get("/console/evidence").text


def test_the_bundle_downloaded_from_the_message_page_verifies_and_is_what_the_cli_writes(
    pair: Pair, consoles: dict[str, Console]
) -> None:
    message_id = converse(pair)
    pair.us.evidence.exchange()

    message_page = consoles["us"].get(f"/console/messages/{message_id}").text
    download = consoles["us"].get(f"/console/messages/{message_id}/evidence")

    assert f'action="/console/messages/{message_id}/evidence"' in message_page
    assert 200 == download.status_code, download.text
    assert "attachment" in download.headers["content-disposition"]
    verdict = verify_bundle(download.content)
    assert (True, []) == (verdict.ok, verdict.failed)
    assert export_bundle(pair.us.evidence, message_id) == download.content
    assert json.loads(download.content)["cosigned"] is True


def test_an_auditor_sees_the_page_and_downloads_a_bundle(
    pair: Pair, consoles: dict[str, Console]
) -> None:
    message_id = converse(pair)
    pair.us.evidence.exchange()
    pair.us.auth.add_user("audit", PASSWORD, ["auditor"])
    auditor = log_in(pair.servers["us"].url, "audit")
    try:
        page = auditor.get("/console/evidence")
        download = auditor.get(f"/console/messages/{message_id}/evidence")
    finally:
        auditor.http.close()

    assert (200, 200) == (page.status_code, download.status_code)
    assert 'href="/console/evidence"' in page.text and "Download evidence bundle" in page.text
    assert verify_bundle(download.content).ok


def test_a_bundle_no_co_signed_checkpoint_covers_is_refused_unless_asked_for(
    pair: Pair, consoles: dict[str, Console]
) -> None:
    message_id = converse(pair)

    refused = consoles["us"].get(f"/console/messages/{message_id}/evidence")
    allowed = consoles["us"].post(
        "/console/evidence/bundle", {"message_id": message_id, "allow_uncosigned": "on"}
    )

    assert 409 == refused.status_code and "hotline evidence exchange" in refused.text
    assert 200 == allowed.status_code
    assert json.loads(allowed.content)["cosigned"] is False
    assert not verify_bundle(allowed.content).ok
    assert verify_bundle(allowed.content, allow_uncosigned=True).ok


def test_a_damaged_log_shows_its_evidence_and_alarm(
    pair: Pair, consoles: dict[str, Console]
) -> None:
    converse(pair)
    edit_entry(pair.us, 0, rehash=False)

    refused = consoles["us"].post("/console/evidence/exchange")
    page = consoles["us"].get("/console/evidence").text

    assert 409 == refused.status_code and "leaf hash" in refused.text  # signs nothing
    assert "damaged (this node&#39;s own log)" in page and "log-forked" in page
    assert "Peer&#39;s log forked" in page  # the open log_fork alarm


def test_the_evidence_page_speaks_russian(pair: Pair, consoles: dict[str, Console]) -> None:
    converse(pair)

    page = consoles["ru"].get("/console/evidence").text  # ru's own language

    assert '<html lang="ru">' in page
    for label in ("Доказательства", "Журнал hotline/ru", "Записей", "не заверялся"):
        assert label in page
