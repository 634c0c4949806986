"""The calls pages: contact history, call requests and answers, held calls and readouts,
and the watch level.

Every action calls ``node.calls`` exactly as the operator API does; the services keep
the states, the deadlines, the roles and the two-person rule (a watch-level change or a
held public readout is approved by a commander who did not propose or write it). The
pages only read forms (``calls_views.py``) and show what the services answer.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import RedirectResponse

from hotline.domain.calls import OPEN_STATES
from hotline.errors import ValidationError
from hotline.responses import RowId
from hotline.web import forms
from hotline.web.auth import Session, node_of
from hotline.web.i18n import countdown
from hotline.web.pages import ENV, ConsoleRoute, now_of, render, require_session
from hotline.web.views import calls as calls_views

router = APIRouter(route_class=ConsoleRoute)
ENV.globals.update(calls_views.GLOBALS)  # the calls pages' label tables, for their macros
SessionDep = Annotated[Session, Depends(require_session)]
PRECEDENCES = ("ROUTINE", "PRIORITY", "IMMEDIATE", "FLASH")
Text = Annotated[str, Form(max_length=4000)]
LongText = Annotated[str, Form(max_length=20_000)]


def _to(url: str) -> Response:
    return RedirectResponse(url, status_code=303)


def _form_defaults(request: Request) -> dict[str, Any]:
    """Times to start the forms with: slots in three days, the answer due in two."""
    now = now_of(request)
    slot = (now + timedelta(days=3)).replace(hour=14, minute=0, second=0, microsecond=0)
    return {
        "default_slot": slot.strftime("%Y-%m-%d %H:%M"),
        "default_answer_by": (now + timedelta(days=2)).strftime("%Y-%m-%d %H:%M"),
        "default_held_at": now.strftime("%Y-%m-%d %H:%M"),
        "slot_rows": calls_views.SLOT_ROWS,
        "participant_rows": calls_views.PARTICIPANT_ROWS,
        "interpreter_rows": calls_views.INTERPRETER_ROWS,
    }


def _with_countdown(request: Request, row: dict[str, Any]) -> dict[str, Any]:
    """The request with its answer deadline counting down, while an answer is awaited."""
    if row["state"] not in OPEN_STATES:
        return {**row, "countdown": "", "seconds_left": 0}
    text, left = countdown(row["answer_by"], now_of(request))
    return {**row, "countdown": text, "seconds_left": left}


# -- the calls page -------------------------------------------------------------------------


@router.get("/calls")
def calls_page(request: Request, session: SessionDep) -> Response:
    node = node_of(request)
    requests = node.calls.requests.listing()
    open_requests = [
        _with_countdown(request, r) for r in requests if r["state"] in (*OPEN_STATES, "accepted")
    ]
    return render(
        request,
        "calls.html",
        session,
        histories=calls_views.histories(node, requests),
        open_requests=open_requests,
        recent=[r for r in requests if r["state"] not in (*OPEN_STATES, "accepted")][:20],
        held=list(reversed(node.calls.records.calls()))[:20],
        principals=node.calls.principals(),
        peers=node.peer_list(),
        precedences=PRECEDENCES,
        client_ref=str(uuid.uuid4()),
        **_form_defaults(request),
    )


@router.post("/calls/requests")
async def request_call(request: Request, session: SessionDep) -> Response:
    form = await request.form()
    peer, counterpart = calls_views.their_principal(forms.text(form, "counterpart"))
    answer_by = forms.utc(form, "answer_by", "answer by")
    if answer_by is None:
        raise ValidationError("answer by: give a deadline for the answer", field="answer_by")
    fields: dict[str, Any] = {
        "principal": forms.text(form, "principal"),
        "counterpart": counterpart,
        "topics": calls_views.topics(forms.text(form, "topics")),
        "slots": calls_views.slots(form),
        "answer_by": answer_by,
        "message": forms.text(form, "message") or None,
        "internal_note": forms.text(form, "internal_note") or None,
    }
    node = node_of(request)
    precedence = forms.text(form, "precedence") or "ROUTINE"
    client_ref = forms.text(form, "client_ref") or None
    if node.held.required(precedence):  # two-person rule: to the watch, where it is listed
        held = node.held.hold(
            "call",
            to=peer,
            payload=fields,
            precedence=precedence,
            lang=None,
            user=session.user.name,
            client_ref=client_ref,
        )
        return _to(f"/console#held-{held['id']}")
    made = node.calls.requests.request(
        to=peer, precedence=precedence, client_ref=client_ref, user=session.user, **fields
    )
    return _to(f"/console/calls/requests/{made['id']}")


# -- one request ----------------------------------------------------------------------------


@router.get("/calls/requests/{request_id}")
def request_page(request: Request, request_id: str, session: SessionDep) -> Response:
    node = node_of(request)
    shown = _with_countdown(request, node.calls.show_request(request_id))
    me = node.identity.party
    return render(
        request,
        "calls_request.html",
        session,
        r=shown,
        ours=shown["requester"]["party"] == me,
        can_answer=shown["state"] in OPEN_STATES and shown["awaiting"] == me,
        can_withdraw=shown["requester"]["party"] == me
        and shown["state"] in (*OPEN_STATES, "accepted"),
        can_record=shown["state"] == "accepted",
        parties=[me, shown["peer"]],
        **_form_defaults(request),
    )


@router.post("/calls/requests/{request_id}/answer")
async def answer(request: Request, request_id: str, session: SessionDep) -> Response:
    form = await request.form()
    kind = forms.text(form, "answer")
    arguments: dict[str, Any] = {"reason": forms.text(form, "reason") or None}
    if kind == "accept":
        arguments["slot"] = calls_views.accepted_slot(forms.text(form, "slot"))
    elif kind == "propose":
        arguments["slots"] = calls_views.slots(form)
        arguments["answer_by"] = forms.utc(form, "answer_by", "answer by")
    node = node_of(request)
    peer = node.calls.requests.answer_needs_approval(request_id)
    if peer is not None:  # an answer to a FLASH request: two-person rule, to the watch
        held = node.held.hold(
            "answer",
            to=peer,
            payload={"request_id": request_id, "answer": kind, **arguments},
            precedence="FLASH",
            lang=None,
            user=session.user.name,
        )
        return _to(f"/console#held-{held['id']}")
    node.calls.requests.answer(request_id, answer=kind, user=session.user, **arguments)
    return _to(f"/console/calls/requests/{request_id}")


@router.post("/calls/requests/{request_id}/withdraw")
def withdraw(request: Request, request_id: str, session: SessionDep, reason: Text = "") -> Response:
    node_of(request).calls.requests.withdraw(request_id, reason=reason or None, user=session.user)
    return _to(f"/console/calls/requests/{request_id}")


@router.post("/calls/requests/{request_id}/record")
async def record(request: Request, request_id: str, session: SessionDep) -> Response:
    form = await request.form()
    held_at = forms.utc(form, "held_at", "held at")
    if held_at is None:
        raise ValidationError("held at: give the time the call began", field="held_at")
    node_of(request).calls.records.record(
        request_id,
        held_at=held_at,
        minutes=forms.integer(form, "minutes", "minutes") or 0,
        participants=calls_views.people(form, "part"),
        interpreters=calls_views.people(form, "interp"),
        private=forms.text(form, "private") == "on",
        internal_note=forms.text(form, "internal_note") or None,
        user=session.user,
    )
    return _to(f"/console/calls/{request_id}")


# -- one held call and its readouts ---------------------------------------------------------


@router.get("/calls/{call_id}")
def call_page(request: Request, call_id: str, session: SessionDep) -> Response:
    node = node_of(request)
    me = node.identity.party
    everything = node.calls.records.readouts(call_id, "internal")
    shared = node.calls.records.readouts(call_id, "shared")
    call = everything["call"]
    peer = next(party for party in shared["sides"] if party != me)
    return render(
        request,
        "call.html",
        session,
        call=call,
        peer=peer,
        ours=everything["sides"].get(me, []),
        sides=[(me, shared["sides"].get(me, [])), (peer, shared["sides"].get(peer, []))],
        we_asked_private=me in call["private_requested_by"],
    )


@router.post("/calls/{call_id}/privacy")
def privacy(
    request: Request, call_id: str, session: SessionDep, details_private: Text = ""
) -> Response:
    wanted = details_private == "yes"
    node_of(request).calls.records.set_private(call_id, wanted, user=session.user)
    return _to(f"/console/calls/{call_id}")


@router.post("/calls/{call_id}/readouts")
def write_readout(
    request: Request,
    call_id: str,
    session: SessionDep,
    title: Annotated[str, Form(max_length=300)],
    text: LongText,
    visibility: Annotated[str, Form()] = "internal",
    lang: Annotated[str, Form()] = "",
    issued_by: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    node_of(request).calls.records.write_readout(
        call_id,
        title=title,
        text=text,
        visibility=visibility,
        lang=lang or None,
        issued_by=issued_by or None,
        user=session.user,
    )
    return _to(f"/console/calls/{call_id}")


@router.post("/readouts/{readout_id}/publish")
def publish_readout(
    request: Request,
    readout_id: str,
    session: SessionDep,
    call_id: Annotated[str, Form(max_length=100)],
    visibility: Annotated[str, Form()],
) -> Response:
    node_of(request).calls.records.publish(readout_id, visibility, user=session.user)
    return _to(f"/console/calls/{call_id}")


@router.post("/readouts/{readout_id}/approve")
def approve_readout(
    request: Request,
    readout_id: str,
    session: SessionDep,
    call_id: Annotated[str, Form(max_length=100)],
) -> Response:
    node_of(request).calls.records.approve(readout_id, user=session.user)
    return _to(f"/console/calls/{call_id}")


@router.post("/readouts/{readout_id}/reject")
def reject_readout(
    request: Request,
    readout_id: str,
    session: SessionDep,
    call_id: Annotated[str, Form(max_length=100)],
    reason: Text,
) -> Response:
    node_of(request).calls.records.reject(readout_id, reason=reason, user=session.user)
    return _to(f"/console/calls/{call_id}")


# -- the watch level ------------------------------------------------------------------------


@router.get("/watch-level")
def watch_level_page(request: Request, session: SessionDep) -> Response:
    node = node_of(request)
    status = node.calls.watch.status()
    return render(
        request,
        "watchlevel.html",
        session,
        status=status,
        history=calls_views.watch_history(node.calls.watch.history()),
        peers=node.peer_list(),
    )


@router.post("/watch-level/changes")
def propose_change(
    request: Request,
    session: SessionDep,
    level: Annotated[str, Form(max_length=40)],
    reason: Text,
    notify: Annotated[str, Form(max_length=40)] = "",
    message: Text = "",
) -> Response:
    node_of(request).calls.watch.propose(
        level, reason=reason, notify=notify or None, message=message or None, user=session.user
    )
    return _to("/console/watch-level")


@router.post("/watch-level/changes/{change_id}/{decision}")
def decide_change(
    request: Request, change_id: RowId, decision: str, session: SessionDep, note: Text = ""
) -> Response:
    watch = node_of(request).calls.watch
    if decision == "approve":
        watch.approve(change_id, note=note or None, user=session.user)
    elif decision == "reject":
        watch.reject(change_id, note=note or None, user=session.user)
    else:
        raise ValidationError(f"unknown decision {decision!r}", hint="approve or reject")
    return _to("/console/watch-level")
