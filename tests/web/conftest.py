"""Fixtures for the console's pages over real HTTP: a pair of nodes and a logged-in browser-like
client (cookies kept, the CSRF token read from the page as a browser's form would carry it)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from hotline.testing import verify_for
from tests.conftest import Pair

PASSWORD = "correct horse battery"
CSRF = re.compile(r'name="csrf" value="([0-9a-f]{64})"')


@dataclass
class Console:
    """One operator's session on one node's console."""

    http: httpx.Client
    csrf: str
    user: str

    def get(self, path: str, **kwargs: object) -> httpx.Response:
        return self.http.get(path, **kwargs)  # type: ignore[arg-type]

    def post(
        self, path: str, data: dict[str, object] | None = None, **kwargs: object
    ) -> httpx.Response:
        form = {"csrf": self.csrf, **(data or {})}
        return self.http.post(path, data=form, **kwargs)  # type: ignore[arg-type]


def log_in(url: str, user: str, password: str = PASSWORD) -> Console:
    http = httpx.Client(base_url=url, timeout=30, verify=verify_for(url))  # TLS: its cert
    response = http.post("/console/login", data={"user": user, "password": password})
    assert 303 == response.status_code, response.text
    page = http.get("/console")
    match = CSRF.search(page.text)
    assert match is not None, "the console page carries a CSRF token"
    return Console(http, match.group(1), user)


@pytest.fixture
def consoles(pair: Pair) -> Iterator[dict[str, Console]]:
    """``duty`` logged in on both nodes' consoles (and ``duty2`` on us, for two-person steps)."""
    for node in (pair.us, pair.ru):
        node.auth.add_user("duty", PASSWORD)
    pair.us.auth.add_user("duty2", PASSWORD)
    made = {
        "us": log_in(pair.servers["us"].url, "duty"),
        "ru": log_in(pair.servers["ru"].url, "duty"),
        "us2": log_in(pair.servers["us"].url, "duty2"),
    }
    yield made
    for console in made.values():
        console.http.close()
