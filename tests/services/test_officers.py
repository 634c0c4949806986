"""The envelope names who: its sending officer and, for a held message, its approver, both
signed, both absent when there is none (so older envelopes keep their bytes)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from hotline.clock import FakeClock, rfc3339
from hotline.domain.line import Envelope
from hotline.protocol.envelope import parse, verify_signature
from hotline.services.auth import User
from hotline.services.evidence.bundle import export_bundle
from hotline.services.evidence.verify import verify_bundle
from tests.conftest import Pair

PASSWORD = "correct horse battery"


def people(pair: Pair) -> None:
    pair.us.auth.add_user("alpha", PASSWORD, ["officer"], display_name="Lt. Anna Alpha")
    pair.us.auth.add_user("bravo", PASSWORD, ["officer"])  # no display name
    pair.us.auth.add_user("cdr", PASSWORD, ["commander"], display_name="Col. Carl Cdr")


def received(pair: Pair, message_id: str) -> dict[str, Any]:
    """The envelope as the other side stored it, its signature checked with our key."""
    pair.flush()
    envelope: dict[str, Any] = pair.ru.line.show(message_id)["envelope"]
    verify_signature(parse(envelope, Envelope), pair.us.identity.key.public_key())
    return envelope


def test_a_message_names_its_sender_as_the_node_knows_them(pair: Pair) -> None:
    people(pair)
    by_alpha = pair.us.line.send(to="ru", text="Hello", user="alpha")
    by_bravo = pair.us.line.send(to="ru", text="Hello", user="bravo")
    assert {"user": "alpha", "name": "Lt. Anna Alpha"} == received(pair, by_alpha["id"])["sender"]
    bravo = received(pair, by_bravo["id"])
    assert ({"user": "bravo"}, False) == (bravo["sender"], "approver" in bravo)


def test_a_message_no_operator_sent_names_nobody(pair: Pair) -> None:
    """The fields are absent, not null: an envelope without them is signed as before."""
    sent = pair.us.line.send(to="ru", text="From the node itself", user="nobody-known")
    envelope = received(pair, sent["id"])
    assert not {"sender", "approver"} & set(envelope)
    assert envelope == parse(envelope, Envelope).wire()


def test_a_held_flash_names_the_officer_who_approved_it(pair: Pair) -> None:
    people(pair)
    held = pair.us.held.hold(
        "text", to="ru", payload={"text": "Launch detected"}, precedence="FLASH",
        lang="en", user="alpha",
    )  # fmt: skip
    approved = pair.us.held.approve(held["id"], "cdr")
    envelope = received(pair, approved["message_id"])
    assert (
        {"user": "alpha", "name": "Lt. Anna Alpha"},
        {"user": "cdr", "name": "Col. Carl Cdr", "basis": "two_person"},
    ) == (envelope["sender"], envelope["approver"])


def test_a_preauthorised_warning_names_the_authorising_commander(
    pair: Pair, clock: FakeClock
) -> None:
    people(pair)
    preauth = pair.us.safety.authorise(
        "cdr", to="ru", code=11, aircraft="R1", area="PA-1",
        valid_from=rfc3339(clock.now() - timedelta(minutes=1)),
        valid_until=rfc3339(clock.now() + timedelta(hours=1)),
    )  # fmt: skip
    warned = pair.us.safety.warn(preauth["id"], "bravo", client_ref="w-1")
    again = pair.us.safety.warn(preauth["id"], "bravo", client_ref="w-1")  # idempotent still
    assert warned["message"]["id"] == again["message"]["id"]
    envelope = received(pair, warned["message"]["id"])
    assert (
        {"user": "bravo"},
        {"user": "cdr", "name": "Col. Carl Cdr", "basis": "preauthorised"},
    ) == (envelope["sender"], envelope["approver"])


def test_a_watch_level_notification_names_its_proposer_and_approving_commander(
    pair: Pair,
) -> None:
    people(pair)
    pair.us.auth.add_user("deputy", PASSWORD, ["commander"])
    watch = pair.us.calls.watch
    change = watch.propose(
        "possible-crisis", reason="Buildup", notify="ru", user=User("cdr", ("commander",))
    )
    approved = watch.approve(change["id"], user=User("deputy", ("commander",)))
    envelope = received(pair, approved["message_id"])
    assert (
        {"user": "cdr", "name": "Col. Carl Cdr"},
        {"user": "deputy", "basis": "watch_level"},
    ) == (envelope["sender"], envelope["approver"])


def test_the_evidence_bundle_proves_who_sent_and_who_approved_a_flash(pair: Pair) -> None:
    people(pair)
    held = pair.us.held.hold(
        "text", to="ru", payload={"text": "Launch detected"}, precedence="FLASH",
        lang="en", user="alpha",
    )  # fmt: skip
    message_id = pair.us.held.approve(held["id"], "cdr")["message_id"]
    pair.flush()
    pair.ru.line.acknowledge(message_id, "ofitser")
    pair.flush()
    pair.us.evidence.exchange()
    raw = export_bundle(pair.us.evidence, message_id)

    verdict = verify_bundle(raw)
    assert ([], []) == (verdict.failed, verdict.missing)
    assert "SENT BY: us signed that its officer 'alpha' (Lt. Anna Alpha) sent it." in verdict.proven
    assert (
        "APPROVED BY: us signed that its officer 'cdr' (Col. Carl Cdr) approved it under the "
        "two-person rule for FLASH." in verdict.proven
    )
    assert not any("names no officer" in caveat for caveat in verdict.caveats)
    # the names are signed: changing one (and nothing else) breaks the envelope's signature
    forged = raw.replace(b"Lt. Anna Alpha", b"Lt. Anna Bravo")
    assert forged != raw and not verify_bundle(forged).ok


def test_a_watch_level_notification_reads_in_words_in_verify_and_on_the_other_side(
    pair: Pair,
) -> None:
    people(pair)
    pair.us.auth.add_user("deputy", PASSWORD, ["commander"])
    watch = pair.us.calls.watch
    change = watch.propose(
        "possible-crisis", reason="Buildup", notify="ru", user=User("cdr", ("commander",))
    )
    message_id = watch.approve(change["id"], user=User("deputy", ("commander",)))["message_id"]
    pair.flush()
    shown = pair.ru.show(message_id)["rendering"]  # the receiving side, as `hotline show`
    assert "NEW LEVEL: POSSIBLE CRISIS" in shown["en"]
    assert "НОВЫЙ УРОВЕНЬ: ВОЗМОЖНЫЙ КРИЗИС" in shown["ru"]
    pair.ru.line.acknowledge(message_id, "ofitser")
    pair.flush()
    pair.us.evidence.exchange()

    verdict = verify_bundle(export_bundle(pair.us.evidence, message_id))
    assert ([], []) == (verdict.failed, verdict.missing)
    said = "\n".join(verdict.proven)
    assert "NEW LEVEL: POSSIBLE CRISIS (level 2 of 3)" in said
    assert "ИЗМЕНЕНИЕ УРОВНЯ ГОТОВНОСТИ" in said and '{"' not in said
    assert "'deputy' approved the watch-level change it notifies" in said
