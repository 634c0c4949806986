"""What the console's map shows: declared volumes, areas and conflicts, as GeoJSON.

Volumes come from the notices this node sent and received (activity notices,
deconfliction requests, counter-proposals); each becomes a Feature from
``Volume.to_geojson(party, id_prefix=message_id)``, so its id is ``<message id>/<volume
id>``, the id the deconfliction engine and the conflicts service use. A corridor is sent
with its outline (the centre line buffered by half its width, measured on the ground in
an azimuthal equidistant projection around it) so the browser need not do geodesy.

Conflicts are the node's own (``node.conflicts.listing()``) when the node has that
service; before sending, ``Notices.prepare`` gives the conflicts a draft would make, and
:func:`describe_preview` names the other side's volume and party for the page.
"""

from __future__ import annotations

from typing import Any

from hotline.domain.notices.models import parse_notice
from hotline.geo.geodesy import GEOD
from hotline.geo.shapes import corridor_outline
from hotline.node import Node
from hotline.services.picture.export import with_symbols
from hotline.storage.messages import IN, OUT

VOLUME_TYPES = ("activity_notice", "deconfliction_request", "deconfliction_answer")
DRAFT = "draft"


def features_of(row: dict[str, Any], party: str, own: bool) -> list[dict[str, Any]]:
    notice = parse_notice(row["body"])
    base = {
        "message_id": row["id"],
        "type": row["type"],
        "own": own,
        "precedence": row["precedence"],
        "created": row["created"],
        "activity": getattr(notice, "activity", None),
    }
    out = []
    for volume in getattr(notice, "volumes", None) or ():
        feature = volume.to_geojson(party, id_prefix=row["id"])
        feature["properties"] |= base | {"volume_id": volume.properties.id}
        out.append(feature)
    for name in ("launch_area", "impact_area"):
        area = getattr(notice, name, None)
        if area is not None:
            feature = area.to_geojson()
            feature["properties"] |= base | {"area": name, "party": party}
            out.append(feature)
    return out


def message_features(node: Node, limit: int = 500) -> list[dict[str, Any]]:
    """Features of every volume and area in the newest notices sent and received."""
    me = node.identity.party
    out: list[dict[str, Any]] = []
    for direction in (OUT, IN):
        for row in node.line.listing(direction, limit=limit):
            if row["type"] not in VOLUME_TYPES:
                continue
            party = me if direction == OUT else row["peer"]
            out.extend(features_of(row, party, direction == OUT))
    return out


def area_features(node: Node) -> list[dict[str, Any]]:
    """The protected areas in force, own and the other side's, as map features.

    Each feature's ``id`` is the key conflicts use (``<message id>/<area id>``).
    """
    me = node.identity.party
    out = []
    for area in node.conflicts.areas():
        feature = area.to_geojson()
        props = feature["properties"]
        feature["properties"] = props | {
            "id": area.key,
            "area_id": area.area.id,
            "protected": True,
            "own": area.party == me,
        }
        out.append(feature)
    return out


def track_picture(node: Node) -> dict[str, Any]:
    """The live picture for the map: each track with where it will be at the look-ahead,
    and its 2525 symbol (``sidc``: the one the CoT output's type is made from)."""
    picture = node.tracks.assess()
    tracks = picture["tracks"] = with_symbols(node.tracks, picture["tracks"])
    if tracks:
        ahead = picture["settings"]["lookahead_s"]
        lon2, lat2, _ = GEOD.fwd(
            [t["lon"] for t in tracks],
            [t["lat"] for t in tracks],
            [t["trk_deg"] for t in tracks],
            [t["gs_mps"] * ahead for t in tracks],
        )
        for track, lo, la in zip(tracks, lon2, lat2, strict=True):
            track["ahead"] = [round(float(lo), 5), round(float(la), 5)]
            track["own"] = track["party"] == node.identity.party
    return picture


def theatre(setting: str) -> list[list[float]] | None:
    """The ``map_theatre`` setting as Leaflet bounds ``[[south, west], [north, east]]``."""
    if not setting:
        return None
    south, west, north, east = (float(v) for v in setting.split(","))
    return [[south, west], [north, east]]


def for_display(features: list[dict[str, Any]]) -> dict[str, Any]:
    """A FeatureCollection for the browser: corridors replaced by their outlines."""
    shown = []
    for feature in features:
        geometry, props = feature["geometry"], feature["properties"]
        if geometry["type"] == "LineString" and props.get("width_m"):
            props = props | {"centreline": geometry["coordinates"]}
            geometry = corridor_outline(geometry["coordinates"], props["width_m"])
        shown.append({"type": "Feature", "geometry": geometry, "properties": props})
    return {"type": "FeatureCollection", "features": shown}


def node_conflicts(node: Node) -> list[dict[str, Any]] | None:
    """The node's open conflicts (closed ones are history, not alerts), or None when this
    node has no conflicts service."""
    service = getattr(node, "conflicts", None)
    if service is None:
        return None
    found: list[dict[str, Any]] = service.listing(state="open")
    return found


def describe_preview(node: Node, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The node's pre-send conflicts (``Prepared.conflicts``) for people: which draft volume
    meets which volume of which party, in which notice."""
    parties = {
        f["properties"]["message_id"]: f["properties"]["party"] for f in message_features(node)
    }
    parties |= {a.message_id: a.party for a in node.conflicts.areas()}
    out = []
    for record in records:
        ours, theirs = record["a"], record["b"]
        if ours["message_id"] in parties:  # the draft is whichever side is not stored yet
            ours, theirs = theirs, ours
        out.append(
            record
            | {
                "draft_volume": ours["volume_id"],
                "message_id": theirs["message_id"],
                "volume_id": theirs["volume_id"],
                "party": parties.get(theirs["message_id"], "?"),
            }
        )
    return out
