"""Building blocks shared by every notice body: strict scalar types and error conversion.

Notice bodies travel inside signed envelopes whose signature covers the RFC 8785
canonical JSON of the body, and the protocol forbids floats there. So every type here
is a string, an integer or a boolean, validated strictly (``3000.0`` is not an integer,
``21.0`` is not a coordinate), and every type serialises back to exactly the text it
was parsed from: times are whole seconds with a ``Z``, coordinates stay the decimal
strings the sender wrote.

Pydantic reports problems as a tree of error dicts; :func:`to_validation_error` turns
them into one :class:`hotline.errors.ValidationError` whose message names each field
path, e.g. ``volumes[0].geometry.coordinates: polygon ring is not closed``. Validators
that compare two fields raise :func:`field_error` so the path ends at the field that is
wrong (``volumes[0].properties.end``) rather than at the object holding both.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import pydantic
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    StrictInt,
    StringConstraints,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

from hotline.errors import ValidationError

FIELD_ERROR = "hotline_field"
"""Pydantic error type whose context names the field, below the object that raised it."""


def field_error(field: str, message: str) -> PydanticCustomError:
    """An error for a model validator that blames one of the model's own fields.

    Raise it from a ``model_validator``; :func:`to_validation_error` appends ``field``
    to the error's location so the message names the offending field itself.
    """
    return PydanticCustomError(FIELD_ERROR, "{message}", {"field": field, "message": message})


# --- times ---------------------------------------------------------------------------

_UTC_PATTERN = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$"
_UTC_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def parse_utc(value: object) -> datetime:
    """Accept ``YYYY-MM-DDTHH:MM:SSZ`` or an aware datetime in whole seconds."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("datetime must be timezone-aware (UTC)")
        parsed = value.astimezone(UTC)
    elif isinstance(value, str):
        # strptime alone would accept one-digit fields; the pattern keeps the text canonical
        try:
            if not re.fullmatch(_UTC_PATTERN, value):
                raise ValueError(value)
            parsed = datetime.strptime(value, _UTC_FORMAT).replace(tzinfo=UTC)
        except ValueError:
            raise ValueError(
                f"{value!r} is not an RFC 3339 UTC time in whole seconds "
                "(expected e.g. 2026-11-21T14:30:00Z)"
            ) from None
    else:
        raise ValueError("time must be a string such as 2026-11-21T14:30:00Z")
    if parsed.microsecond:
        raise ValueError("time must be in whole seconds")
    return parsed


def format_utc(value: datetime) -> str:
    """The wire form of a time: RFC 3339, UTC, whole seconds, ``Z`` suffix."""
    return value.astimezone(UTC).strftime(_UTC_FORMAT)


UtcTime = Annotated[
    datetime,
    BeforeValidator(parse_utc),
    PlainSerializer(format_utc, return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time", "pattern": _UTC_PATTERN}),
]
"""A UTC instant; on the wire ``2026-11-21T14:30:00Z`` (the text round-trips exactly)."""


# --- scalars -------------------------------------------------------------------------

Text = Annotated[str, StringConstraints(min_length=1, max_length=8000, pattern=r"\S")]
"""Free text in the sender's language, kept exactly as written (not stripped)."""

ShortText = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"\S")]
"""A name or designation: one line of free text."""

MessageRef = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")]
"""The id of another message on the line (an envelope ``id``), e.g. a ULID or UUID."""

Count = Annotated[StrictInt, Field(ge=0, le=10_000_000)]
"""A number of people or things; never a float."""

Frequency = Annotated[
    str,
    StringConstraints(pattern=r"^(\d{1,6}|\d{1,5}\.\d{1,4}) (kHz|MHz|GHz)$"),
    Field(examples=["121.500 MHz", "2182 kHz"]),
]
"""A radio frequency with its unit, e.g. ``121.500 MHz``: number, one space, kHz/MHz/GHz."""

UnitKind = Literal[
    "aircraft",
    "helicopter",
    "uav",
    "surface_ship",
    "submarine",
    "ground_unit",
    "missile",
    "other",
]


class Unit(BaseModel):
    """A unit, platform or group taking part: ``{designation, kind, count}``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    designation: ShortText
    kind: UnitKind
    count: Annotated[StrictInt, Field(ge=1, le=1_000_000)]


# --- pydantic errors -> hotline errors -----------------------------------------------


def _path(loc: Sequence[int | str], tags: frozenset[str]) -> str:
    """``('volumes', 0, 'geometry', 'Polygon', 'coordinates')`` -> ``volumes[0].geometry...``.

    Discriminated unions put the tag of the chosen member into the location; it names
    no field, so it is dropped.
    """
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part not in tags:
            out += f".{part}" if out else part
    return out


def _describe(error: Any, tags: frozenset[str]) -> tuple[str, str]:
    """The field path and the message of one pydantic error dict."""
    loc = list(error["loc"])
    ctx = error.get("ctx") or {}
    kind = error["type"]
    if kind == FIELD_ERROR:
        loc.append(ctx["field"])
    elif kind in ("union_tag_not_found", "union_tag_invalid"):
        loc.append(ctx.get("discriminator", "'type'").strip("'"))
    message = str(error["msg"]).removeprefix("Value error, ")
    if kind == "int_type" and isinstance(error.get("input"), float):
        message = f"must be an integer, not {error['input']!r} (signed JSON forbids floats)"
    return _path(loc, tags) or "(body)", message


def _is_echo(error: Any, errors: Sequence[Any]) -> bool:
    """A list's "too short" error caused only by its items failing: say it once, below."""
    if error["type"] != "too_short":
        return False
    loc = tuple(error["loc"])
    return any(len(e["loc"]) > len(loc) and tuple(e["loc"][: len(loc)]) == loc for e in errors)


def to_validation_error(exc: pydantic.ValidationError, tags: Iterable[str] = ()) -> ValidationError:
    """One :class:`ValidationError` listing every problem as ``path: message``."""
    tagset = frozenset(tags)
    errors = exc.errors()
    problems = [_describe(e, tagset) for e in errors if not _is_echo(e, errors)]
    message = "; ".join(f"{path}: {text}" for path, text in problems)
    return ValidationError(
        message,
        hint="fix the named field and send again; docs/notices.md describes each type",
        field=problems[0][0] if problems else None,
    )
