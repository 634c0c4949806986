"""Volume shapes drawn for other programs: a corridor's outline, a circle's ring.

The engines never need these (they measure distances to the centre line or the centre);
a map, a KML file or a TAK client draws polygons, so corridors and circles become rings
here, measured on the ground around them, in degrees.

>>> ring = circle_ring(33.0, 35.0, 1000.0, points=4)
>>> len(ring), ring[0] == ring[-1]
(5, True)
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pyproj import CRS, Transformer
from shapely.geometry import LineString, mapping  # type: ignore[import-untyped]
from shapely.ops import transform  # type: ignore[import-untyped]

from hotline.geo.geodesy import GEOD


def corridor_outline(coords: list[list[float]], width_m: float) -> dict[str, Any]:
    """A corridor's outline polygon (GeoJSON, degrees): its centre line ± half the width,
    measured on the ground in an azimuthal equidistant projection around it."""
    lon0, lat0 = coords[len(coords) // 2]
    local = CRS.from_proj4(f"+proj=aeqd +lat_0={lat0} +lon_0={lon0} +datum=WGS84 +units=m")
    forward = Transformer.from_crs("EPSG:4326", local, always_xy=True).transform
    back = Transformer.from_crs(local, "EPSG:4326", always_xy=True).transform
    shape = transform(forward, LineString(coords)).buffer(width_m / 2, quad_segs=8)
    return dict(mapping(transform(back, shape)))


def circle_ring(lon: float, lat: float, radius_m: float, points: int = 72) -> list[list[float]]:
    """A geodesic circle as a closed ring of ``points`` corners ``[lon, lat]`` (degrees)."""
    azimuths = np.linspace(0.0, 360.0, points + 1)[:-1]
    lons, lats, _ = GEOD.fwd(
        np.full(points, lon), np.full(points, lat), azimuths, np.full(points, radius_m)
    )
    lons = lon + (np.asarray(lons) - lon + 180.0) % 360.0 - 180.0  # no jump at ±180°
    ring = [[round(float(x), 7), round(float(y), 7)] for x, y in zip(lons, lats, strict=True)]
    return [*ring, ring[0]]


def outline(geometry: dict[str, Any], props: dict[str, Any]) -> dict[str, Any]:
    """A volume's or area's geometry as a Polygon: corridors and circles drawn as rings."""
    if geometry["type"] == "LineString" and props.get("width_m"):
        return corridor_outline(geometry["coordinates"], float(props["width_m"]))
    if geometry["type"] == "Point" and props.get("radius_m"):
        lon, lat = geometry["coordinates"][:2]
        ring = circle_ring(float(lon), float(lat), float(props["radius_m"]))
        return {"type": "Polygon", "coordinates": [ring]}
    return geometry
