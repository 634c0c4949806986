"""Reading tracks from CSV or JSON into arrays, with errors that name the row and field.

The CSV has a header with (at least) ``id,party,lat,lon,alt_m,gs_mps,trk_deg,vs_mps``
(:data:`COLUMNS`); the JSON is a list of objects with those keys. Units: degrees, metres,
m/s, degrees true.  Public: :class:`Tracks` and :func:`load_tracks` (also re-exported by
:mod:`hotline.geo.tactical.engine`), used by the command line and by incursions.

Examples
--------
>>> import tempfile
>>> with tempfile.TemporaryDirectory() as tmp:
...     path = Path(tmp) / "tracks.csv"
...     _ = path.write_text(
...         "id,party,lat,lon,alt_m,gs_mps,trk_deg,vs_mps\\n"
...         "T1,blue,35.0,36.0,3000,200,90,0\\n"
...     )
...     tracks = load_tracks(path)
>>> len(tracks), tracks.ids, tracks.party, tracks.gs_mps.tolist()
(1, ('T1',), ('blue',), [200.0])
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from hotline.errors import ValidationError

__all__ = ["COLUMNS", "NUMBER_FIELDS", "TEXT_FIELDS", "Tracks", "load_tracks"]

FloatArray = npt.NDArray[np.float64]

TEXT_FIELDS = ("id", "party")
NUMBER_FIELDS = ("lat", "lon", "alt_m", "gs_mps", "trk_deg", "vs_mps")
COLUMNS = TEXT_FIELDS + NUMBER_FIELDS
# Inclusive ranges; trk wraps, but a value beyond a full turn is a unit mistake.
_RANGES = {
    "lat": (-90.0, 90.0),
    "lon": (-180.0, 180.0),
    "gs_mps": (0.0, 2000.0),
    "trk_deg": (-360.0, 360.0),
}


@dataclass(frozen=True)
class Tracks:
    """Tracks as aligned arrays (one element per track) plus their ids and parties."""

    ids: tuple[str, ...]
    party: tuple[str, ...]
    lat: FloatArray
    lon: FloatArray
    alt_m: FloatArray
    gs_mps: FloatArray
    trk_deg: FloatArray
    vs_mps: FloatArray

    def __len__(self) -> int:
        return len(self.ids)


def load_tracks(path: str | Path) -> Tracks:
    """Read tracks from a CSV file or a JSON list (chosen by content, not by name).

    Raises
    ------
    hotline.errors.ValidationError
        Naming the file, the row (CSV line or JSON item) and the field at fault.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationError(f"{path}: cannot read tracks ({exc})") from None
    if text.lstrip().startswith("["):
        rows, where = _json_rows(path, text)
    else:
        rows, where = _csv_rows(path, text)
    return _tracks(path, rows, where)


def _json_rows(path: Path, text: str) -> tuple[list[dict[str, Any]], list[str]]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationError(f"{path}: line {exc.lineno}: not valid JSON ({exc.msg})") from None
    if not isinstance(data, list):
        raise ValidationError(f"{path}: expected a JSON list of track objects")
    for k, item in enumerate(data):
        if not isinstance(item, dict):
            raise ValidationError(f"{path}: item {k}: expected an object with {', '.join(COLUMNS)}")
        missing = [c for c in COLUMNS if c not in item]
        if missing:
            raise ValidationError(f"{path}: item {k}: field '{missing[0]}' is missing")
    return data, [f"item {k}" for k in range(len(data))]


def _csv_rows(path: Path, text: str) -> tuple[list[dict[str, Any]], list[str]]:
    reader = csv.DictReader(text.splitlines())
    header = reader.fieldnames or []
    missing = [c for c in COLUMNS if c not in [h.strip() for h in header]]
    if missing:
        raise ValidationError(
            f"{path}: line 1: column '{missing[0]}' is missing",
            hint=f"the header needs {','.join(COLUMNS)}",
        )
    rows, where = [], []
    for row in reader:
        cleaned = {(k or "").strip(): v for k, v in row.items()}
        if all(not (v or "").strip() for v in row.values() if isinstance(v, str)):
            continue  # a blank line
        rows.append(cleaned)
        where.append(f"line {reader.line_num}")
    return rows, where


def _tracks(path: Path, rows: Sequence[dict[str, Any]], where: list[str]) -> Tracks:
    texts = {
        f: [_text(path, where[k], f, r.get(f)) for k, r in enumerate(rows)] for f in TEXT_FIELDS
    }
    _no_duplicates(path, texts["id"], where)
    numbers = {}
    for field in NUMBER_FIELDS:
        values = [_number(path, where[k], field, r.get(field)) for k, r in enumerate(rows)]
        numbers[field] = np.array(values, dtype=np.float64)
    return Tracks(ids=tuple(texts["id"]), party=tuple(texts["party"]), **numbers)


def _text(path: Path, where: str, field: str, value: Any) -> str:
    if value is None:
        raise ValidationError(f"{path}: {where}: field '{field}' is missing")
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValidationError(f"{path}: {where}: field '{field}' must be a string, got {value!r}")
    text = str(value).strip()
    if not text:
        raise ValidationError(f"{path}: {where}: field '{field}' is empty")
    return text


def _number(path: Path, where: str, field: str, value: Any) -> float:
    if value is None:
        raise ValidationError(f"{path}: {where}: field '{field}' is missing")
    if isinstance(value, bool):
        raise ValidationError(f"{path}: {where}: field '{field}' must be a number, got {value!r}")
    try:
        number = float(value.strip() if isinstance(value, str) else value)
    except (TypeError, ValueError):
        raise ValidationError(
            f"{path}: {where}: field '{field}' is not a number: {value!r}"
        ) from None
    if not math.isfinite(number):
        raise ValidationError(f"{path}: {where}: field '{field}' is not finite: {value!r}")
    low, high = _RANGES.get(field, (-math.inf, math.inf))
    if not low <= number <= high:
        raise ValidationError(
            f"{path}: {where}: field '{field}' = {number:g} is outside [{low:g}, {high:g}]"
        )
    return number


def _no_duplicates(path: Path, ids: list[str], where: list[str]) -> None:
    seen: dict[str, int] = {}
    for k, track_id in enumerate(ids):
        if track_id in seen:
            raise ValidationError(
                f"{path}: {where[k]}: field 'id' repeats {track_id!r} "
                f"(first at {where[seen[track_id]]})"
            )
        seen[track_id] = k
