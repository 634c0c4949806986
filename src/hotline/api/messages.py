"""The operator API: JSON over HTTP, every route behind a bearer token (but login)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field

from hotline.domain.bodies import SYSTEM_TYPES
from hotline.domain.notices.models import json_schemas
from hotline.errors import AuthError, ValidationError
from hotline.node import Node
from hotline.services import policy
from hotline.services.auth import User
from hotline.storage import messages as message_store
from hotline.storage.messages import IN, OUT

router = APIRouter(prefix="/api/v1", tags=["operator"])
_bearer = HTTPBearer(auto_error=False)


def get_node(request: Request) -> Node:
    node: Node = request.app.state.node
    return node


NodeDep = Annotated[Node, Depends(get_node)]


def current_user(
    request: Request,
    node: NodeDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> User:
    """The user of the bearer token, if their roles allow this route (``services/policy.py``)."""
    if credentials is None:
        raise AuthError(
            "this request needs a bearer token",
            hint="POST /api/v1/login with your user name and password to get one",
        )
    user = node.auth.authenticate(credentials.credentials)
    path = policy.route_template(request.url.path, request.scope.get("route"))
    policy.check(request.method, path, user.name, user.roles)
    return user


UserDep = Annotated[User, Depends(current_user)]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LoginRequest(_Request):
    user: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=1000)


class SendRequest(_Request):
    to: str = Field(min_length=1, max_length=32, description="the receiving party's id")
    text: str | None = Field(None, min_length=1, max_length=20_000, description="free text")
    code: int | None = Field(None, ge=1, le=9999, description="a phrasebook code instead of text")
    precedence: Literal["FLASH", "IMMEDIATE", "PRIORITY", "ROUTINE"] = "ROUTINE"
    lang: Literal["en", "ru"] | None = Field(None, description="defaults to the node's language")
    client_ref: str | None = Field(
        None, max_length=100, description="idempotency key: sending twice queues once"
    )


@router.post("/login", summary="Exchange a user name and password for a bearer token")
def login(body: LoginRequest, node: NodeDep) -> dict[str, str]:
    token, expires = node.auth.login(body.user, body.password)
    return {"token": token, "expires": expires, "user": body.user}


@router.post("/logout", summary="Revoke the token used for this request")
def logout(
    node: NodeDep,
    user: UserDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> dict[str, bool]:
    assert credentials is not None  # current_user already required it
    node.auth.logout(credentials.credentials)
    return {"ok": True}


@router.get("/status", summary="This node: party, key, message counts, log head")
def status(node: NodeDep, user: UserDep) -> dict[str, Any]:
    return node.line.status() | {"user": user.name}


@router.get("/card", summary="This node's signed peer card")
def card(node: NodeDep, user: UserDep) -> dict[str, Any]:
    return node.identity.card().wire()


@router.get("/peers", summary="Pinned peers and their delivery state")
def peer_list(node: NodeDep, user: UserDep) -> list[dict[str, Any]]:
    return node.peer_list()


@router.post(
    "/messages",
    status_code=201,
    summary="Queue a text or coded message to a peer (FLASH: held for a second approval)",
    responses={202: {"description": "FLASH: held until a second person approves it"}},
)
def send(body: SendRequest, node: NodeDep, user: UserDep) -> Any:
    if (body.text is None) == (body.code is None):
        raise ValidationError("give either text or code", hint="one of the two, not both")
    if node.held.required(body.precedence):
        held = node.held.hold(
            "text" if body.text is not None else "code",
            to=body.to,
            payload={"text": body.text} if body.text is not None else {"code": body.code},
            precedence=body.precedence,
            lang=body.lang,
            user=user.name,
            client_ref=body.client_ref,
        )
        return JSONResponse(held, status_code=202)
    if body.code is not None:
        sent = node.notices.send_code(
            body.to,
            body.code,
            precedence=body.precedence,
            user=user.name,
            client_ref=body.client_ref,
        )
        message: dict[str, Any] = sent["message"]
        return message | {"rendering": sent["rendering"]}
    return node.line.send(
        to=body.to,
        text=body.text,
        precedence=body.precedence,
        lang=body.lang,
        user=user.name,
        client_ref=body.client_ref,
    )


class NoticeRequest(_Request):
    to: str = Field(min_length=1, max_length=32, description="the receiving party's id")
    notice: dict[str, Any] = Field(description="a notice body; see docs/schemas")
    precedence: Literal["FLASH", "IMMEDIATE", "PRIORITY", "ROUTINE"] = "ROUTINE"
    lang: Literal["en", "ru"] | None = None
    client_ref: str | None = Field(None, max_length=100)


class CheckRequest(_Request):
    to: str = Field(min_length=1, max_length=32)
    notice: dict[str, Any]


@router.post(
    "/notices/check", summary="Validate, check the rules and render a notice; send nothing"
)
def check_notice(body: CheckRequest, node: NodeDep, user: UserDep) -> dict[str, Any]:
    prepared = node.notices.prepare(body.to, body.notice)
    return {
        "type": prepared.type,
        "body": prepared.body,
        "findings": prepared.findings,
        "rendering": prepared.rendering,
        "conflicts": prepared.conflicts,
        "blocked": prepared.blocked,
    }


@router.post(
    "/notices",
    status_code=201,
    summary="Send a formatted notice (rules checked; FLASH: held for a second approval)",
    responses={202: {"description": "FLASH: held until a second person approves it"}},
)
def send_notice(body: NoticeRequest, node: NodeDep, user: UserDep) -> Any:
    if node.held.required(body.precedence):
        held = node.held.hold(
            "notice",
            to=body.to,
            payload={"notice": body.notice},
            precedence=body.precedence,
            lang=body.lang,
            user=user.name,
            client_ref=body.client_ref,
        )
        return JSONResponse(held, status_code=202)
    return node.notices.send(
        body.to,
        body.notice,
        precedence=body.precedence,
        lang=body.lang,
        user=user.name,
        client_ref=body.client_ref,
    )


@router.get("/conflicts", summary="Conflicts between declared volumes, newest first")
def conflict_list(node: NodeDep, user: UserDep, message: str | None = None) -> list[dict[str, Any]]:
    return node.conflicts.listing(message)


@router.get("/volumes", summary="Every declared volume, own and peers', as GeoJSON")
def volume_list(node: NodeDep, user: UserDep) -> dict[str, Any]:
    return node.conflicts.volumes_geojson()


@router.get("/notices/schemas", summary="The JSON Schema of each notice type")
def notice_schemas(node: NodeDep, user: UserDep) -> dict[str, Any]:
    return json_schemas()


@router.get("/phrasebook", summary="This node's phrasebook: version, hash, every code")
def phrasebook(node: NodeDep, user: UserDep) -> dict[str, Any]:
    book = node.identity.phrasebook
    return {
        "version": book.version,
        "hash": book.hash,
        "entries": [e.model_dump(mode="json") for e in book.entries],
    }


class TranslationRequest(_Request):
    lang: Literal["en", "ru"]
    text: str = Field(min_length=1, max_length=40_000)


class DraftRequest(_Request):
    lang: Literal["en", "ru"]


@router.post(
    "/messages/{message_id}/translations",
    status_code=201,
    summary="Add a human translation (uncertified until a second person certifies)",
)
def translate(
    message_id: str, body: TranslationRequest, node: NodeDep, user: UserDep
) -> dict[str, Any]:
    return node.notices.translate(message_id, body.lang, body.text, user.name)


@router.post(
    "/messages/{message_id}/translations/draft",
    status_code=201,
    summary="A machine draft, marked 'not certified' (409 when none is available)",
)
def draft(message_id: str, body: DraftRequest, node: NodeDep, user: UserDep) -> dict[str, Any]:
    return node.notices.draft(message_id, body.lang, user.name)


@router.post(
    "/translations/{translation_id}/certify",
    summary="Certify a translation (never by its own translator)",
)
def certify(translation_id: int, node: NodeDep, user: UserDep) -> dict[str, Any]:
    return node.notices.certify(translation_id, user.name)


@router.get("/inbox", summary="Received messages, newest first")
def inbox(
    node: NodeDep, user: UserDep, peer: str | None = None, limit: int = 200, system: bool = False
) -> list[dict[str, Any]]:
    rows = node.line.listing(IN, peer=peer, limit=min(max(limit, 1), 5000))
    return rows if system else [r for r in rows if r["type"] not in SYSTEM_TYPES]


@router.get("/outbox", summary="Sent messages with their delivery state, newest first")
def outbox(
    node: NodeDep, user: UserDep, peer: str | None = None, limit: int = 200, system: bool = False
) -> list[dict[str, Any]]:
    rows = node.line.listing(OUT, peer=peer, limit=min(max(limit, 1), 5000))
    return rows if system else [r for r in rows if r["type"] not in SYSTEM_TYPES]


def _whole_id(node: Node, given: str) -> str:
    """A message id as given, or the one id a listing's short form (its start) names."""
    with node.db.read() as conn:
        found = message_store.resolve(conn, given)
    return given if found is None else found  # unknown ids get the usual "not found"


