"""The two-person rule without holes: a client reference is the user's own (the same one
from two users is two messages), no reference a user sends can pass for the node's own
``held:<id>`` (the decoy that made a held FLASH silently never leave), and a held FLASH is
not sent in the name of an author since disabled."""

from __future__ import annotations

from typing import Any

from hotline.storage import held as held_store
from hotline.storage.messages import OUT
from tests.conftest import Pair
from tests.services.test_held import flash, officers


def routine(text: str, client_ref: str) -> dict[str, Any]:
    return {"to": "ru", "text": text, "precedence": "ROUTINE", "client_ref": client_ref}


def test_a_decoy_client_ref_cannot_stand_in_for_a_held_flash(pair: Pair) -> None:
    with officers(pair) as (alpha, bravo):
        held = alpha.post("/api/v1/messages", json=flash()).json()
        # bravo sends a ROUTINE message with the reference the approval will use …
        decoy = bravo.post("/api/v1/messages", json=routine("nothing", f"held:{held['id']}"))
        assert 201 == decoy.status_code, decoy.text
        # … and alpha too (the author): neither stands in for the FLASH
        own = alpha.post("/api/v1/messages", json=routine("nothing", f"held:{held['id']}"))
        assert 201 == own.status_code and own.json()["id"] != decoy.json()["id"]

        approved = bravo.post(f"/api/v1/held/{held['id']}/approve").json()

    assert "sent" == approved["state"]
    assert approved["message_id"] not in (decoy.json()["id"], own.json()["id"])
    flashes = [m for m in pair.us.line.listing(OUT) if m["precedence"] == "FLASH"]
    assert [approved["message_id"]] == [m["id"] for m in flashes]
    pair.flush()
    received = {m["body"]["text"]: m["precedence"] for m in pair.ru.line.listing("in")}
    assert "FLASH" == received["Missile launch detected; is it yours?"]


def test_the_same_client_ref_from_two_users_is_two_messages(pair: Pair) -> None:
    with officers(pair) as (alpha, bravo):
        mine = alpha.post("/api/v1/messages", json=routine("from alpha", "ref-1")).json()
        theirs = bravo.post("/api/v1/messages", json=routine("from bravo", "ref-1")).json()
        again = alpha.post("/api/v1/messages", json=routine("from alpha", "ref-1")).json()
        held_a = alpha.post("/api/v1/messages", json={**flash("a"), "client_ref": "f-1"}).json()
        held_b = bravo.post("/api/v1/messages", json={**flash("b"), "client_ref": "f-1"}).json()

    assert mine["id"] != theirs["id"]
    assert mine["id"] == again["id"]  # reuse by the same user is idempotent
    assert ["from alpha", "from bravo"] == sorted(
        m["body"]["text"] for m in pair.us.line.listing(OUT)
    )
    assert held_a["id"] != held_b["id"]
    assert ("alpha", "bravo") == (held_a["requested_by"], held_b["requested_by"])
    assert "f-1" == held_b["client_ref"]


def test_approval_is_refused_when_the_author_was_disabled(pair: Pair) -> None:
    with officers(pair) as (alpha, bravo):
        held = alpha.post("/api/v1/messages", json=flash()).json()
        pair.us.auth.set_disabled("alpha", True)
        refused = bravo.post(f"/api/v1/held/{held['id']}/approve")

    assert (409, "conflict") == (refused.status_code, refused.json()["error"]["code"])
    assert "alpha" in refused.json()["error"]["message"]
    assert "disabled" in refused.json()["error"]["message"]
    assert "held" == pair.us.held.get(held["id"])["state"]  # to be rejected
    assert [] == pair.us.line.listing(OUT)  # nothing signed or queued
    pair.flush()
    assert [] == pair.ru.line.listing("in")


def test_an_interrupted_approval_is_taken_back_when_the_author_was_disabled(pair: Pair) -> None:
    with officers(pair) as (alpha, bravo):
        held = alpha.post("/api/v1/messages", json=flash()).json()
        with pair.us.db.write() as conn:  # approved, then the node stopped before sending
            held_store.approve(conn, held["id"], "bravo", "2026-01-01T00:00:00.000Z")
        pair.us.auth.set_disabled("alpha", True)
        refused = bravo.post(f"/api/v1/held/{held['id']}/approve")
        rejected = bravo.post(f"/api/v1/held/{held['id']}/reject", json={"reason": "author left"})

    assert (409, "conflict") == (refused.status_code, refused.json()["error"]["code"])
    assert ("rejected", "author left") == (rejected.json()["state"], rejected.json()["reason"])
    assert [] == pair.us.line.listing(OUT)


def test_approval_is_refused_when_the_author_no_longer_has_a_role_that_may_send(
    pair: Pair,
) -> None:
    """Moved off watch (say, to auditor) between holding and approval: not sent in their
    name. No command changes roles today; an administrator's edit of the database does."""
    from sqlalchemy import update

    from hotline.storage.tables.core import users

    with officers(pair) as (alpha, bravo):
        held = alpha.post("/api/v1/messages", json=flash()).json()
        with pair.us.db.write() as conn:
            conn.execute(update(users).where(users.c.name == "alpha").values(roles="auditor"))
        refused = bravo.post(f"/api/v1/held/{held['id']}/approve")

    assert (409, "conflict") == (refused.status_code, refused.json()["error"]["code"])
    assert "no longer has a role that may send" in refused.json()["error"]["message"]
    assert "held" == pair.us.held.get(held["id"])["state"]
    assert [] == pair.us.line.listing(OUT)
