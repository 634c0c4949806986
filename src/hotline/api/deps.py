"""What every operator route depends on: the node, the bearer token's user, its roles.

``UserDep`` authenticates the bearer token and checks the user's roles against the route
(``services/policy.py``); a route that takes it is closed to anyone else. Request bodies
derive from :class:`StrictBody`: an unknown field is an error, not silently ignored.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, model_validator

from hotline import seclog
from hotline.errors import AuthError
from hotline.node import Node
from hotline.services import policy
from hotline.services.auth import User

bearer = HTTPBearer(auto_error=False)

Precedence = Literal["FLASH", "IMMEDIATE", "PRIORITY", "ROUTINE"]
Lang = Literal["en", "ru"]


def get_node(request: Request) -> Node:
    node: Node = request.app.state.node
    return node


NodeDep = Annotated[Node, Depends(get_node)]
BearerDep = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


def current_user(request: Request, node: NodeDep, credentials: BearerDep) -> User:
    """The user of the bearer token, if their roles allow this route (``services/policy.py``)."""
    if credentials is None:
        raise AuthError(
            "this request needs a bearer token",
            hint="POST /api/v1/login with your user name and password to get one",
        )
    user = node.auth.authenticate(credentials.credentials)
    seclog.identify(user.name)
    path = policy.route_template(request.url.path, request.scope.get("route"))
    policy.check(request.method, path, user.name, user.roles)
    return user


UserDep = Annotated[User, Depends(current_user)]


class StrictBody(BaseModel):
    """A request body: unknown fields are refused, and so is a NUL character in any text
    (no database column holds one the same way on SQLite and PostgreSQL)."""

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _no_nul(cls, data: Any) -> Any:
        waiting = [data]
        while waiting:  # a loop, not recursion: the input may be nested deep
            item = waiting.pop()
            if isinstance(item, str):
                if "\x00" in item:
                    raise ValueError("text may not contain the NUL character (\\x00)")
            elif isinstance(item, dict):
                waiting.extend(item.keys())
                waiting.extend(item.values())
            elif isinstance(item, list | tuple):
                waiting.extend(item)
        return data
