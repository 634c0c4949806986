"""The line's classification marking (setting ``marking``): top and bottom of every console
page (the login page and refusals included), on a message's print view with its precedence,
and on the first line of the queue's CSV."""

from __future__ import annotations

import httpx
import pytest
from pydantic import ValidationError

from hotline.config import NodeSettings
from hotline.testing import verify_for
from tests.conftest import MakePair
from tests.web.conftest import PASSWORD, log_in

MARKING = "SECRET//HOTLINE <REL US RU>"
SHOWN = "SECRET//HOTLINE &lt;REL US RU&gt;"
BAR = f">{SHOWN}</div>"


def test_the_marking_is_on_every_page_every_print_view_and_the_csv(make_pair: MakePair) -> None:
    with make_pair(us={"marking": MARKING}) as pair:
        pair.us.auth.add_user("duty", PASSWORD)
        sent = pair.ru.line.send(to="us", text="Hello.", precedence="IMMEDIATE", user="d")
        pair.flush()
        url = pair.servers["us"].url
        login_page = httpx.get(url + "/console/login", verify=verify_for(url)).text
        duty = log_in(url, "duty")
        pages = {p: duty.get(p).text for p in ("/console", "/console/handover", "/console/map")}
        message = duty.get(f"/console/messages/{sent['id']}").text
        refused = duty.get("/console", params={"state": "lost"}).text
        exported = duty.get("/console/queue.csv").text.splitlines()
        duty.http.close()

    for path, html in pages.items():
        assert 2 == html.count(BAR), path
    assert f'aria-hidden="true">{SHOWN} · IMMEDIATE · ' in message  # print view, with precedence
    assert (2, 2) == (refused.count(BAR), login_page.count(BAR))
    assert MARKING == exported[0]


def test_a_marking_with_control_characters_is_refused() -> None:
    with pytest.raises(ValidationError, match="marking"):
        NodeSettings.model_validate(
            {"party": "us", "name_en": "a", "name_ru": "b", "marking": "A\nB"}
        )
