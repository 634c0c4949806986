"""A changed key applies at once, on every process of the node (issue 13, item 4).

The officer replaces a peer's card with ``hotline peer add --replace``: a process of its
own, while ``hotline serve`` (another process, on TLS) runs and has already verified
envelopes with the old key; the envelopes come over mutual TLS with the peer's pinned
certificate, which the new card keeps. From the moment the command returns, an envelope
signed with the old key is refused and nothing of it is stored; one signed with the new
key is accepted. The sender's side too: receipts are checked against the key pinned when
they arrive.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

from hotline.protocol import keys
from hotline.services.line.delivery import Courier
from hotline.testing import HTTP_TIMEOUT_S, DatabaseFactory
from tests.conftest import Pair, on_production_backend
from tests.security._hostile import HostilePeer, cli_env, hotline, served_us


def test_the_running_node_refuses_the_old_key_once_peer_add_replace_returns(
    tmp_path: Path, databases: DatabaseFactory
) -> None:
    on_production_backend(databases)  # keys are the subject, not the database
    old = HostilePeer()
    with served_us(tmp_path, old, databases) as us:
        first = old.envelope("signed with the old key")
        status, answer = us.deliver(first)
        assert (200, 1) == (status, len(answer["receipts"])), answer  # the old key in use
        old.accepted(first)
        # a new signing key on a new card; the same TLS certificate, so that the requests
        # below reach the running node and it is the envelopes' keys that are judged
        new = HostilePeer(key=keys.generate(), head=old.head, seq=old.seq, tls=old.tls)
        card_file = tmp_path / "rotated-card.json"
        card_file.write_text(json.dumps(new.card()), encoding="utf-8")

        replaced = hotline(
            "peer", "add", str(card_file), "--dir", str(us.directory), "--yes", "--replace",
            env=cli_env(),
        )  # fmt: skip

        assert 0 == replaced.returncode, replaced.stderr
        assert b"key replaced" in replaced.stdout
        refusals: dict[str, Any] = {}
        for name, envelope in (
            ("old key", old.envelope("still the old key")),
            ("old key, new name", old.envelope("forged", claim=new.fingerprint)),
        ):
            status, answer = us.deliver(envelope)
            refusals[name] = (status, (answer["error"] or {}).get("code"), answer["receipts"])
        assert {
            "old key": (403, "unknown_key", []),
            "old key, new name": (403, "bad_signature", []),
        } == refusals
        assert [first["id"]] == [row["id"] for row in us.inbox()]  # nothing stored

        fresh = new.envelope("signed with the new key")
        status, answer = us.deliver(fresh)

        assert (200, 1, None) == (status, len(answer["receipts"]), answer["error"]), answer
        assert {first["id"], fresh["id"]} == {row["id"] for row in us.inbox()}


def test_receipts_are_checked_with_the_key_pinned_when_they_arrive(pair: Pair) -> None:
    """RU's card is replaced on US while a batch is on its way: the receipts that come
    back, signed with RU's old key, are not taken; the message stays to be sent again."""
    sent = pair.us.line.send(to="ru", text="Hello", precedence="ROUTINE", user="duty")
    rotated = HostilePeer(key=keys.generate()).card(
        endpoints=list(pair.ru.identity.endpoints),
        name_en=pair.ru.identity.name_en,
        name_ru=pair.ru.identity.name_ru,
    )

    def replace_the_card(response: httpx.Response) -> None:
        if response.request.url.path.endswith("/envelopes"):
            pair.us.add_peer(rotated)  # as `hotline peer add --replace` would, meanwhile

    with httpx.Client(
        timeout=HTTP_TIMEOUT_S, event_hooks={"response": [replace_the_card]}
    ) as client:
        outcome = Courier(pair.us.line, "ru", client).deliver_once()

    assert outcome is not None and 0 == outcome.delivered
    assert "bad receipt" in (outcome.error or "")
    assert "delivered" != pair.us.show(sent["id"])["state"]
