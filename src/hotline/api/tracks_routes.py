"""The live picture over HTTP: track reports in, tracks, conflicts and incursions out.

Protected areas are declared as ``protected_areas`` notices (``POST /api/v1/notices``);
``GET /api/v1/areas`` lists those in force, own and peers'.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from hotline.api.routes import NodeDep, UserDep
from hotline.services.calls_common import require
from hotline.services.tracks import MAX_TRACKS_PER_REPORT, TrackReport

router = APIRouter(prefix="/api/v1", tags=["picture"])

#: Who may report tracks: a feed's own account, or a person on watch.
FEED_ROLES = frozenset({"feed", "officer", "commander", "admin"})


class TracksRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tracks: list[TrackReport] = Field(max_length=MAX_TRACKS_PER_REPORT)


@router.post("/tracks", summary="Report tracks (latest report of each id wins)")
def report_tracks(body: TracksRequest, node: NodeDep, user: UserDep) -> dict[str, Any]:
    require(user, FEED_ROLES, "report tracks")
    return node.tracks.report(body.tracks)


@router.get("/tracks", summary="The live picture: tracks, predicted conflicts, incursions")
def picture(node: NodeDep, user: UserDep) -> dict[str, Any]:
    return node.tracks.assess()


@router.delete("/tracks", summary="Forget every track (the feed starts again)")
def forget_tracks(node: NodeDep, user: UserDep) -> dict[str, Any]:
    require(user, FEED_ROLES, "clear the track picture")
    node.tracks.clear()
    return {"tracks": 0}


@router.get("/areas", summary="Protected areas in force, own and peers', as GeoJSON")
def areas(node: NodeDep, user: UserDep) -> dict[str, Any]:
    return node.conflicts.areas_geojson()
