"""One mapping from a track to its MIL-STD-2525 / APP-6 symbol and its Cursor-on-Target type.

The console draws each track with the 2525 symbol identification code (SIDC) given here,
and the CoT writer (:mod:`hotline.protocol.feeds.cot_out`) types each track's event with
the CoT type given here: both come from the same two facts, so a TAK user and a duty
officer see the same affiliation and the same battle dimension.

- **Affiliation, from this node's point of view**: this node's party is *friend*; a party
  named as hostile (none by default) is *hostile*; the peers on the line are *neutral*
  (the other side of a deconfliction line is a counterpart, not a target: the console has
  always drawn it so); anyone else (a third party, an unidentified contact) is *unknown*.
- **Battle dimension** from the track: an ADS-B track (``icao:``) is *air*, an AIS track
  (``mmsi:``) is *sea surface*; any other track is *air* when it flies (above 100 m or
  faster than 60 m/s), else *ground*.

>>> symbol("us", "us", ("ru",), "icao:4CA2D6", 10_000.0, 230.0)
Symbol(affiliation='friend', dimension='air', cot_type='a-f-A', sidc='SFAP-----------')
>>> symbol("us", "ru", ("ru",), "mmsi:273350000", 0.0, 6.0).cot_type
'a-n-S'
>>> symbol("us", "xx", ("ru",), "cot:T1", 0.0, 2.0, hostile=("xx",)).sidc
'SHGP-----------'
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal, NamedTuple

Affiliation = Literal["friend", "hostile", "neutral", "unknown"]
Dimension = Literal["air", "surface", "ground"]

AFFILIATIONS: tuple[Affiliation, ...] = ("friend", "hostile", "neutral", "unknown")
DIMENSIONS: tuple[Dimension, ...] = ("air", "surface", "ground")

#: One letter each, the same in CoT (lowercase, ``a-f-…``) and 2525 (uppercase, ``SF…``).
AFFILIATION_LETTER: dict[Affiliation, str] = {
    "friend": "f",
    "hostile": "h",
    "neutral": "n",
    "unknown": "u",
}
DIMENSION_LETTER: dict[Dimension, str] = {"air": "A", "surface": "S", "ground": "G"}

FLYING_ALT_M = 100.0  # above this a track of unknown kind is taken as airborne
FLYING_GS_MPS = 60.0  # ~117 kt: faster than any ship or ground vehicle we track


class Symbol(NamedTuple):
    affiliation: Affiliation
    dimension: Dimension
    cot_type: str  # e.g. a-f-A
    sidc: str  # 2525C, 15 characters, e.g. SFAP-----------


def affiliation(
    me: str, party: str, peers: Iterable[str], hostile: Iterable[str] = ()
) -> Affiliation:
    """A party's affiliation as this node (of party ``me``) sees it."""
    if party == me:
        return "friend"
    if party in set(hostile):
        return "hostile"
    if party in set(peers):
        return "neutral"
    return "unknown"


def dimension(track_id: str, alt_m: float, gs_mps: float) -> Dimension:
    """A track's battle dimension: from its source when the id says it, else from motion."""
    if track_id.startswith("icao:"):
        return "air"
    if track_id.startswith("mmsi:"):
        return "surface"
    return "air" if alt_m > FLYING_ALT_M or gs_mps > FLYING_GS_MPS else "ground"


def coded(aff: Affiliation, dim: Dimension) -> Symbol:
    """The CoT type and the 2525C SIDC (status present, no function) of one combination."""
    a, d = AFFILIATION_LETTER[aff], DIMENSION_LETTER[dim]
    return Symbol(aff, dim, f"a-{a}-{d}", f"S{a.upper()}{d}P-----------")


def symbol(
    me: str,
    party: str,
    peers: Iterable[str],
    track_id: str,
    alt_m: float,
    gs_mps: float,
    *,
    hostile: Iterable[str] = (),
) -> Symbol:
    """A track's symbol as this node sees it (see the module's docstring)."""
    return coded(affiliation(me, party, peers, hostile), dimension(track_id, alt_m, gs_mps))
