"""Answer and refer in one place (issue 17, item 4): what the message page offers as its
Answer / Reply, what the compose form is pre-filled with, and readable labels for
references (no HTML here).

* :func:`answer_action` — the answer a received message invites: a deconfliction
  request is answered (the answer form, its ``refers_to`` set to the request); a notice
  of activity may be questioned (a deconfliction request referring to it); a free-text
  message is replied to. Nothing for what is not answered this way (acknowledgements,
  escalations, operator tests — answered from the queue —, our own messages).
* :func:`prefill` — the compose form's starting values for such an answer: the peer, the
  precedence of the message answered, the reference, and for a deconfliction answer the
  request's volumes and times and the notice it is about, shown beside the form.
* :func:`ref_label` — "Deconfliction request 211430Z NOV 26 ← US · R1 is 2 km from…":
  type, date-time group, from (←) or to (→) which peer, and first words;
  :func:`unique_labels` adds the id's start where two would still read the same.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hotline.clock import parse_rfc3339
from hotline.errors import NotFound
from hotline.node import Node
from hotline.render.dtg import format_dtg
from hotline.render.i18n import N_, gettext
from hotline.storage.messages import IN
from hotline.web.i18n import TYPE_LABELS

FIRST_WORDS = 6
#: (tab, notice type, label) of the compose form that answers a received message type
ANSWERS: dict[str, tuple[str, str, str]] = {
    "deconfliction_request": ("notice", "deconfliction_answer", N_("Answer")),
    "activity_notice": ("notice", "deconfliction_request", N_("Request deconfliction")),
    "text": ("text", "", N_("Reply")),
}


def first_words(message: dict[str, Any], count: int = FIRST_WORDS) -> str:
    """The first words of what the sender wrote (free text, a concern, a reason …)."""
    body = message.get("body") or {}
    for key in ("text", "concern", "reason", "remarks", "description", "name"):
        value = body.get(key)
        if isinstance(value, str) and value.strip():
            words = value.split()
            return " ".join(words[:count]) + ("…" if len(words) > count else "")
    return ""


def ref_label(message: dict[str, Any], lang: str) -> str:
    """Type, date-time group of creation, peer and first words: a reference a person reads."""
    type_ = str(message["type"])
    label = gettext(lang, TYPE_LABELS.get(type_, type_))
    dtg = format_dtg(parse_rfc3339(message["created"]), lang)
    words = first_words(message)
    arrow = "←" if message["direction"] == IN else "→"  # from the peer / to the peer
    peer = f"{arrow} {str(message['peer']).upper()}"
    return f"{label} {dtg} {peer}" + (f" · {words}" if words else "")


def unique_labels(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    """Rows ({id, label, …}) whose equal labels are told apart by the start of their id."""
    seen: dict[str, int] = {}
    for row in rows:
        seen[row["label"]] = seen.get(row["label"], 0) + 1
    return [
        r | {"label": f"{r['label']} · {r['id'][:8]}"} if seen[r["label"]] > 1 else r for r in rows
    ]


def answer_action(message: dict[str, Any]) -> dict[str, str] | None:
    """{url, label, id} of the Answer / Reply the message invites, or None."""
    if message["direction"] != IN or message["type"] not in ANSWERS:
        return None
    tab, notice_type, label = ANSWERS[message["type"]]
    query = f"tab={tab}" + (f"&type={notice_type}" if notice_type else "")
    key = "reply_to" if tab == "text" else "ref"
    return {
        "url": f"/console/compose?{query}&{key}={message['id']}",
        "label": label,
        "id": f"answer-{message['id']}",
    }


@dataclass
class Prefill:
    """Starting values of the compose form; empty strings leave the form's defaults."""

    to: str = ""
    precedence: str = "ROUTINE"
    text: str = ""
    ref: str = ""
    #: for an answer: the message answered, its label, volumes, and the notice it is about
    answering: dict[str, Any] = field(default_factory=dict)


