"""The situation pages: the map, link health, and alarms.

The map page loads ``/console/map/data`` (GeoJSON of every volume and area in the
notices sent and received, the protected areas in force, the node's conflicts, and the
live track picture with its predicted conflicts and incursions) and draws it over
Natural Earth countries, all served by the node.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse

from hotline.clock import rfc3339
from hotline.errors import NotFound
from hotline.responses import RowId
from hotline.services.alarms import severity
from hotline.services.line.links import parse_since
from hotline.services.picture import export
from hotline.web import mapdata, queries
from hotline.web.auth import Session, node_of
from hotline.web.chart import link_chart
from hotline.web.pages import ConsoleRoute, back_to, now_of, render, require_session
from hotline.web.views import messages as views

router = APIRouter(route_class=ConsoleRoute)
SessionDep = Annotated[Session, Depends(require_session)]
PERIODS = ("6h", "24h", "7d", "30d")


@router.get("/map")
def map_page(request: Request, session: SessionDep) -> Response:
    has_conflicts = getattr(node_of(request), "conflicts", None) is not None
    return render(request, "map.html", session, has_conflicts=has_conflicts)


@router.get("/map/data")
def map_data(request: Request, session: SessionDep) -> Response:
    node = node_of(request)
    features = mapdata.for_display(mapdata.message_features(node))
    conflicts = mapdata.node_conflicts(node)
    body: dict[str, Any] = {
        "party": node.identity.party,
        "volumes": features,
        "areas": {"type": "FeatureCollection", "features": mapdata.area_features(node)},
        "picture": mapdata.track_picture(node),
        "conflicts": conflicts or [],
        "conflicts_service": conflicts is not None,
        "now": rfc3339(now_of(request)),
        "theatre": mapdata.theatre(node.settings.map_theatre),
    }
    return JSONResponse(body)


@router.get("/map/export.{fmt}")
def map_export(
    request: Request,
    fmt: str,
    session: SessionDep,
    start: Annotated[str | None, Query(alias="from")] = None,
    end: Annotated[str | None, Query(alias="to")] = None,
) -> Response:
    """The map's download links: the picture as KML or GeoJSON (as ``/api/v1/export.*``)."""
    if fmt not in ("kml", "geojson"):
        raise NotFound(f"no export as {fmt!r}", hint="kml or geojson")
    got = export.gather(node_of(request).tracks, export.parse_window(start, end))
    if fmt == "kml":
        body, media = export.to_kml(got), "application/vnd.google-earth.kml+xml"
    else:
        body, media = json.dumps(export.to_geojson(got), ensure_ascii=False), "application/geo+json"
    name = f"hotline-picture-{got.at.replace(':', '').replace('.', '')}.{fmt}"
    return Response(
        body,
        media_type=f"{media}; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _peer_health(request: Request, peer: str, since_s: int) -> dict[str, Any]:
    node, now = node_of(request), now_of(request)
    start = now - timedelta(seconds=since_s)
    tests = queries.link_history(node, peer, rfc3339(start))
    return {
        "report": node.links.report(peer, since_s)[0],
        "chart": link_chart(tests, start, now),
        "tests": list(reversed(tests[-12:])),
    }


@router.get("/links")
def links_page(request: Request, session: SessionDep, since: str = "24h") -> Response:
    since = since if since in PERIODS else "24h"
    since_s = parse_since(since)
    node = node_of(request)
    peers = [p | _peer_health(request, p["party"], since_s) for p in node.peer_list()]
    return render(request, "links.html", session, peers=peers, since=since, periods=PERIODS)


@router.post("/links/{peer}/test")
def link_test(request: Request, peer: str, session: SessionDep) -> Response:
    node_of(request).links.send_test(peer)
    return RedirectResponse("/console/links", status_code=303)


@router.get("/alarms")
def alarms_page(request: Request, session: SessionDep) -> Response:
    alarms = node_of(request).alarms.listing()
    for alarm in alarms:
        alarm["severity"] = severity(alarm["kind"])
    open_first = sorted(alarms, key=lambda a: a["state"] != "open")
    return render(request, "alarms.html", session, alarms=open_first)


@router.post("/alarms/{alarm_id}/clear")
def clear_alarm(
    request: Request,
    alarm_id: RowId,
    session: SessionDep,
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    node_of(request).alarms.clear(alarm_id, session.user.name, reason)
    return RedirectResponse("/console/alarms", status_code=303)


@router.post("/alarms/{alarm_id}/seen")
def acknowledge_alarm(
    request: Request,
    alarm_id: RowId,
    session: SessionDep,
    back: Annotated[str, Form(max_length=200)] = "/console/alarms",
) -> Response:
    """Acknowledge ("seen by"): the alarm's sound stops; it stays open until cleared.
    From the banner (htmx): the banner again; else back to the page it was clicked on."""
    node = node_of(request)
    node.alarms.acknowledge(alarm_id, session.user.name)
    if not back.startswith("/console") or back.startswith("/console/fragments"):
        back = "/console/alarms"

    def banner() -> Response:
        now = now_of(request)
        return render(
            request, "_banner.html", session, banner=views.banner(node, session.lang, now)
        )

    return back_to(request, back, banner)
