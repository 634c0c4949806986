"""Console sessions: login, the cookie's attributes, logout, CSRF and origin checks, language."""

from __future__ import annotations

import httpx

from hotline.testing import HTTP_TIMEOUT_S
from tests.conftest import Pair
from tests.web.conftest import PASSWORD, Console, log_in


def test_pages_need_a_session_and_send_you_to_the_login_page(pair: Pair) -> None:
    response = httpx.get(
        pair.servers["us"].url + "/console", follow_redirects=False, timeout=HTTP_TIMEOUT_S
    )

    assert (303, "/console/login") == (response.status_code, response.headers["location"])


def test_wrong_password_is_refused_on_the_login_page(pair: Pair) -> None:
    pair.us.auth.add_user("duty", PASSWORD)
    response = httpx.post(
        pair.servers["us"].url + "/console/login",
        data={"user": "duty", "password": "wrong one"},
        timeout=HTTP_TIMEOUT_S,
    )

    assert 401 == response.status_code
    assert "Wrong user name or password." in response.text
    assert "set-cookie" not in response.headers


def test_the_session_cookie_is_opaque_httponly_and_samesite_strict(pair: Pair) -> None:
    pair.us.auth.add_user("duty", PASSWORD)
    response = httpx.post(
        pair.servers["us"].url + "/console/login",
        data={"user": "duty", "password": PASSWORD},
        timeout=HTTP_TIMEOUT_S,
    )
    cookie = response.headers["set-cookie"]
    value = cookie.split(";")[0].split("=", 1)[1]

    assert cookie.startswith("hotline_session=")
    assert {"httponly", "samesite=strict", "path=/console"} <= {
        part.strip().lower() for part in cookie.split(";")
    }
    assert "duty" not in value and len(value) >= 40


def test_logging_out_revokes_the_session_on_the_node(consoles: dict[str, Console]) -> None:
    us = consoles["us"]
    token = us.http.cookies["hotline_session"]
    us.post("/console/logout")

    again = httpx.get(
        str(us.http.base_url) + "/console",
        cookies={"hotline_session": token},
        follow_redirects=False,
        timeout=HTTP_TIMEOUT_S,
    )
    assert 303 == again.status_code


def test_a_post_without_the_csrf_token_is_refused(consoles: dict[str, Console]) -> None:
    response = consoles["us"].http.post("/console/compose/text", data={"to": "ru", "text": "hi"})

    assert 403 == response.status_code
    assert "security token" in response.text


def test_a_post_from_another_site_is_refused_even_with_the_token(
    consoles: dict[str, Console],
) -> None:
    us = consoles["us"]
    response = us.post(
        "/console/compose/text",
        {"to": "ru", "text": "hi"},
        headers={"Origin": "https://evil.example"},
    )

    assert 403 == response.status_code
    assert "another site" in response.text


def test_pages_forbid_framing_and_foreign_scripts(consoles: dict[str, Console]) -> None:
    headers = consoles["us"].get("/console").headers

    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert "script-src 'self';" in headers["content-security-policy"]
    assert "DENY" == headers["x-frame-options"]


def test_the_language_switch_is_remembered_and_changes_every_label(
    consoles: dict[str, Console],
) -> None:
    us = consoles["us"]
    response = us.post("/console/lang", {"lang": "ru", "back": "/console/links"})
    page = us.get("/console/alarms").text

    assert (303, "/console/links") == (response.status_code, response.headers["location"])
    assert '<html lang="ru">' in page
    assert "Тревоги" in page and "Дежурство" in page and "Alarms" not in page


def test_the_language_switch_never_redirects_off_the_console(
    consoles: dict[str, Console],
) -> None:
    response = consoles["us"].post("/console/lang", {"lang": "en", "back": "//evil.example/x"})

    assert "/console" == response.headers["location"]


def test_a_second_login_gets_its_own_session(pair: Pair) -> None:
    pair.us.auth.add_user("duty", PASSWORD)
    first = log_in(pair.servers["us"].url, "duty")
    second = log_in(pair.servers["us"].url, "duty")

    assert first.csrf != second.csrf
