"""Compose: free text, a coded message from the phrasebook, or a formatted notice.

Every send carries a ``client_ref`` made when the form was drawn, so a double click or
a resent form queues the message once (``Line.send`` is idempotent on it). A notice is
checked (``Notices.prepare``: validation with field-named errors, the agreement rules,
both renderings) and its volumes are checked against the other side's known volumes
before it is sent; the same check runs again on sending.
"""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, Response, UploadFile
from fastapi.responses import RedirectResponse

from hotline.clock import rfc3339
from hotline.domain.notices.models import LINKS, NOTICE_TYPES
from hotline.errors import HotlineError, ValidationError
from hotline.node import Node
from hotline.render.layout import DATUMS, UNIT_KINDS
from hotline.render.notices import ACTIVITIES, ANSWERS, CATEGORIES
from hotline.storage.messages import IN, OUT
from hotline.web import forms, mapdata
from hotline.web.auth import Session, node_of
from hotline.web.pages import ConsoleRoute, is_htmx, now_of, render, require_session
from hotline.web.views import answers

router = APIRouter(route_class=ConsoleRoute)
SessionDep = Annotated[Session, Depends(require_session)]
PRECEDENCES = ("ROUTINE", "PRIORITY", "IMMEDIATE", "FLASH")
TABS = ("text", "code", "notice")


def json_templates(now_text: str) -> dict[str, str]:
    """Starting points for the notice types edited as JSON."""
    day = now_text[:10]
    exercise: dict[str, Any] = {
        "type": "exercise_notification",
        "name": "",
        "start": f"{day}T06:00:00Z",
        "end": f"{day}T18:00:00Z",
        "area": {"geometry": {"type": "Point", "coordinates": ["0.0", "0.0"]}, "radius_m": 10000},
        "troops": 0,
        "observers_invited": False,
    }
    invitation: dict[str, Any] = {
        "type": "observer_invitation",
        "exercise_ref": "",
        "observers": 2,
        "arrival_point": {"name": "", "position": ["0.0", "0.0"]},
        "arrival_time": f"{day}T10:00:00Z",
        "programme": [{"time": f"{day}T12:00:00Z", "activity": ""}],
    }
    answer: dict[str, Any] = {
        "type": "observer_answer",
        "invitation_ref": "",
        "answer": "accept",
        "observers": [""],
        "arrival_point": {"name": "", "position": ["0.0", "0.0"]},
        "arrival_time": f"{day}T10:00:00Z",
    }
    return {
        t["type"]: json.dumps(t, ensure_ascii=False, indent=2)
        for t in (exercise, invitation, answer)
    }


def _notice_refs(node: Node, lang: str) -> dict[str, list[dict[str, str]]]:
    """For each notice type that refers to an earlier message, the recent messages it may
    name (``LINKS``: an answer answers a request the peer sent, and so on)."""
    rows = [(d, row) for d in (IN, OUT) for row in node.line.listing(d, limit=100)]
    sides = {"either": (IN, OUT), "sender": (OUT,), "receiver": (IN,)}
    out: dict[str, list[dict[str, str]]] = {}
    for kind, link in LINKS.items():
        out[kind] = answers.unique_labels(
            [
                {"id": row["id"], "label": answers.ref_label(row, lang), "direction": direction}
                for direction, row in rows
                if direction in sides[link.sent_by] and row["type"] in link.types
            ]
        )
    return out


def compose_context(
    request: Request, session: Session, tab: str, type_: str, ref: str = "", reply_to: str = ""
) -> dict[str, Any]:
    """The form; ``ref`` / ``reply_to``: the received message it answers (pre-filled)."""
    node, now = node_of(request), now_of(request)
    start = (now + timedelta(days=4)).replace(minute=0, second=0, microsecond=0)
    return {
        "tab": tab if tab in TABS else "text",
        "notice_type": type_
        if type_ in NOTICE_TYPES and type_ != "coded_message"
        else "activity_notice",
        "peers": node.peer_list(),
        "precedences": PRECEDENCES,
        "phrasebook": node.identity.phrasebook,
        "form_types": forms.FORM_TYPES,
        "json_types": forms.JSON_TYPES,
        "json_templates": json_templates(rfc3339(now)),
        "activities": ACTIVITIES,
        "categories": CATEGORIES,
        "answers": ANSWERS,
        "unit_kinds": UNIT_KINDS,
        "datums": DATUMS,
        "refs": _notice_refs(node, session.lang),
        "default_start": start.strftime("%Y-%m-%d %H:%M"),
        "default_end": (start + timedelta(hours=6)).strftime("%Y-%m-%d %H:%M"),
        "client_ref": str(uuid.uuid4()),
        "prefill": answers.prefill(node, session.lang, ref=ref[:128], reply_to=reply_to[:128]),
    }


@router.get("/compose")
def compose(
    request: Request,
    session: SessionDep,
    tab: str = "text",
    type: str = "activity_notice",
    ref: str = "",
    reply_to: str = "",
) -> Response:
    context = compose_context(request, session, tab, type, ref, reply_to)
    return render(request, "compose.html", session, **context)


def _sent(request: Request, message_id: str) -> Response:
    url = f"/console/messages/{message_id}"
    if is_htmx(request):
        return Response(status_code=204, headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)


def _held(request: Request, held: dict[str, Any]) -> Response:
    """A FLASH message held for a second approval: to the watch, where it is listed."""
    url = f"/console#held-{held['id']}"
    if is_htmx(request):
        return Response(status_code=204, headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)


