"""One message: the original, both renderings, findings, translations and the trail.

Translations are recorded by one person and certified by another (the service refuses a
translator certifying their own); a machine draft, when an offline engine is installed,
is stored marked "not certified", and otherwise the page says none is available.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import RedirectResponse

from hotline.domain.attachments import IMAGES
from hotline.domain.bodies import is_notice
from hotline.errors import Conflict, NotFound, ValidationError
from hotline.node import Node
from hotline.responses import RowId, file_response
from hotline.web import queries
from hotline.web.auth import Session, node_of
from hotline.web.i18n import countdown
from hotline.web.pages import ConsoleRoute, now_of, render, require_session
from hotline.web.views import answers
from hotline.web.views import messages as views

router = APIRouter(route_class=ConsoleRoute)
SessionDep = Annotated[Session, Depends(require_session)]


def _escalation_context(node: Node, shown: dict[str, Any]) -> dict[str, Any]:
    """For an escalation: the original it re-addresses, when this node holds it."""
    if shown["type"] != "escalation":
        return {}
    original_id = shown["body"]["of_message"]
    try:
        original: dict[str, Any] | None = node.line.show(original_id)
    except NotFound:  # not held here: the page says so rather than failing
        original = None
    return {"original": original}


def message_context(request: Request, session: Session, message_id: str) -> dict[str, Any]:
    node, now = node_of(request), now_of(request)
    shown = node.show(message_id)
    pending = views.needs_action(shown) or views.awaits_peer(shown)
    left_text, left_s = countdown(shown["deadline"], now) if pending else ("", 0)
    return {
        "m": shown,
        "subject": views.subject(node, shown, session.lang),
        "needs_action": views.needs_action(shown),
        "countdown": left_text,
        "seconds_left": left_s,
        "notice": is_notice(shown["type"]),
        "body_json": json.dumps(shown["body"], ensure_ascii=False, indent=2),
        "envelope_json": json.dumps(shown["envelope"], ensure_ascii=False, indent=2),
        **_escalation_context(node, shown),
        "checklist": _checklist(node, shown),
        **_answer_context(node, shown, session.lang),
    }


def _answer_context(node: Node, shown: dict[str, Any], lang: str) -> dict[str, Any]:
    """Its Answer / Reply, the message it refers to (a link with a readable label), its
    escalation steps, and whether the map can show it (a notice with volumes)."""
    reference: dict[str, str] | None = None
    ref_id = shown["body"].get("refers_to") if isinstance(shown["body"], dict) else None
    if isinstance(ref_id, str):
        try:
            reference = {"id": ref_id, "label": answers.ref_label(node.line.show(ref_id), lang)}
        except NotFound:
            reference = {"id": "", "label": ref_id}
    steps = queries.escalations_of(node, [shown["id"]]).get(shown["id"], [])
    conflicts = None
    if shown["direction"] == "in" and is_notice(shown["type"]):
        conflicts = _conflicts_with_ours(node, str(shown["id"]))
    return {
        "conflicts": conflicts,
        "answer": answers.answer_action(shown),
        "reference": reference,
        "escalations": views.escalation_labels(steps, lang),
        "on_map": bool(shown["body"].get("volumes") or shown["body"].get("proposed"))
        if isinstance(shown["body"], dict)
        else False,
    }


def _checklist(node: Node, shown: dict[str, Any]) -> dict[str, Any] | None:
    """For a message we sent that waits on a person: the peer's out-of-band contacts, to
    try and record attempts on (none when its card has no channels)."""
    if shown["direction"] != "out" or not views.awaits_peer(shown):
        return None
    checklist = node.escalation.checklist(shown["id"])
    has_channels = any(rung["channels"] for rung in checklist["contacts"])
    return checklist if has_channels else None


def _conflicts_with_ours(node: Node, message_id: str) -> list[dict[str, Any]]:
    """Open conflicts between a received notice's volumes and ours: (theirs, ours) each."""
    out = []
    for c in node.conflicts.listing(message_id=message_id, state="open"):
        theirs, ours = (c["a"], c["b"]) if c["a"]["message_id"] == message_id else (c["b"], c["a"])
        out.append(c | {"theirs": theirs, "ours": ours})
    return out


@router.get("/attachments/{sha256}")
def attachment(request: Request, sha256: str, session: SessionDep, inline: int = 0) -> Response:
    """A file's bytes; an image shown in the page with ``inline=1``."""
    row, data = node_of(request).attachments.read(sha256)
    answer = file_response(row, data)
    if inline and row["content_type"] in IMAGES:
        answer.headers["content-disposition"] = "inline"
    return answer


@router.get("/messages/{message_id}")
def message_page(request: Request, message_id: str, session: SessionDep) -> Response:
    context = message_context(request, session, message_id)
    return render(request, "message.html", session, draft_note=None, **context)


@router.get("/messages/{message_id}/fragment")
def message_fragment(
    request: Request, message_id: str, session: SessionDep, part: str = "head"
) -> Response:
    """The parts of the page that change: its head (state, deadline) and its trail."""
    context = message_context(request, session, message_id)
    template = "_message_trail.html" if part == "trail" else "_message_head.html"
    return render(request, template, session, **context)


def _back(message_id: str) -> Response:
    return RedirectResponse(f"/console/messages/{message_id}", status_code=303)


@router.post("/messages/{message_id}/translations")
def add_translation(
    request: Request,
    message_id: str,
    session: SessionDep,
    lang: Annotated[str, Form()],
    text: Annotated[str, Form(max_length=40_000)],
) -> Response:
    node_of(request).notices.translate(message_id, lang, text, session.user.name)
    return _back(message_id)


@router.post("/translations/{translation_id}/certify")
def certify(
    request: Request,
    translation_id: RowId,
    session: SessionDep,
    message_id: Annotated[str, Form()],
) -> Response:
    node_of(request).notices.certify(translation_id, session.user.name)
    return _back(message_id)


@router.post("/messages/{message_id}/draft")
def machine_draft(
    request: Request, message_id: str, session: SessionDep, lang: Annotated[str, Form()]
) -> Response:
    """Ask for a machine draft; without an engine the page says so (not an error page)."""
    try:
        node_of(request).notices.draft(message_id, lang, session.user.name)
    except (Conflict, ValidationError) as exc:
        context = message_context(request, session, message_id)
        return render(request, "message.html", session, draft_note=exc.message, **context)
    return _back(message_id)


@router.post("/messages/{message_id}/escalation/attempts")
def record_attempt(
    request: Request,
    message_id: str,
    session: SessionDep,
    contact: Annotated[str, Form(max_length=65)],
    result: Annotated[str, Form(max_length=20)],
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """An officer tried the peer off the line: signed, logged, shown in the checklist."""
    node_of(request).escalation.record(
        message_id, contact=contact, result=result, note=note or None, user=session.user.name
    )
    return _back(message_id)
