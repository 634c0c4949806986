"""The live picture over HTTP: track reports in, tracks, conflicts and incursions out.

Who may report (a ``feed`` account, or a person on watch) is in ``hotline.services.policy``.

Protected areas are declared as ``protected_areas`` notices (``POST /api/v1/notices``);
``GET /api/v1/areas`` lists those in force, own and peers'.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from hotline.api.messages import NodeDep, UserDep
from hotline.domain.tracks import TrackReport
from hotline.services.picture.tracks import MAX_TRACKS_PER_REPORT

router = APIRouter(prefix="/api/v1", tags=["picture"])


class TracksRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tracks: list[TrackReport] = Field(max_length=MAX_TRACKS_PER_REPORT)


@router.post("/tracks", summary="Report tracks (latest report of each id wins)")
def report_tracks(body: TracksRequest, node: NodeDep, user: UserDep) -> dict[str, Any]:
    return node.tracks.report(body.tracks)


@router.get("/tracks", summary="The live picture: tracks, predicted conflicts, incursions")
def picture(node: NodeDep, user: UserDep) -> dict[str, Any]:
    return node.tracks.assess()


@router.delete("/tracks", summary="Forget every track (the feed starts again)")
def forget_tracks(node: NodeDep, user: UserDep) -> dict[str, Any]:
    node.tracks.clear()
    return {"tracks": 0}


@router.get("/areas", summary="Protected areas in force, own and peers', as GeoJSON")
def areas(node: NodeDep, user: UserDep) -> dict[str, Any]:
    return node.conflicts.areas_geojson()
