"""The incident cases in the console: the list, one case side by side, opening and joining.

A case page shows both sides' current accounts, the differences the fold computed (time
in seconds, distance in NM and metres, per event both stated; events one side alone
stated), a map of both sides' positions (the console's Leaflet map and Natural Earth,
served by the node) and a timeline, every earlier version, and the accounts rejected.
**Open a case** is offered on an incident report's page, beside a conflict with our
volumes, and on each alarm; the account is sent as a notice (``Notices.send``), exactly as
``hotline case open`` or ``POST /api/v1/notices`` would.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, Response, UploadFile
from fastapi.responses import RedirectResponse

from hotline.errors import HotlineError, NotFound, ValidationError
from hotline.node import Node
from hotline.protocol.canonical import parse_json
from hotline.web.auth import Session, node_of
from hotline.web.pages import ConsoleRoute, render, require_session
from hotline.web.routes.compose import _uploaded

router = APIRouter(route_class=ConsoleRoute)
SessionDep = Annotated[Session, Depends(require_session)]
ORIGIN_KINDS = ("incident_report", "conflict", "incursion", "alarm")
SENDABLE = ("IMMEDIATE", "PRIORITY", "ROUTINE")  # FLASH: through Compose and its second person


@router.get("/cases")
def case_list(request: Request, session: SessionDep) -> Response:
    return render(request, "cases.html", session, cases=node_of(request).cases.listing())


def _template_events(node: Node, kind: str, ref: str) -> list[dict[str, Any]]:
    """A first event to edit: the report's time, position and units, when opened from one."""
    if kind != "incident_report":
        return [{"kind": "first_contact", "time": "", "position": ["", ""], "units": []}]
    try:
        shown = node.line.show(ref)
    except NotFound:
        return []
    body = shown["body"]
    ours = shown["direction"] == "out"
    event: dict[str, Any] = {
        "kind": "closest_approach",
        "time": body.get("time", ""),
        "position": body.get("position", ["", ""]),
        "units": body.get("own_units" if ours else "other_units", []),
    }
    if "altitude_m" in body:
        event |= {"altitude_m": body["altitude_m"], "datum": body.get("datum")}
    return [event]


def _form(
    request: Request,
    session: Session,
    *,
    case: dict[str, Any] | None,
    origin: dict[str, str],
    to: str,
    events: list[dict[str, Any]],
    error: str | None = None,
    **kept: str,
) -> Response:
    return render(
        request,
        "case_form.html",
        session,
        status_code=400 if error else 200,
        case=case,
        origin=origin,
        to=to,
        peers=[p["party"] for p in node_of(request).peer_list()],
        events_json=json.dumps(events, ensure_ascii=False, indent=2),
        error=error,
        precedences=SENDABLE,
        kept=kept,
    )


@router.get("/cases/new")
def case_new(
    request: Request, session: SessionDep, origin: str, ref: str, to: str = ""
) -> Response:
    """The form opening a case from a report, a conflict, an incursion or an alarm."""
    if origin not in ORIGIN_KINDS:
        raise ValidationError(f"origin must be one of {', '.join(ORIGIN_KINDS)}", field="origin")
    node = node_of(request)
    if not to and origin == "incident_report":
        try:
            to = node.line.show(ref)["peer"]
        except NotFound:
            to = ""
    events = _template_events(node, origin, ref)
    return _form(
        request, session, case=None, origin={"kind": origin, "ref": ref}, to=to, events=events
    )


def _account(
    node: Node,
    case: dict[str, Any] | None,
    case_id: str,
    origin: dict[str, str],
    form: dict[str, str],
) -> dict[str, Any]:
    """The account body from the form's fields (the events as JSON)."""
    try:
        events = parse_json(form["events"].encode("utf-8"), "events")
    except HotlineError as exc:  # shown to the officer, with the form kept
        raise ValidationError(f"events: {exc.message}", field="events") from None
    body: dict[str, Any] = {
        "type": "incident_account",
        "case": case_id,
        "opened_from": origin,
        "events": events,
    }
    if case is not None:
        body |= node.cases.join_fields(case)
    if form["title"].strip():
        body["title"] = form["title"].strip()
    narrative = {lang: form[lang] for lang in ("en", "ru") if form[lang].strip()}
    if narrative:
        body["narrative"] = narrative
    return body


def _send(
    request: Request,
    session: Session,
    *,
    case: dict[str, Any] | None,
    case_id: str,
    origin: dict[str, str],
    to: str,
    form: dict[str, str],
    files: list[UploadFile] | None,
) -> Response:
    node = node_of(request)
    try:
        body = _account(node, case, case_id, origin, form)
        if form["precedence"] not in SENDABLE:
            raise ValidationError("precedence: IMMEDIATE, PRIORITY or ROUTINE", field="precedence")
        refs = _files(node, case, files or [])
        node.notices.send(
            to,
            body,
            precedence=form["precedence"],
            lang=None,
            user=session.user.name,
            attachments=refs or None,
        )
    except ValidationError as exc:
        try:
            events = json.loads(form["events"])
        except ValueError:
            events = []
        return _form(
            request,
            session,
            case=case,
            origin=origin,
            to=to,
            events=events if isinstance(events, list) else [],
            error=exc.message,
            **{k: v for k, v in form.items() if k != "events"},
        )
    return RedirectResponse(f"/console/cases/{case_id}", status_code=303)


