"""Sign in and out of the operator API: a user name and password for a bearer token."""

from __future__ import annotations

from fastapi import Request
from pydantic import Field

from hotline.api.deps import BearerDep, NodeDep, StrictBody, UserDep
from hotline.api.schemas import Ok
from hotline.responses import Out, TypedRouter


def client_address(request: Request) -> str:
    """The address the request came from, as the server saw the connection (no proxy
    header is trusted: the server runs with ``proxy_headers`` off)."""
    return request.client.host if request.client else "unknown"


router = TypedRouter(prefix="/api/v1", tags=["operator"])


class LoginRequest(StrictBody):
    user: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=1000)


class Token(Out):
    token: str = Field(description="send as `Authorization: Bearer TOKEN`")
    expires: str = Field(description="UTC, RFC 3339")
    user: str


@router.post("/login", summary="Exchange a user name and password for a bearer token")
async def login(body: LoginRequest, node: NodeDep, request: Request) -> Token:
    # waits for a password check in the event loop, not on a worker thread (login_async)
    source = client_address(request)
    token, expires = await node.auth.login_async(body.user, body.password, source=source)
    return Token(token=token, expires=expires, user=body.user)


@router.post("/logout", summary="Revoke the token used for this request")
def logout(node: NodeDep, user: UserDep, credentials: BearerDep, request: Request) -> Ok:
    assert credentials is not None  # current_user already required it
    node.auth.logout(credentials.credentials, source=client_address(request))
    return Ok(ok=True)
