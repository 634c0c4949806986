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

#: Deepest nesting of arrays and objects a request body may have (an envelope needs < 10).
MAX_JSON_DEPTH = 32

_NOT_STRUCTURE = bytes(b for b in range(256) if b not in b'"[]{},')
_SQUARE = bytes.maketrans(b"{}", b"[]")
_STRINGS_AT_ONCE = 65_536


def canonical(value: Any) -> bytes:
    """Return the RFC 8785 canonical bytes of ``value`` (floats refused).

    What signed JSON may hold (strings, safe integers, booleans, null, arrays, objects)
    is written by the standard library's C encoder when every object key is ASCII: for
    those values its output is RFC 8785 byte for byte (the same escapes: ``\\b \\t \\n
    \\f \\r \\" \\\\`` and ``\\u00xx`` for the other controls, every other character as
    it is, in UTF-8; integers in decimal; keys in code-point order, which for ASCII is
    RFC 8785's UTF-16 order). Anything else (a key beyond ASCII, a lone surrogate) goes
    to the ``rfc8785`` package. ``tests/protocol/test_canonical.py`` checks the two agree
    on generated values and every stored test vector.

    >>> canonical({"b": 1, "a": ["x", True, None]})
    b'{"a":["x",true,null],"b":1}'
    """
    if _refuse_floats(value, "$"):
        try:
            return _FAST(value).encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate: rfc8785 refuses it in its words
            pass
    return rfc8785.dumps(value)


_FAST = json.JSONEncoder(
    ensure_ascii=False, allow_nan=False, sort_keys=True, separators=(",", ":")
).encode


def refuse_floats(value: Any, path: str = "$") -> None:
    """Refuse what canonical JSON refuses (floats, unsafe integers, non-JSON values)
    without building the canonical bytes: the check ``parse`` needs on every arrival."""
    _refuse_floats(value, path)


def _refuse_floats(value: Any, path: str) -> bool:
    """Refuse what signed JSON may not hold; whether every object key in it is ASCII."""
    if isinstance(value, float):
        raise MalformedMessage(
            f"{path}: floating-point numbers are not allowed in signed JSON",
            hint='send decimals as strings (e.g. "52.2500000") or integers in fixed units',
        )
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return True
    if isinstance(value, int):
        if abs(value) > _MAX_SAFE_INT:
            raise MalformedMessage(f"{path}: integer {value} is too large for signed JSON")
        return True
    if isinstance(value, dict):
        ascii_keys = True
        for key, item in value.items():
            if not isinstance(key, str):
                raise MalformedMessage(f"{path}: object keys must be strings")
            ascii_keys = _refuse_floats(item, f"{path}.{key}") and key.isascii() and ascii_keys
        return ascii_keys
    if isinstance(value, list | tuple):
        ascii_keys = True
        for index, item in enumerate(value):
            ascii_keys = _refuse_floats(item, f"{path}[{index}]") and ascii_keys
        return ascii_keys
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


def parse_json(raw: bytes, what: str = "request body", *, max_values: int | None = None) -> Any:
    """Parse JSON bytes strictly: UTF-8, no NaN/Infinity, no duplicate keys, nested at
    most :data:`MAX_JSON_DEPTH` deep (and holding at most ``max_values`` values), both
    checked before anything is built (:func:`check_json_shape`)."""
    check_json_shape(raw, max_values=max_values, what=what)

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
    except RecursionError as exc:  # not expected after the shape check; never a 500
        raise MalformedMessage(f"{what} is nested too deeply") from exc


def check_json_shape(
    raw: bytes,
    *,
    max_depth: int = MAX_JSON_DEPTH,
    max_values: int | None = None,
    what: str = "request body",
) -> None:
    """Refuse JSON nested deeper than ``max_depth``, or holding more than ``max_values``
    values, from its bytes alone, before a single object is built.

    What parsing costs is about 64 bytes per value (a short string, an int, an empty
    array or object, a dict entry), whatever the value's own size: ``max_values`` bounds
    it where the size of the body alone does not (``[1,1,…]`` or ``["ab","ab",…]`` build
    30 times their size). Values are counted as commas and arrays and objects.

    Strings are cut out first (they may hold brackets, see :func:`_structure`), then the
    brackets are counted and their innermost pairs removed level by level, at most
    ``max_depth + 1`` times (``{`` counts as ``[`` here). Brackets that do not pair are
    left to the parser to refuse, unless it would descend more than ``max_depth`` levels
    before finding out.
    Every step runs in C (``re``, ``bytes``): a 16 MiB body takes tens of milliseconds,
    and Python's recursion limit (a ``RecursionError`` near depth 1,000) is never reached.

    >>> check_json_shape(b'{"a": [[1], "]]]]"]}', max_depth=3)
    >>> check_json_shape(b"[[[[]]]]", max_depth=3)
    Traceback (most recent call last):
    ...
    hotline.errors.MalformedMessage: request body is nested deeper than 3 levels
    """
    structure = _structure(raw)
    brackets = structure.replace(b",", b"")
    if max_values is not None:
        values = len(structure) - brackets.count(b"]") + 1
        if values > max_values:
            raise MalformedMessage(
                f"{what} holds about {values} values; at most {max_values} are allowed "
                "in a body of its size"
            )
    levels = 0
    while brackets:
        inner = brackets.replace(b"[]", b"")
        if len(inner) == len(brackets):  # the rest does not pair: the parser says why,
            levels += brackets.count(b"[")  # unless it would descend too deep first
            break
        levels += 1
        if levels > max_depth:
            break
        brackets = inner
    if levels > max_depth:
        raise MalformedMessage(f"{what} is nested deeper than {max_depth} levels")


def _structure(raw: bytes) -> bytes:
    """The brackets and commas of JSON ``raw`` outside its strings (``{}`` as ``[]``).

    Escaped backslashes and quotes go first, so every quote left opens or closes a string;
    then all but quotes, brackets and commas; then the strings, those with no bracket or
    comma inside at once (``""``), the others ``_STRINGS_AT_ONCE`` at a time. Only bytes
    operations, and never a Python object per string: the memory stays a few times
    ``raw``, whatever it holds (a regular expression over 3 million strings took 560 MB).
    """
    text = raw.replace(b"\\\\", b"").replace(b'\\"', b"").translate(None, _NOT_STRUCTURE)
    text = text.replace(b'""', b"")
    parts = []
    while b'"' in text:
        pieces = text.split(b'"', 2 * _STRINGS_AT_ONCE)
        if len(pieces) <= 2 * _STRINGS_AT_ONCE:  # the last strings (an odd piece is open)
            text = b"".join(pieces[0::2])
            break
        parts.append(b"".join(pieces[0:-1:2]))
        text = pieces[-1]  # after an even number of quotes: outside any string
    parts.append(text)
    return b"".join(parts).translate(_SQUARE)
