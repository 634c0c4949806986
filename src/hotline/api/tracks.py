"""The live picture over HTTP: track reports in, tracks, conflicts and incursions out.

Who may report (a ``feed`` account, or a person on watch) is in ``hotline.services.policy``.

Protected areas are declared as ``protected_areas`` notices (``POST /api/v1/notices``);
``GET /api/v1/areas`` lists those in force, own and peers'.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query
from pydantic import Field

from hotline.api.deps import NodeDep, StrictBody, UserDep
from hotline.api.notices import FeatureCollection
from hotline.domain.tracks import TrackReport
from hotline.responses import Number, Out, TypedRouter
from hotline.services.picture.record import PAGE
from hotline.services.picture.tracks import MAX_TRACKS_PER_REPORT

router = TypedRouter(prefix="/api/v1", tags=["picture"])


class TracksRequest(StrictBody):
    tracks: list[TrackReport] = Field(max_length=MAX_TRACKS_PER_REPORT)


class PictureSummary(Out):
    tracks: int
    conflicts: int
    los: int = Field(description="pairs in loss of separation now")
    incursions: int


class Taken(PictureSummary):
    taken: int
    stale: int = Field(description="older than the track's last report: ignored")


class Track(Out):
    """A track as last reported (``TrackReport``), with where it is now."""

    id: str
    party: str
    source: str
    lat: Number
    lon: Number
    alt_m: Number


class PredictedConflict(Out):
    a: str
    b: str
    parties: list[str]
    tcpa_s: Number
    dcpa_m: Number
    t_in_s: Number
    t_out_s: Number


class Pair(Out):
    a: str
    b: str


class Incursion(Out):
    track: str
    track_party: str
    area: str
    area_name: str
    area_party: str
    area_message_id: str
    entry_s: Number
    inside: bool
    lat: Number
    lon: Number


class PictureSettings(Out):
    rpz_m: Number
    hpz_m: Number
    lookahead_s: Number
    ttl_s: Number


class Picture(Out):
    at: str
    settings: PictureSettings
    summary: PictureSummary
    tracks: list[Track]
    conflicts: list[PredictedConflict]
    los: list[Pair]
    incursions: list[Incursion]


class Forgotten(Out):
    tracks: int


@router.post(
    "/tracks", summary="Report tracks (latest report of each id wins)", response_model=Taken
)
def report_tracks(body: TracksRequest, node: NodeDep, user: UserDep) -> dict[str, Any]:
    return node.tracks.report(body.tracks)


@router.get(
    "/tracks",
    summary="The live picture: tracks, predicted conflicts, incursions",
    response_model=Picture,
)
def picture(node: NodeDep, user: UserDep) -> dict[str, Any]:
    return node.tracks.assess()


class RecordedReport(Out):
    """One report as recorded: the time its sensor saw it, where and how it flew."""

    id: str
    party: str
    source: str = Field(description="feed (this node's), or the peer that shared it")
    time: str
    lat: Number
    lon: Number
    alt_m: Number
    gs_mps: Number
    trk_deg: Number
    vs_mps: Number
    callsign: str | None = None


class History(Out):
    from_: str = Field(alias="from")
    to: str
    reports: list[RecordedReport]
    next: str | None = Field(description="give as after= for the next page; null at the end")


@router.get(
    "/tracks/history",
    summary="The recorded picture: reports in a window, of a track or within a radius",
    response_model=History,
)
def history(
    node: NodeDep,
    user: UserDep,
    from_: Annotated[str, Query(alias="from", description="RFC 3339 UTC, included")],
    to: Annotated[str, Query(description="RFC 3339 UTC, included")],
    track: str | None = None,
    lat: float | None = None,
    lon: float | None = None,
    radius_nm: Annotated[float | None, Query(description="with lat and lon")] = None,
    after: Annotated[str | None, Query(description="the previous page's next")] = None,
    limit: int = PAGE,
) -> dict[str, Any]:
    return node.tracks.record.history(
        from_, to, track=track, lat=lat, lon=lon, radius_nm=radius_nm, after=after, limit=limit
    )


@router.delete(
    "/tracks", summary="Forget every track (the feed starts again)", response_model=Forgotten
)
def forget_tracks(node: NodeDep, user: UserDep) -> dict[str, Any]:
    node.tracks.clear()
    return {"tracks": 0}


@router.get(
    "/areas",
    summary="Protected areas in force, own and peers', as GeoJSON",
    response_model=FeatureCollection,
)
def areas(node: NodeDep, user: UserDep) -> dict[str, Any]:
    return node.conflicts.areas_geojson()
