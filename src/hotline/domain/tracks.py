"""Track reports: one track's state as a sensor or a feed saw it, and the body that carries
a party's own tracks to the other side (``track_report``)."""

from __future__ import annotations

import unicodedata
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from hotline.domain.line import HIDDEN_CATEGORIES

# 48 characters: an alarm subject holds two ids and a sign in its 100.
TrackId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,47}$")]
Party = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9-]{0,31}$")]

#: Most tracks in one ``track_report`` envelope (about 200 bytes each on the wire).
MAX_SHARED = 1000


class TrackReport(BaseModel):
    """One report of one track (degrees, metres, m/s, degrees true)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: TrackId
    party: Party
    lat: Annotated[float, Field(ge=-90.0, le=90.0, allow_inf_nan=False)]
    lon: Annotated[float, Field(ge=-180.0, le=180.0, allow_inf_nan=False)]
    alt_m: Annotated[float, Field(ge=-1000.0, le=100_000.0, allow_inf_nan=False)]
    gs_mps: Annotated[float, Field(ge=0.0, le=2000.0, allow_inf_nan=False)]
    trk_deg: Annotated[float, Field(ge=-360.0, le=360.0, allow_inf_nan=False)]
    vs_mps: Annotated[float, Field(ge=-500.0, le=500.0, allow_inf_nan=False)] = 0.0
    time: str | None = Field(None, description="RFC 3339 UTC time of the report; now if absent")
    callsign: Annotated[str, StringConstraints(max_length=32)] | None = None

    @field_validator("callsign")
    @classmethod
    def _printable_callsign(cls, value: str | None) -> str | None:
        """A call sign is shown on maps, written into CoT and KML (XML 1.0 holds no C0
        control) and recorded (PostgreSQL text holds no NUL): a control, formatting
        (bidirectional, zero-width) or surrogate character in it is refused. Feed decoders
        clean call signs first (:func:`hotline.protocol.feeds.common.label`)."""
        for char in value or "":
            if unicodedata.category(char) in HIDDEN_CATEGORIES:
                raise ValueError(
                    f"callsign holds the control or formatting character U+{ord(char):04X}"
                )
        return value


class SharedTrack(TrackReport):
    """A track as shared on the line: its time is always given, its numbers are strings.

    RFC 8785 signing refuses floats, so the numbers travel as decimal strings (at most
    7 decimals for degrees, 1 for metres and m/s) and are parsed back on arrival.
    """

    time: str


class TrackReportBody(BaseModel):
    """``track_report``: the sender's own tracks, as its feed last reported them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["track_report"] = "track_report"
    tracks: Annotated[list[dict[str, str]], Field(min_length=1, max_length=MAX_SHARED)]

    @model_validator(mode="after")
    def _each_track_valid(self) -> TrackReportBody:
        for k, row in enumerate(self.tracks):
            try:
                SharedTrack.model_validate(row)
            except ValueError as exc:
                raise ValueError(f"tracks[{k}]: {exc}") from None
        return self


NUMBERS = {"lat": 7, "lon": 7, "alt_m": 1, "gs_mps": 2, "trk_deg": 2, "vs_mps": 2}


def to_wire(report: TrackReport, time: str) -> dict[str, str]:
    """A track for a ``track_report`` body: numbers as decimal strings, time given.

    >>> to_wire(TrackReport(id="U1", party="us", lat=35.4, lon=35.29, alt_m=5000,
    ...                     gs_mps=250, trk_deg=90), "2026-11-22T04:00:00.000Z")["lat"]
    '35.4000000'
    """
    out = {"id": report.id, "party": report.party, "time": time}
    for name, places in NUMBERS.items():
        out[name] = f"{getattr(report, name):.{places}f}"
    if report.callsign:
        out["callsign"] = report.callsign
    return out
