"""The courier's batch body, joined from stored envelopes, is byte for byte RFC 8785.

``batch_body`` writes ``{"envelopes":[e1,e2,…]}`` from each envelope's stored canonical
text, without decoding them; this holds only because RFC 8785 encodes an array as its
elements' canonical forms joined by commas. Proved here against the ``rfc8785`` package
for real envelopes, signed and stored by a node, whose texts hold what the wire can
carry: every escape, non-ASCII, astral characters, both languages.
"""

from __future__ import annotations

import json

import rfc8785
from sqlalchemy import select

from hotline.services.line.delivery import batch_body
from hotline.storage.tables.core import messages
from tests.conftest import Pair

TEXTS = [
    "plain",
    "Проверка линии: приём",
    'quote " backslash \\ slash / tab \t newline \n return \r',
    "controls \u0001\u001f\u007f and \u2028\u2029",
    "astral 𝄞 🚀 and a lone combining é",
    "<script>&amp;</script>",
    "x" * 2000,
]


def test_joined_stored_envelopes_are_the_canonical_batch(pair: Pair) -> None:
    for i, text in enumerate(TEXTS):
        pair.us.line.send(to="ru", text=text, precedence="FLASH" if i % 2 else "ROUTINE", user="o")
    pair.flush()
    acked = pair.ru.line.listing("in")[0]["id"]
    pair.ru.line.acknowledge(acked, "ofitser")  # an ack: a body of another shape
    with pair.ru.db.read() as conn:
        stored = [r[0] for r in conn.execute(select(messages.c.envelope).order_by(messages.c.id))]
    with pair.us.db.read() as conn:
        stored += [r[0] for r in conn.execute(select(messages.c.envelope).order_by(messages.c.id))]
    assert len(stored) == 2 * len(TEXTS) + 1
    for count in (1, 2, 3, len(stored)):
        chosen = stored[:count]
        expected = rfc8785.dumps({"envelopes": [json.loads(text) for text in chosen]})
        assert expected == batch_body(chosen)
        assert expected == batch_body(iter(chosen))  # any iterable, as the courier passes
