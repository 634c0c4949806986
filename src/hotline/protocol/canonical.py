"""Canonical JSON (RFC 8785) and the hashes and encodings built on it.

Signed JSON never holds floats: two implementations may print the same float
differently, and a coordinate must mean exactly one thing. Coordinates travel as
decimal strings, times as RFC 3339 UTC strings, quantities as integers.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

import rfc8785

from hotline.errors import MalformedMessage

# RFC 8785 follows I-JSON: integers beyond ±2**53 are not exact in every parser.
_MAX_SAFE_INT = 2**53 - 1


def canonical(value: Any) -> bytes:
    """Return the RFC 8785 canonical bytes of ``value`` (floats refused).

    >>> canonical({"b": 1, "a": ["x", True, None]})
    b'{"a":["x",true,null],"b":1}'
    """
    _refuse_floats(value, "$")
    return rfc8785.dumps(value)


def refuse_floats(value: Any, path: str = "$") -> None:
    """Refuse what canonical JSON refuses (floats, unsafe integers, non-JSON values)
    without building the canonical bytes: the check ``parse`` needs on every arrival."""
    _refuse_floats(value, path)


def _refuse_floats(value: Any, path: str) -> None:
    if isinstance(value, float):
        raise MalformedMessage(
            f"{path}: floating-point numbers are not allowed in signed JSON",
            hint='send decimals as strings (e.g. "52.2500000") or integers in fixed units',
        )
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return
    if isinstance(value, int):
        if abs(value) > _MAX_SAFE_INT:
            raise MalformedMessage(f"{path}: integer {value} is too large for signed JSON")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise MalformedMessage(f"{path}: object keys must be strings")
            _refuse_floats(item, f"{path}.{key}")
        return
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _refuse_floats(item, f"{path}[{index}]")
        return
    raise MalformedMessage(f"{path}: {type(value).__name__} is not a JSON value")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def b64encode(data: bytes) -> str:
    """Standard base64 with padding (what the card and signatures use)."""
    return base64.b64encode(data).decode("ascii")


def b64decode(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (ValueError, UnicodeEncodeError) as exc:
        raise MalformedMessage(f"{what} is not valid base64") from exc


def parse_json(raw: bytes, what: str = "request body") -> Any:
    """Parse JSON bytes strictly: UTF-8, no NaN/Infinity, no duplicate keys."""

    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, item in pairs:
            if key in out:
                raise MalformedMessage(f"{what}: duplicate key {key!r}")
            out[key] = item
        return out

    def no_constants(name: str) -> Any:
        raise MalformedMessage(f"{what}: {name} is not valid JSON")

    try:
        return json.loads(
            raw.decode("utf-8"), object_pairs_hook=no_duplicates, parse_constant=no_constants
        )
    except UnicodeDecodeError as exc:
        raise MalformedMessage(f"{what} is not UTF-8 text") from exc
    except json.JSONDecodeError as exc:
        raise MalformedMessage(f"{what} is not valid JSON: {exc.msg} at {exc.pos}") from exc
    except RecursionError:
        raise MalformedMessage(f"{what} is nested too deeply to be read") from None
