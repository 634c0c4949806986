"""Fixtures for calls: two nodes with principals on their cards, people with roles, and a
small client for each node's operator API over real HTTP."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import inspect, select

from hotline.node import Node
from hotline.services.auth import User
from hotline.storage.schema import metadata
from hotline.storage.tables.core import messages
from tests.conftest import MakePair, Pair

PRINCIPALS = {
    "us": [
        {
            "id": "cjcs",
            "name_en": "Gen. Mark Milley",
            "name_ru": "генерал Марк Милли",
            "title_en": "Chairman of the Joint Chiefs of Staff",
            "title_ru": "Председатель Объединённого комитета начальников штабов",
        },
        {
            "id": "secdef",
            "name_en": "Lloyd Austin",
            "name_ru": "Ллойд Остин",
            "title_en": "Secretary of Defense",
            "title_ru": "Министр обороны",
        },
    ],
    "ru": [
        {
            "id": "cgs",
            "name_en": "Gen. Valery Gerasimov",
            "name_ru": "генерал Валерий Герасимов",
            "title_en": "Chief of the General Staff",
            "title_ru": "Начальник Генерального штаба",
        },
        {
            "id": "minister",
            "name_en": "Sergei Shoigu",
            "name_ru": "Сергей Шойгу",
            "title_en": "Minister of Defence",
            "title_ru": "Министр обороны",
        },
    ],
}

#: People on either node, by role (the services take a ``User``).
OFFICER = User("duty", ("officer",))
COMMANDER = User("watch-commander", ("commander",))
SECOND_COMMANDER = User("deputy", ("commander",))
AUDITOR = User("auditor", ("auditor",))

PASSWORD = "correct horse battery"


@pytest.fixture
def calls_pair(make_pair: MakePair) -> Iterator[Pair]:
    """``pair``, with each side's principals in ``principals.json`` (so on its card)."""
    # tokens that outlive the clock's jumps of weeks: one login (one Argon2 check) a person
    files = {
        party: {"files": {"principals.json": PRINCIPALS[party]}, "token_ttl_s": 10**9}
        for party in PRINCIPALS
    }
    with make_pair(us=files["us"], ru=files["ru"]) as made:
        yield made


class Api:
    """One person at one node, talking to its operator API over HTTP.

    Logs in again whenever the token has expired (tests move the clock by weeks).
    """

    def __init__(
        self, node: Node, base: str, http: httpx.Client, name: str, roles: list[str]
    ) -> None:
        self.node = node
        self.base = base
        self.http = http
        self.name = name
        self.node.auth.add_user(name, PASSWORD, roles)
        self.token = "none-yet"

    def request(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        response = self._send(method, path, body)
        if response.status_code == 401:  # the clock moved past the token's life
            self.token, _ = self.node.auth.login(self.name, PASSWORD)
            response = self._send(method, path, body)
        if "json" not in response.headers.get("content-type", ""):
            return response
        return response.json() if response.is_success else response

    def _send(self, method: str, path: str, body: dict[str, Any] | None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token}"}
        return self.http.request(method, self.base + path, json=body, headers=headers)

    def get(self, path: str, **params: Any) -> Any:
        query = "&".join(f"{k}={v}" for k, v in params.items())
        return self.request("GET", path + (f"?{query}" if query else ""))

    def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        return self.request("POST", path, body or {})


def api(pair: Pair, party: str, name: str, roles: list[str]) -> Api:
    """A new person with ``roles`` at ``party``'s node of ``pair``."""
    return Api(pair.node(party), pair.servers[party].url, pair.http, name, roles)


def outbound_envelopes(node: Node) -> list[str]:
    """Every envelope the node put on the wire, as the canonical JSON it signed."""
    with node.db.read() as conn:
        rows = conn.execute(select(messages.c.envelope).where(messages.c.direction == "out"))
        return [str(r[0]) for r in rows]


def everything_stored(node: Node) -> str:
    """Every row of every table of the node, as one JSON text (to search for leaks)."""
    dump: dict[str, list[list[str]]] = {}
    with node.db.read() as conn:
        present = set(inspect(conn).get_table_names())
        for table in metadata.sorted_tables:
            if table.name not in present:  # another capability's table, not migrated yet
                continue
            rows = conn.execute(select(table))
            dump[table.name] = [[_text(v) for v in row] for row in rows]
    return json.dumps(dump, ensure_ascii=False)


def _text(value: Any) -> str:
    if isinstance(value, bytes | memoryview):
        return bytes(value).decode("utf-8", "replace")
    return str(value)