@router.get(
    "/messages/{message_id}",
    summary="One message with its envelope, receipt and trail (id or its first 6+ characters)",
)
def show(message_id: str, node: NodeDep, user: UserDep) -> dict[str, Any]:
    return node.show(_whole_id(node, message_id))


@router.post(
    "/messages/{message_id}/ack",
    summary="Acknowledge a received message, signed (id or its first 6+ characters)",
)
def acknowledge(message_id: str, node: NodeDep, user: UserDep) -> dict[str, Any]:
    return node.line.acknowledge(_whole_id(node, message_id), user.name)


class RejectRequest(_Request):
    reason: str = Field(min_length=1, max_length=2000)


@router.get("/held", summary="FLASH messages held for a second approval (state=held|sent|…)")
def held_list(node: NodeDep, user: UserDep, state: str | None = "held") -> list[dict[str, Any]]:
    return node.held.listing(None if state == "all" else state)


@router.post("/held/{held_id}/approve", summary="Approve a held FLASH message: it is sent")
def held_approve(held_id: str, node: NodeDep, user: UserDep) -> dict[str, Any]:
    return node.held.approve(held_id, user.name)


@router.post("/held/{held_id}/reject", summary="Reject a held FLASH message, saying why")
def held_reject(held_id: str, body: RejectRequest, node: NodeDep, user: UserDep) -> dict[str, Any]:
    return node.held.reject(held_id, user.name, body.reason)
