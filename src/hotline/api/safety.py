"""Safety of flight over the operator API: pre-authorised safety warnings (sent FLASH
without a second person) and telling the other side about an own track that left its
declared volume (conformance).

Who may do what is in ``hotline.services.policy``: a commander authorises and revokes,
anyone on watch sends a warning authorised in advance or notifies a non-conformance.
"""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse
from pydantic import Field

from hotline.api.deps import NodeDep, StrictBody, UserDep
from hotline.api.schemas import HELD, Held, Message
from hotline.responses import Out, TypedRouter

router = TypedRouter(prefix="/api/v1", tags=["safety"])


class PreauthRequest(StrictBody):
    to: str = Field(description="the peer the warning goes to")
    code: int = Field(description="the phrasebook code sent (e.g. 11)")
    aircraft: str = Field(min_length=1, max_length=48, description="track id or callsign")
    area: str = Field(min_length=1, max_length=64, description="the area's id")
    valid_from: str = Field(description="RFC 3339")
    valid_until: str = Field(description="RFC 3339; at most 7 days after valid_from")
    note: str | None = Field(None, max_length=2000)


class RevokeRequest(StrictBody):
    reason: str = Field(min_length=1, max_length=2000)


class WarnRequest(StrictBody):
    client_ref: str | None = Field(
        None, max_length=100, description="idempotency key: sending twice sends once"
    )


class NotifyRequest(StrictBody):
    precedence: str = Field("IMMEDIATE", description="FLASH is held for a second person")


class Use(Out):
    id: str
    message_id: str
    used_by: str
    used_at: str


class Preauth(Out):
    """A safety warning authorised in advance, with each use of it."""

    id: str
    peer: str
    code: int
    aircraft: str
    area: str
    valid_from: str
    valid_until: str
    authorised_by: str
    authorised_at: str
    revoked_by: str | None
    revoked_at: str | None
    valid_now: bool
    uses: list[Use]


class Warned(Out):
    message: Message
    use: Use


class Notified(Out):
    message: Message | None
    held: Held | None


@router.get(
    "/safety/preauth",
    summary="Safety warnings authorised in advance, with their uses",
    response_model=list[Preauth],
)
def preauth_list(node: NodeDep, user: UserDep) -> list[dict[str, Any]]:
    return node.safety.listing()


@router.post(
    "/safety/preauth",
    status_code=201,
    summary="Authorise a safety warning in advance (commanders)",
    response_model=Preauth,
)
def preauth_add(body: PreauthRequest, node: NodeDep, user: UserDep) -> dict[str, Any]:
    return node.safety.authorise(user.name, **body.model_dump())


@router.post(
    "/safety/preauth/{preauth_id}/revoke",
    summary="End an authorisation before its time, saying why (commanders)",
    response_model=Preauth,
)
def preauth_revoke(
    preauth_id: str, body: RevokeRequest, node: NodeDep, user: UserDep
) -> dict[str, Any]:
    return node.safety.revoke(preauth_id, user.name, body.reason)


@router.post(
    "/safety/preauth/{preauth_id}/warn",
    status_code=201,
    summary="Send a pre-authorised safety warning FLASH now, without a second person",
    response_model=Warned,
)
def preauth_warn(
    preauth_id: str, node: NodeDep, user: UserDep, body: WarnRequest | None = None
) -> dict[str, Any]:
    return node.safety.warn(preauth_id, user.name, (body or WarnRequest()).client_ref)


@router.post(
    "/conformance/{alarm_id}/notify",
    status_code=201,
    summary="Tell the other side an own track left its declared volume (prepared, en+ru)",
    response_model=Notified,
    responses=HELD,
)
def conformance_notify(
    alarm_id: int, node: NodeDep, user: UserDep, body: NotifyRequest | None = None
) -> Any:
    done = node.conformance.notify(alarm_id, user.name, (body or NotifyRequest()).precedence)
    return JSONResponse(done, status_code=202) if done["held"] is not None else done