def prefill(node: Node, lang: str, ref: str = "", reply_to: str = "") -> Prefill:
    """The form's starting values for answering ``ref`` (a notice) or replying to
    ``reply_to`` (a text); an id not held here (or not received) leaves the defaults."""
    wanted = ref or reply_to
    if not wanted:
        return Prefill()
    try:
        message = node.line.show(wanted)
    except NotFound:
        return Prefill()
    if message["direction"] != IN:
        return Prefill(ref=wanted) if ref else Prefill()
    out = Prefill(to=str(message["peer"]), precedence=str(message["precedence"]))
    if reply_to:
        out.text = f"{ref_label(message, lang)}\n\n"
        return out
    out.ref = wanted
    out.answering = _answering(node, message, lang)
    return out


def _answering(node: Node, message: dict[str, Any], lang: str) -> dict[str, Any]:
    """What the answer form shows of the request: its label, concern, volumes (with their
    times and altitudes) and a link to the notice it refers to."""
    body = message["body"]
    features = [dict(v) for v in body.get("proposed") or body.get("volumes") or []]
    concerns = [dict(c) for c in body.get("concerns") or []]
    if concerns:  # volumes by reference: as this node holds them now
        wanted = {f"{c['message_id']}/{c['volume_id']}": c["volume_id"] for c in concerns}
        for feature in node.conflicts.volumes_geojson()["features"]:
            props = feature["properties"]  # ids there are "<notice id>/<volume id>"
            if props.get("id") in wanted:
                props = props | {"id": wanted[props["id"]]}
                features.append({**feature, "properties": props})
    volumes = [f["properties"] for f in features]
    about: dict[str, str] | None = None
    if body.get("refers_to"):
        try:
            notice = node.line.show(body["refers_to"])
            about = {"id": str(notice["id"]), "label": ref_label(notice, lang)}
        except NotFound:
            about = {"id": "", "label": str(body["refers_to"])}
    return {
        "id": message["id"],
        "label": ref_label(message, lang),
        "concern": body.get("concern", ""),
        "volumes": volumes,
        # for the compose map to frame, and a counter-proposal's rows to start from
        "features": [{k: f[k] for k in ("type", "geometry", "properties")} for f in features],
        "rows": [editable(f) for f in features],
        "concerns": concerns,
        "about": about,
    }


def editable(feature: dict[str, Any]) -> dict[str, Any]:
    """A volume as the compose form's fields: shape, positions one per line (latitude
    first, as typed), radius or width, altitudes, datum and times as typed (UTC)."""
    geometry, props = feature.get("geometry") or {}, feature.get("properties") or {}
    kind = geometry.get("type")
    coords = geometry.get("coordinates") or []
    if kind == "Point":
        shape, points = "circle", [coords]
    elif kind == "LineString":
        shape, points = "corridor", list(coords)
    else:  # a polygon's outer ring, without the first corner repeated at its end
        shape, ring = "polygon", list(coords[0] if coords else [])
        points = ring[:-1] if len(ring) > 1 and ring[0] == ring[-1] else ring
    return {
        "id": str(props.get("id", "")),
        "shape": shape,
        "size_m": props.get("radius_m") or props.get("width_m") or "",
        "coords": "\n".join(f"{_deg(p[1])}, {_deg(p[0])}" for p in points if len(p) >= 2),
        "alt_lower_m": props.get("alt_lower_m", ""),
        "alt_upper_m": props.get("alt_upper_m", ""),
        "datum": props.get("datum", "MSL"),
        "start": typed_time(props.get("start")),
        "end": typed_time(props.get("end")),
    }


def _deg(value: object) -> str:
    """A coordinate as typed: the wire's decimal string as it is, a number to 1e-7°."""
    return value if isinstance(value, str) else f"{float(str(value)):.7f}"


def typed_time(value: object) -> str:
    """``2026-12-03T09:00:00Z`` as the form types it: ``2026-12-03 09:00`` (seconds kept
    when there are any)."""
    if not isinstance(value, str) or len(value) < 16:
        return ""
    seconds = value[16:19] if value[16:19] not in (":00", "") else ""
    return value[:10] + " " + value[11:16] + seconds
