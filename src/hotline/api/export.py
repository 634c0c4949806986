"""The picture out as files: ``GET /api/v1/export.kml`` and ``/api/v1/export.geojson``.

Volumes, protected areas, conflicts and track histories of a time window
(``?from=&to=``, RFC 3339 UTC, either side open), gathered by
:mod:`hotline.services.picture.export`. Both answer as a download (``Content-Disposition:
attachment``); the console's map page links to them.
"""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import Query, Response
from fastapi.responses import PlainTextResponse

from hotline.api.deps import NodeDep, UserDep
from hotline.responses import TypedRouter, text_answer
from hotline.services.picture import export

router = TypedRouter(prefix="/api/v1", tags=["picture"])

KML = "application/vnd.google-earth.kml+xml"
GEOJSON = "application/geo+json"
FromQ = Annotated[
    str | None, Query(alias="from", description="window start, RFC 3339 UTC; none: all")
]
ToQ = Annotated[str | None, Query(alias="to", description="window end, RFC 3339 UTC; none: all")]


def _download(body: str, media_type: str, suffix: str, at: str) -> Response:
    name = f"hotline-picture-{at.replace(':', '').replace('.', '')}.{suffix}"
    return Response(
        body,
        media_type=f"{media_type}; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get(
    "/export.kml",
    summary="The picture of a time window as KML",
    response_class=PlainTextResponse,
    responses=text_answer(KML),
)
def export_kml(node: NodeDep, user: UserDep, start: FromQ = None, end: ToQ = None) -> Response:
    got = export.gather(node.tracks, export.parse_window(start, end))
    return _download(export.to_kml(got), KML, "kml", got.at)


@router.get(
    "/export.geojson",
    summary="The picture of a time window as GeoJSON",
    response_class=PlainTextResponse,
    responses=text_answer(GEOJSON),
)
def export_geojson(node: NodeDep, user: UserDep, start: FromQ = None, end: ToQ = None) -> Response:
    got = export.gather(node.tracks, export.parse_window(start, end))
    body = json.dumps(export.to_geojson(got), ensure_ascii=False)
    return _download(body, GEOJSON, "geojson", got.at)