def _hold_if_flash(
    request: Request,
    session: Session,
    kind: str,
    *,
    to: str,
    payload: dict[str, Any],
    precedence: str,
    lang: str | None,
    client_ref: str | None,
) -> Response | None:
    """Hold a FLASH message for a second person's approval (two-person rule), if on."""
    node = node_of(request)
    if not node.held.required(precedence):
        return None
    held = node.held.hold(
        kind,
        to=to,
        payload=payload,
        precedence=precedence,
        lang=lang,
        user=session.user.name,
        client_ref=client_ref,
    )
    return _held(request, held)


@router.post("/compose/text")
def send_text(
    request: Request,
    session: SessionDep,
    to: Annotated[str, Form()],
    text: Annotated[str, Form(max_length=20_000)],
    precedence: Annotated[str, Form()] = "ROUTINE",
    lang: Annotated[str, Form()] = "",
    client_ref: Annotated[str, Form(max_length=100)] = "",
    files: Annotated[list[UploadFile] | None, File()] = None,
) -> Response:
    refs = _uploaded(node_of(request), files or [])
    held = _hold_if_flash(
        request,
        session,
        "text",
        to=to,
        payload={"text": text} | ({"attachments": refs} if refs else {}),
        precedence=precedence,
        lang=lang or None,
        client_ref=client_ref or None,
    )
    if held is not None:
        return held
    sent = node_of(request).line.send(
        to=to,
        text=text,
        precedence=precedence,
        lang=lang or None,
        user=session.user.name,
        client_ref=client_ref or None,
        attachments=refs,
    )
    return _sent(request, sent["id"])


def _uploaded(node: Node, files: list[UploadFile]) -> list[dict[str, Any]]:
    """The files chosen in the form, stored (checked by content, once), as references to
    sign; a form sent without a file gives one empty part, which is skipped."""
    chosen = []
    for upload in files:
        data = upload.file.read(node.settings.max_attachment_bytes + 1)
        if not upload.filename and not data:
            continue
        stored = node.attachments.upload(
            data, name=upload.filename or "file", declared=upload.content_type
        )
        chosen.append({"sha256": stored["sha256"], "name": stored["name"]})
    return node.attachments.refs(chosen) if chosen else []


@router.get("/compose/code-preview")
def code_preview(request: Request, session: SessionDep, code: int = 0) -> Response:
    book = node_of(request).identity.phrasebook
    entry = next((e for e in book.entries if e.code == code), None)
    return render(request, "_code_preview.html", session, entry=entry, book=book)


@router.post("/compose/code")
def send_code(
    request: Request,
    session: SessionDep,
    to: Annotated[str, Form()],
    code: Annotated[int, Form()],
    precedence: Annotated[str, Form()] = "ROUTINE",
    client_ref: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    held = _hold_if_flash(
        request,
        session,
        "code",
        to=to,
        payload={"code": code},
        precedence=precedence,
        lang=None,
        client_ref=client_ref or None,
    )
    if held is not None:
        return held
    sent = node_of(request).notices.send_code(
        to, code, precedence=precedence, user=session.user.name, client_ref=client_ref or None
    )
    return _sent(request, sent["message"]["id"])


async def _notice(request: Request) -> tuple[str, dict[str, Any]]:
    form = await request.form()
    to = forms.text(form, "to")
    if not to:
        raise ValidationError("to: choose the party to send to", field="to")
    return to, forms.notice_from_form(form)


@router.post("/compose/check")
async def check_notice(request: Request, session: SessionDep) -> Response:
    """Findings, renderings and conflicts of the notice as the form now stands."""
    node = node_of(request)
    to, body = await _notice(request)
    prepared = node.notices.prepare(to, body)
    offered = getattr(prepared, "conflicts", None)  # None: this node offers no conflict check
    conflicts = None if offered is None else mapdata.describe_preview(node, offered)
    return render(
        request,
        "_check.html",
        session,
        prepared=prepared,
        conflicts=conflicts,
        draft_features=json.dumps(_draft_features(node, prepared.body)),
    )


def _draft_features(node: Node, body: dict[str, Any]) -> dict[str, Any]:
    """The draft's volumes for the compose map, drawn the way the map page draws them."""
    row = {"id": mapdata.DRAFT, "type": body["type"], "body": body, "precedence": "", "created": ""}
    try:
        features = mapdata.features_of(row, node.identity.party, True)
    except HotlineError:
        features = []
    return mapdata.for_display(features)


@router.post("/compose/notice")
async def send_notice(request: Request, session: SessionDep) -> Response:
    form = await request.form()
    to, body = await _notice(request)
    precedence = forms.text(form, "precedence") or "ROUTINE"
    accept = forms.text(form, "accept_conflict") or None
    held = _hold_if_flash(
        request,
        session,
        "notice",
        to=to,
        payload=_notice_payload(body, accept),
        precedence=precedence,
        lang=forms.text(form, "lang") or None,
        client_ref=forms.text(form, "client_ref") or None,
    )
    if held is not None:
        return held
    sent = node_of(request).notices.send(
        to,
        body,
        precedence=precedence,
        lang=forms.text(form, "lang") or None,
        user=session.user.name,
        client_ref=forms.text(form, "client_ref") or None,
        accept_conflict=accept,
    )
    return _sent(request, sent["message"]["id"])


def _notice_payload(body: dict[str, Any], accept: str | None) -> dict[str, Any]:
    """A held notice keeps the reason given for sending it in conflict, if any."""
    return {"notice": body} | ({"accept_conflict": accept} if accept else {})
