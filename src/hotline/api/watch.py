"""Watch levels over the operator API: the ladder, changes proposed and approved by two
people, and the levels peers sent. See ``docs/calls.md``."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from hotline.api.deps import NodeDep, StrictBody, UserDep
from hotline.responses import Out, RowId, TypedRouter

router = TypedRouter(prefix="/api/v1", tags=["calls"])


class WatchChangeIn(StrictBody):
    level: str = Field(description="a level id on this party's ladder")
    reason: str = Field(min_length=1, max_length=4000, description="why (kept on this node)")
    notify: str | None = Field(None, description="a peer to tell once approved")
    message: str | None = Field(None, max_length=4000, description="sent with the notice")


class DecisionIn(StrictBody):
    note: str | None = Field(None, max_length=4000)


class LevelName(Out):
    id: str
    name_en: str
    name_ru: str


class Level(LevelName):
    rank: int = Field(description="0 is the calmest")


class Outgoing(Out):
    to: str = Field(description="the peer the notification goes to on approval")
    type: str = Field(description="watch_level")
    body: dict[str, Any] = Field(description="the body to be signed (its time: the approval's)")
    rendering: dict[str, str] = Field(description="lang (en, ru) → the notification as read")


class WatchChange(Out):
    id: int
    from_level: str
    to_level: str
    reason: str
    notify_peer: str | None
    message: str | None
    state: str = Field(description="pending | approved | rejected")
    proposed_by: str
    proposed_at: str
    decided_by: str | None
    decided_at: str | None
    decision_note: str | None
    message_id: str | None
    from_: Level = Field(alias="from")
    to: Level
    in_effect: bool
    outgoing: Outgoing | None = Field(
        None, description="a pending change's notification: what approving it sends, to whom"
    )


class CurrentLevel(Out):
    level: Level
    since: str | None
    change_id: RowId | None


class PeerLevel(Out):
    peer: str
    level: LevelName
    rank: int
    of_levels: int
    previous: LevelName | None
    message: str | None
    effective_at: str
    received_at: str
    message_id: str | None


class WatchStatus(Out):
    party: str
    ladder: list[Level]
    current: CurrentLevel
    pending: WatchChange | None
    peers: dict[str, PeerLevel] = Field(description="party → the last level it sent")


class WatchHistory(Out):
    party: str
    changes: list[WatchChange]
    peers: list[PeerLevel]


@router.get(
    "/watch",
    summary="Ladder, current level, pending change, peers' levels",
    response_model=WatchStatus,
)
def watch(node: NodeDep, user: UserDep) -> dict[str, Any]:
    return node.calls.watch.status()


@router.get(
    "/watch/history",
    summary="Every change of ours and every level peers sent",
    response_model=WatchHistory,
)
def watch_history(node: NodeDep, user: UserDep) -> dict[str, Any]:
    return node.calls.watch.history()


@router.post(
    "/watch/changes",
    status_code=201,
    summary="Propose a watch-level change",
    response_model=WatchChange,
)
def propose(body: WatchChangeIn, node: NodeDep, user: UserDep) -> dict[str, Any]:
    return node.calls.watch.propose(
        body.level, reason=body.reason, notify=body.notify, message=body.message, user=user
    )


@router.post(
    "/watch/changes/{change_id}/approve",
    summary="Approve (second person)",
    response_model=WatchChange,
)
def approve_change(
    change_id: RowId, body: DecisionIn, node: NodeDep, user: UserDep
) -> dict[str, Any]:
    return node.calls.watch.approve(change_id, note=body.note, user=user)


@router.post(
    "/watch/changes/{change_id}/reject",
    summary="Reject a pending change",
    response_model=WatchChange,
)
def reject_change(
    change_id: RowId, body: DecisionIn, node: NodeDep, user: UserDep
) -> dict[str, Any]:
    return node.calls.watch.reject(change_id, note=body.note, user=user)
