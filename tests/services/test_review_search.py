"""Hostile review of message search (services/search.py, storage/search.py).

The SQL pre-filter matches the text against the stored envelope, which is canonical JSON:
a quotation mark, a backslash or a line break in a body is escaped there (``\\"``,
``\\\\``, ``\\n``), so a search for text that holds one finds nothing, though the body
holds exactly what was typed."""

from __future__ import annotations

from hotline.clock import FakeClock
from hotline.services.search import MessageFilter
from tests.conftest import Pair


def test_text_with_a_quotation_mark_or_backslash_is_found(pair: Pair, clock: FakeClock) -> None:
    quoted = pair.ru.line.send(to="us", text='Vessel "Admiral K" turning', user="d")
    path = pair.ru.line.send(to="us", text=r"See file C:\ops\plan", user="d")
    pair.flush()

    def find(q: str) -> set[object]:
        found = pair.us.search.search(MessageFilter.parse({"q": q}), clock.now())
        return {m["id"] for m in found}

    assert {quoted["id"]} == find("admiral k")  # control: plain words are found
    assert {quoted["id"]} == find('"admiral k"')
    assert {path["id"]} == find(r"c:\ops")
