"""What the calls and watch-level pages show, arranged from the calls services' answers.

Nothing here decides anything: the services (``services/calls*.py``) enforce the states,
the deadlines, the roles and the two-person rule. This module only

* reads the console's forms into the arguments the services take (slots, people, topics);
* asks for the contact history of every pair of principals that has exchanged a request;
* merges our watch-level changes and the levels peers notified into one history;
* finds the watch level to show in every page's header (:func:`watch_chip`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hotline.errors import ValidationError
from hotline.node import Node
from hotline.render.i18n import N_
from hotline.web import forms

Form = Mapping[str, Any]

#: Rows of slots and people the forms offer (empty rows are ignored).
SLOT_ROWS = 3
PARTICIPANT_ROWS = 4
INTERPRETER_ROWS = 2

CALL_STATE_LABELS = {
    "requested": N_("requested, awaiting an answer"),
    "proposed": N_("other times proposed"),
    "accepted": N_("accepted"),
    "declined": N_("declined"),
    "unanswered": N_("unanswered"),
    "withdrawn": N_("withdrawn"),
    "held": N_("held"),
}

#: Steps of a request's timeline (``call_events.kind``).
TIMELINE_LABELS = {
    "requested": N_("call requested"),
    "accepted": N_("accepted"),
    "declined": N_("declined"),
    "proposed": N_("other times proposed"),
    "withdrawn": N_("withdrawn"),
    "unanswered": N_("no answer by the deadline"),
    "held": N_("call held"),
}

VISIBILITY_LABELS = {
    "internal": N_("internal"),
    "shared": N_("shared"),
    "public": N_("public"),
}

READOUT_STATUS_LABELS = {
    "kept": N_("kept on this node"),
    "awaiting_approval": N_("awaiting a second approval"),
    "sent": N_("sent"),
    "received": N_("received"),
}

CHANGE_STATE_LABELS = {
    "pending": N_("awaiting approval"),
    "approved": N_("approved, in effect"),
    "rejected": N_("rejected"),
}

#: What the calls templates (and their macros, imported without context) look up.
GLOBALS = {
    "CALL_STATE_LABELS": CALL_STATE_LABELS,
    "TIMELINE_LABELS": TIMELINE_LABELS,
    "VISIBILITY_LABELS": VISIBILITY_LABELS,
    "READOUT_STATUS_LABELS": READOUT_STATUS_LABELS,
    "CHANGE_STATE_LABELS": CHANGE_STATE_LABELS,
}


# -- forms → service arguments --------------------------------------------------------------


def slots(form: Form, prefix: str = "slot") -> list[dict[str, Any]]:
    """The filled rows ``slot-N-start`` / ``slot-N-minutes`` as ``[{start, minutes}]``."""
    out = []
    for n in forms.indices(form, prefix):
        where = f"{prefix}-{n}"
        start = forms.utc(form, f"{where}-start", f"slot {n + 1}: start")
        if start is None:
            continue
        minutes = forms.integer(form, f"{where}-minutes", f"slot {n + 1}: minutes") or 30
        out.append({"start": start, "minutes": minutes})
    return out


def people(form: Form, prefix: str) -> list[dict[str, Any]]:
    """The filled rows ``prefix-N-party`` / ``-name`` / ``-role`` as ``[{party, name, role}]``."""
    out = []
    for n in forms.indices(form, prefix):
        name = forms.text(form, f"{prefix}-{n}-name")
        if not name:
            continue
        person = {"party": forms.text(form, f"{prefix}-{n}-party"), "name": name}
        role = forms.text(form, f"{prefix}-{n}-role")
        if role:
            person["role"] = role
        out.append(person)
    return out


def topics(text: str) -> list[str]:
    """One topic a line, blank lines dropped."""
    return [line.strip() for line in text.splitlines() if line.strip()]


def accepted_slot(value: str) -> dict[str, Any]:
    """``2026-12-03T14:00:00.000Z/60`` (a radio button's value) as ``{start, minutes}``."""
    start, _, minutes = value.partition("/")
    if not start or not minutes.isdigit():
        raise ValidationError("choose one of the proposed times", field="slot")
    return {"start": start, "minutes": int(minutes)}


def their_principal(value: str) -> tuple[str, str]:
    """``ru:minister`` (the counterpart select's value) as ``("ru", "minister")``."""
    party, _, principal = value.partition(":")
    if not party or not principal:
        raise ValidationError("choose the other side's principal", field="counterpart")
    return party, principal


# -- contact history ------------------------------------------------------------------------


def histories(node: Node, requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The contact history of every pair of principals in ``requests``, longest silence
    first (``Calls.pair_histories``, which the API's overview shares)."""
    return node.calls.pair_histories(requests)


# -- watch levels ---------------------------------------------------------------------------


def watch_history(history: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Our changes and the peers' notified levels in one list, newest first."""
    rows = []
    for change in history["changes"]:
        rows.append(
            {
                "at": change["decided_at"] or change["proposed_at"],
                "party": history["party"],
                "from": change["from"],
                "to": change["to"],
                "state": change["state"],
                "change": change,
                "peer_level": None,
            }
        )
    for level in history["peers"]:
        rows.append(
            {
                "at": level["effective_at"],
                "party": level["peer"],
                "from": level["previous"],
                "to": level["level"],
                "state": "notified",
                "change": None,
                "peer_level": level,
            }
        )
    rows.sort(key=lambda r: r["at"], reverse=True)
    return rows


def watch_chip(node: Node) -> dict[str, Any] | None:
    """Our level and the peers' levels above the first rung, for every page's header."""
    status = node.calls.watch.status()
    ours = status["current"]["level"]
    raised = [
        {"party": party, "level": level["level"], "rank": level["rank"]}
        for party, level in sorted(status["peers"].items())
        if level["rank"] > 0
    ]
    if ours["rank"] == 0 and not raised:
        return None
    return {"party": status["party"], "ours": ours if ours["rank"] > 0 else None, "peers": raised}
