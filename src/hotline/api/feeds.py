"""The node's track feeds over HTTP: ``GET /api/v1/feeds`` lists each with its health.

Feeds are configured on the node's folder (``hotline feed add``); the active process runs
them and records their health every second or so (see ``services/feeds``).
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from hotline.api.deps import NodeDep, UserDep
from hotline.responses import Number, Out, TypedRouter

router = TypedRouter(prefix="/api/v1", tags=["picture"])


class FeedHealth(Out):
    connected: bool
    peer: str | None = Field(description="the sender's address, or what this node connected to")
    messages: int = Field(description="messages understood since the source started")
    decoded: int = Field(description="track reports decoded")
    reports: int = Field(description="reports put into the picture (the latest of each track)")
    errors: int = Field(description="malformed messages skipped")
    connects: int
    rate_per_s: Number = Field(description="messages per second, lately")
    last_message_at: str | None
    quiet_s: Number = Field(description="seconds since the last message (or the start)")
    stale: bool = Field(description="quiet longer than stale_s: a feed_stale alarm is open")
    last_error: str | None = Field(description="the last problem, with a safe sample")


class Feed(Out):
    name: str
    kind: str = Field(description="sbs1 | beast | ais | cot (tracks in) | cot-out (picture out)")
    mode: str
    host: str
    port: int
    udp: bool
    party: str
    stale_s: int
    reference: str | None
    tls: dict[str, str] | None = Field(
        None, description="ca, cert, key (files) and server_name: TLS with a client certificate"
    )
    added_at: str
    health: FeedHealth | None = Field(description="none until the active process runs it")
    health_at: str | None


class FeedList(Out):
    feeds: list[Feed]


@router.get("/feeds", summary="The track feeds and their health", response_model=FeedList)
def list_feeds(node: NodeDep, user: UserDep) -> dict[str, Any]:
    return {"feeds": node.feeds.listing()}