@router.post("/cases")
def case_open(
    request: Request,
    session: SessionDep,
    to: Annotated[str, Form(max_length=32)],
    origin: Annotated[str, Form(max_length=20)],
    ref: Annotated[str, Form(max_length=128)],
    events: Annotated[str, Form(max_length=200_000)],
    title: Annotated[str, Form(max_length=200)] = "",
    en: Annotated[str, Form(max_length=8000)] = "",
    ru: Annotated[str, Form(max_length=8000)] = "",
    precedence: Annotated[str, Form(max_length=10)] = "IMMEDIATE",
    files: Annotated[list[UploadFile] | None, File()] = None,
) -> Response:
    form = {"events": events, "title": title, "en": en, "ru": ru, "precedence": precedence}
    new = node_of(request).cases.new_account()
    return _send(
        request,
        session,
        case=None,
        case_id=new["case"],
        origin={"kind": origin, "ref": ref},
        to=to,
        form=form,
        files=files,
    )


@router.post("/cases/{case_id}/account")
def case_account(
    request: Request,
    case_id: str,
    session: SessionDep,
    events: Annotated[str, Form(max_length=200_000)],
    title: Annotated[str, Form(max_length=200)] = "",
    en: Annotated[str, Form(max_length=8000)] = "",
    ru: Annotated[str, Form(max_length=8000)] = "",
    precedence: Annotated[str, Form(max_length=10)] = "IMMEDIATE",
    files: Annotated[list[UploadFile] | None, File()] = None,
) -> Response:
    """Join the case with our account, or amend ours (a new version)."""
    node = node_of(request)
    case = node.cases.show(case_id)
    me = node.identity.party
    to = case["other"] if case["opened_by"] == me else case["opened_by"]
    form = {"events": events, "title": title, "en": en, "ru": ru, "precedence": precedence}
    return _send(
        request,
        session,
        case=case,
        case_id=case_id,
        origin=case["opened_from"],
        to=to,
        form=form,
        files=files,
    )


def _files(
    node: Node, case: dict[str, Any] | None, files: list[UploadFile]
) -> list[dict[str, Any]]:
    """The files to sign on the account: those our current version carries (an amendment
    keeps them), then those chosen in the form (stored here once, by content)."""
    me = node.identity.party
    versions = (case or {}).get("accounts", {}).get(me, {}).get("versions", [])
    kept = (
        [{"sha256": a["sha256"], "name": a["name"]} for a in versions[-1]["attachments"]]
        if versions
        else []
    )
    added = _uploaded(node, files)
    if not added:
        return node.attachments.refs(kept) if kept else []
    known = {k["sha256"] for k in kept}
    chosen = kept + [
        {"sha256": a["sha256"], "name": a["name"]} for a in added if a["sha256"] not in known
    ]
    return node.attachments.refs(chosen)


@router.post("/cases/{case_id}/tracks")
def case_tracks(request: Request, case_id: str, session: SessionDep) -> Response:
    """Attach our track history: a new version of our account, its statements unchanged,
    the export added as a file (as ``POST /api/v1/cases/{id}/tracks``)."""
    node = node_of(request)
    to, notice, refs = node.casefiles.tracks_account(case_id)
    node.notices.send(
        to, notice, precedence="IMMEDIATE", lang=None, user=session.user.name, attachments=refs
    )
    return RedirectResponse(f"/console/cases/{case_id}", status_code=303)


def _ours_or_theirs(case: dict[str, Any], me: str) -> list[dict[str, Any]]:
    """The events to start an account from: our current version, else the other side's."""
    for party in (me, case["other"] if case["opened_by"] == me else case["opened_by"]):
        versions = case["accounts"].get(party, {}).get("versions", [])
        if versions:
            return list(versions[-1]["body"]["events"])
    return []


def timeline(case: dict[str, Any]) -> list[dict[str, Any]]:
    """Every current event of both sides in time order, with its side."""
    rows = []
    for party, accounts in case["accounts"].items():
        if accounts["versions"]:
            for event in accounts["versions"][-1]["body"]["events"]:
                rows.append({"party": party, **event})
    rows.sort(key=lambda e: (e["time"], e["party"]))
    return rows


@router.get("/cases/{case_id}")
def case_page(request: Request, case_id: str, session: SessionDep) -> Response:
    node = node_of(request)
    case = node.casefiles.show(case_id)
    me = node.identity.party
    return render(
        request,
        "case.html",
        session,
        case=case,
        me=me,
        parties=[case["opened_by"], case["other"]],
        timeline=timeline(case),
        map_json=json.dumps(
            {
                "parties": [case["opened_by"], case["other"]],
                "timeline": timeline(case),
                "both": (case["differences"] or {}).get("both", []),
            },
            ensure_ascii=False,
        ).replace("<", "\\u003c"),  # inside <script>: no "</script>" from free text
        events_json=json.dumps(_ours_or_theirs(case, me), ensure_ascii=False, indent=2),
        precedences=SENDABLE,
    )
