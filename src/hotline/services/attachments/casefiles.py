"""The case file: each account's attachments, and the track history around the incident.

An account (``incident_account``) carries files like any message (``POST /api/v1/notices``
with ``attachments``); the case view lists them per version from the signed envelopes (the
same on both nodes), and adds what only this node knows: whether each file is here whole
and verified against its signed SHA-256, still being fetched, or refused (``files``).

The **track history** of a case is this node's recorded picture around it
(:meth:`CaseFiles.track_history`): the reports within a radius of the case's events
(both sides' current accounts), from some minutes before the first event to some minutes
after the last, as deterministic GeoJSON (``geo/casetracks.py``). Attached to this side's
account (:meth:`CaseFiles.tracks_account`: a new version with the same statements and the
export added), it is signed by its SHA-256, carried to the other side and put in the
evidence of the case. When both sides' current accounts carry one and both files are here
whole, the view compares them track by track (``track_comparison``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from hotline.domain.attachments import GEOJSON, MAX_ATTACHMENTS
from hotline.domain.notices.cases import Case
from hotline.errors import Conflict, NotFound, ValidationError
from hotline.geo.casetracks import compare_histories, history_geojson, parse_history
from hotline.services.attachments.service import Attachments
from hotline.services.notices.cases import Cases
from hotline.services.picture.record import MAX_RADIUS_NM, Record

DEFAULT_RADIUS_NM = 20.0
DEFAULT_MINUTES = 15
MAX_MINUTES = 24 * 60

#: How a file's state here is shown in a case: whole and matching its signed SHA-256,
#: being fetched from the sender, or refused (over a limit, or given up).
STATES = {"complete": "verified", "partial": "fetching", "refused": "refused"}


@dataclass
class CaseFiles:
    """A case's files and track history on this node."""

    cases: Cases
    attachments: Attachments
    record: Record

    # -- the view ----------------------------------------------------------------------

    def show(self, case_id: str) -> dict[str, Any]:
        """The case (``Cases.show``) with ``files`` (each attached file's state here) and
        ``track_comparison`` (null until both sides' track histories are here whole)."""
        view = self.cases.show(case_id)
        files: dict[str, dict[str, Any]] = {}
        for accounts in view["accounts"].values():
            for version in accounts["versions"]:
                for ref in version["attachments"]:
                    files.setdefault(ref["sha256"], self._file(ref["sha256"]))
        view["files"] = files
        view["track_comparison"] = self._compare(view, files)
        return view

    def _file(self, digest: str) -> dict[str, Any]:
        try:
            info = self.attachments.info(digest)
        except NotFound:
            return {"state": "missing", "detail": None, "link": None}
        state = STATES.get(info["state"], info["state"])
        return {
            "state": state,
            "detail": info.get("detail"),
            "link": f"/api/v1/attachments/{digest}/content" if state == "verified" else None,
        }

    def _compare(self, view: dict[str, Any], files: dict[str, Any]) -> dict[str, Any] | None:
        histories = {}
        for party in (view["opened_by"], view["other"]):
            found = self._history(view["accounts"][party], files)
            if found is None:
                return None
            histories[party] = found
        first, second = view["opened_by"], view["other"]
        out = compare_histories(first, histories[first][1], second, histories[second][1])
        out["exports"] = {party: histories[party][0] for party in (first, second)}
        return out

    def _history(
        self, accounts: dict[str, Any], files: dict[str, Any]
    ) -> tuple[str, dict[str, Any]] | None:
        """The last track history the party's current version carries, if here whole."""
        if not accounts["current"]:
            return None
        current = accounts["versions"][-1]
        for ref in reversed(current["attachments"]):
            if ref["content_type"] != GEOJSON or files[ref["sha256"]]["state"] != "verified":
                continue
            _info, data = self.attachments.read(ref["sha256"])
            tracks = parse_history(data)
            if tracks is not None:
                return ref["sha256"], tracks
        return None

    # -- the track history -------------------------------------------------------------

    def track_history(
        self,
        case_id: str,
        radius_nm: float = DEFAULT_RADIUS_NM,
        minutes: int = DEFAULT_MINUTES,
    ) -> tuple[str, bytes]:
        """This node's record around the case: (file name, GeoJSON bytes)."""
        if not 0 < radius_nm <= MAX_RADIUS_NM:
            raise ValidationError(
                f"radius_nm {radius_nm} is out of range",
                hint=f"above 0, at most {MAX_RADIUS_NM:.0f}",
                field="radius_nm",
            )
        if not 0 <= minutes <= MAX_MINUTES:
            raise ValidationError(
                f"minutes {minutes} is out of range", hint=f"0 to {MAX_MINUTES}", field="minutes"
            )
        case = self._case(case_id)
        events = [
            e
            for party in (case.opened_by, case.other)
            if (account := case.current(party)) is not None
            for e in account.body.events
        ]
        start = min(e.time for e in events) - timedelta(minutes=minutes)
        end = max(e.time for e in events) + timedelta(minutes=minutes)
        centres = sorted({(float(e.position[1]), float(e.position[0])) for e in events})
        reports = self.record.around(centres, start, end, radius_nm)
        me = self.cases.line.identity.party
        meta = {
            "case": case.id,
            "party": me,
            "radius_nm": radius_nm,
            "minutes": minutes,
            "from": f"{start:%Y-%m-%dT%H:%M:%SZ}",
            "to": f"{end:%Y-%m-%dT%H:%M:%SZ}",
            "centres": [[lon, lat] for lat, lon in centres],
        }
        return f"case-{case.id[:8]}-tracks-{me}.geojson", history_geojson(reports, meta)

    def tracks_account(
        self,
        case_id: str,
        radius_nm: float = DEFAULT_RADIUS_NM,
        minutes: int = DEFAULT_MINUTES,
    ) -> tuple[str, dict[str, Any], list[dict[str, Any]]]:
        """What to send to attach our track history: (to, the account body, the files).

        The body is our current version's statements unchanged; the files are its files
        and the export (stored here once). Refused before we have stated an account, or
        when the same export is already attached."""
        case = self._case(case_id)
        me = self.cases.line.identity.party
        current = case.current(me)
        if current is None:
            raise ValidationError(
                f"{me} has no account in case {case.id} yet: state it first",
                hint="`hotline case account CASE_ID events.json` (or the console's form)",
                field="case",
            )
        name, data = self.track_history(case_id, radius_nm, minutes)
        uploaded = self.attachments.upload(data, name=name, declared=GEOJSON)
        chosen = [{"sha256": a["sha256"], "name": a["name"]} for a in current.attachments]
        if any(c["sha256"] == uploaded["sha256"] for c in chosen):
            raise Conflict(
                f"this track history ({uploaded['sha256'][:16]}…) is already attached to "
                f"{me}'s current account in case {case.id}",
                hint="nothing new was recorded around the incident since",
            )
        if len(chosen) >= MAX_ATTACHMENTS:
            raise ValidationError(
                f"the current account already carries {MAX_ATTACHMENTS} files",
                field="attachments",
            )
        chosen.append({"sha256": uploaded["sha256"], "name": name})
        to = case.other if me == case.opened_by else case.opened_by
        body = current.body.model_dump(mode="json", exclude_none=True)
        return to, body, self.attachments.refs(chosen)

    def _case(self, case_id: str) -> Case:
        case = self.cases.fold(case_id)
        if case is None:
            raise NotFound(
                f"no case {case_id!r} on this node",
                hint="`hotline case list` (GET /api/v1/cases) lists the cases",
            )
        return case
