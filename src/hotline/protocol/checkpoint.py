"""Checkpoints: the log's (origin, size, root) in a note signed with Ed25519.

Two public formats, followed to the letter so that any C2SP tool can check our evidence:

- **c2sp.org/tlog-checkpoint** — the note *text*: the origin line, the tree size in
  decimal without leading zeros, the base64 RFC 9162 root hash, then optional
  extension lines, each line ending in a newline::

      hotline/ru
      8
      XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=

- **c2sp.org/signed-note** (golang.org/x/mod/sumdb/note) — the text, a blank line,
  then one line per signature: em dash (U+2014), space, key name, space,
  ``base64(key ID || signature)``. For Ed25519 the key ID is the first 4 bytes of
  ``SHA-256(name || 0x0A || 0x01 || public key)``, and a verifier key is written
  ``name+<key ID in hex>+base64(0x01 || public key)``.

A node signs its own checkpoint with :func:`sign_note`; the peer co-signs it with
:func:`add_signature` after checking a consistency proof; anyone holding the public
keys checks the result with :func:`open_note` or :func:`open_checkpoint`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import NamedTuple

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from hotline.errors import BadSignature, UnknownKey, ValidationError

__all__ = [
    "MAX_SIGNATURES",
    "Checkpoint",
    "NoteSignature",
    "ParsedNote",
    "add_signature",
    "key_id",
    "open_checkpoint",
    "open_note",
    "parse_note",
    "parse_verifier_key",
    "sign_note",
    "verifier_key_string",
]

ED25519_TYPE = b"\x01"
"""The signed-note signature type byte for Ed25519."""

MAX_SIGNATURES = 100
"""Notes with more signature lines are refused (the spec asks us to accept >= 16)."""

ROOT_SIZE = 32
MAX_TREE_SIZE = 2**63 - 1  # fits a signed 64-bit database column

_SIG_PREFIX = "— "  # U+2014 EM DASH, U+0020 SPACE
_DECIMAL = re.compile(r"0|[1-9][0-9]*")
_HEX_KEY_ID = re.compile(r"[0-9a-fA-F]{8}")


# --- the checkpoint body (c2sp.org/tlog-checkpoint) -----------------------------


@dataclass(frozen=True)
class Checkpoint:
    """A log's signed claim: the tree ``origin`` has ``size`` leaves and this ``root``."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.origin or not _is_single_line(self.origin):
            raise ValidationError(f"a checkpoint origin is one non-empty line: {self.origin!r}")
        size_ok = isinstance(self.size, int) and not isinstance(self.size, bool)
        if not size_ok or not 0 <= self.size <= MAX_TREE_SIZE:
            raise ValidationError(f"a tree size is an int in [0, 2**63), got {self.size!r}")
        if not isinstance(self.root, bytes) or len(self.root) != ROOT_SIZE:
            raise ValidationError(f"a root hash is {ROOT_SIZE} bytes, got {self.root!r:.80}")
        for line in self.extensions:
            if not line or not _is_single_line(line):
                raise ValidationError(f"an extension line is non-empty, one line: {line!r}")

    def body(self) -> str:
        """The note text: origin, size, base64 root, extensions, each ending in \\n."""
        lines = [self.origin, str(self.size), base64.b64encode(self.root).decode()]
        return "".join(line + "\n" for line in (*lines, *self.extensions))

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        """Read a checkpoint body (the note text, not the signed note)."""
        if not isinstance(text, str) or not text.endswith("\n"):
            raise ValidationError("a checkpoint body is text ending in a newline")
        lines = text[:-1].split("\n")
        if len(lines) < 3:
            raise ValidationError(
                f"a checkpoint has at least 3 lines (origin, size, root), got {len(lines)}"
            )
        origin, size, root, *extensions = lines
        if not _DECIMAL.fullmatch(size) or len(size) > 19:
            raise ValidationError(
                f"tree size {size!r} is not a decimal without leading zeros",
                hint="write the size as e.g. 42, never 042, +42 or 4.2e1",
            )
        return cls(origin, int(size), _b64decode(root, "root hash"), tuple(extensions))


def _is_single_line(s: str) -> bool:
    return isinstance(s, str) and not any(c < " " for c in s)


# --- keys ---------------------------------------------------------------------


def _raw_public(public_key: Ed25519PublicKey) -> bytes:
    if not isinstance(public_key, Ed25519PublicKey):
        raise ValidationError(f"expected an Ed25519 public key, got {type(public_key).__name__}")
    return public_key.public_bytes_raw()


def key_id(name: str, public_key: Ed25519PublicKey) -> bytes:
    """SHA-256(name || 0x0A || 0x01 || 32-byte public key)[:4] (signed-note §Signatures)."""
    _require_key_name(name)
    material = name.encode() + b"\n" + ED25519_TYPE + _raw_public(public_key)
    return hashlib.sha256(material).digest()[:4]


def verifier_key_string(name: str, public_key: Ed25519PublicKey) -> str:
    """``name+keyid+base64(0x01 || key)``: a public key as golang.org/x/mod/sumdb/note
    writes it, to pin in configuration or print in an evidence bundle."""
    encoded = base64.b64encode(ED25519_TYPE + _raw_public(public_key)).decode()
    return f"{name}+{key_id(name, public_key).hex()}+{encoded}"


def parse_verifier_key(s: str) -> tuple[str, Ed25519PublicKey]:
    """The (name, public key) of a verifier key string, its key ID checked."""
    if not isinstance(s, str):
        raise ValidationError(f"a verifier key is a str, got {type(s).__name__}")
    name, _, rest = s.partition("+")
    hash16, _, key64 = rest.partition("+")
    if not _is_key_name(name) or not _HEX_KEY_ID.fullmatch(hash16):
        raise ValidationError(f"malformed verifier key {s!r}", hint="expected name+hash+key")
    material = _b64decode(key64, "verifier key")
    if material[:1] != ED25519_TYPE or len(material) != 33:
        raise ValidationError(
            f"verifier key {name} is not an Ed25519 key (type 0x01, 32 bytes)",
            hint="only signature type 0x01, Ed25519, is supported",
        )
    public_key = Ed25519PublicKey.from_public_bytes(material[1:])
    if key_id(name, public_key) != bytes.fromhex(hash16):
        raise ValidationError(f"verifier key {name}: key ID {hash16} does not match the key")
    return name, public_key


def _is_key_name(name: object) -> bool:
    """Non-empty, no Unicode space, no plus, no control character (signed-note §Format)."""
    return (
        isinstance(name, str)
        and name != ""
        and "+" not in name
        and not any(c.isspace() or c < " " for c in name)
    )


def _require_key_name(name: object) -> None:
    if not _is_key_name(name):
        raise ValidationError(
            f"invalid key name {name!r}", hint="a key name is non-empty, without spaces or '+'"
        )


# --- signed notes (c2sp.org/signed-note) ---------------------------------------


class NoteSignature(NamedTuple):
    """One signature line: the key name, its 4-byte key ID and the signature bytes."""

    name: str
    key_id: bytes
    signature: bytes

    def line(self) -> str:
        encoded = base64.b64encode(self.key_id + self.signature).decode()
        return f"{_SIG_PREFIX}{self.name} {encoded}\n"


class ParsedNote(NamedTuple):
    """A note split into its text (final newline included) and signature lines."""

    text: str
    signatures: list[NoteSignature]


def parse_note(note: str | bytes) -> ParsedNote:
    """Split a signed note without verifying anything: for inspection and co-signing.

    The text ends at the *last* blank line; every line after it is a signature.
    """
    note = _note_str(note)
    split = note.rfind("\n\n")
    if split < 0:
        raise ValidationError("not a signed note: no blank line before the signatures")
    text, block = note[: split + 1], note[split + 2 :]
    if not block.endswith("\n"):
        raise ValidationError("a signed note ends with a signature line and a newline")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise ValidationError(f"a note with {len(lines)} signatures (at most {MAX_SIGNATURES})")
    return ParsedNote(text, [_parse_signature_line(line) for line in lines])


def _note_str(note: str | bytes) -> str:
    if isinstance(note, bytes):
        try:
            note = note.decode("utf-8")
        except UnicodeDecodeError as e:
            raise ValidationError("a signed note must be UTF-8") from e
    if not isinstance(note, str):
        raise ValidationError(f"a note is str or bytes, got {type(note).__name__}")
    try:
        note.encode("utf-8")
    except UnicodeEncodeError as e:  # lone surrogates
        raise ValidationError("a signed note must be valid UTF-8") from e
    if any(c < " " and c != "\n" for c in note):
        raise ValidationError("a signed note holds no control characters but newline")
    return note


def _parse_signature_line(line: str) -> NoteSignature:
    if not line.startswith(_SIG_PREFIX):
        raise ValidationError(f"not a signature line (— name signature): {line[:80]!r}")
    name, _, encoded = line[len(_SIG_PREFIX) :].partition(" ")
    if not _is_key_name(name):
        raise ValidationError(f"invalid key name in signature line {line[:80]!r}")
    raw = _b64decode(encoded, f"signature by {name}")
    if len(raw) < 5:
        raise ValidationError(f"signature by {name} is too short ({len(raw)} bytes)")
    return NoteSignature(name, raw[:4], raw[4:])


def _b64decode(s: str, what: str) -> bytes:
    """Standard base64 with padding, canonical only: one spelling per byte string."""
    try:
        raw = base64.b64decode(s.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as e:
        raise ValidationError(f"{what} is not base64: {s[:80]!r}") from e
    if not s or base64.b64encode(raw).decode() != s:
        raise ValidationError(f"{what} is not canonical base64: {s[:80]!r}")
    return raw


def _check_text(text: str) -> None:
    if not isinstance(text, str) or not text.endswith("\n"):
        raise ValidationError("note text must be a str ending in a newline")
    _note_str(text)


def _signature(text: str, name: str, private_key: Ed25519PrivateKey) -> NoteSignature:
    if not isinstance(private_key, Ed25519PrivateKey):
        raise ValidationError(f"expected an Ed25519 private key, got {type(private_key).__name__}")
    kid = key_id(name, private_key.public_key())
    return NoteSignature(name, kid, private_key.sign(text.encode("utf-8")))


def sign_note(text: str, name: str, private_key: Ed25519PrivateKey) -> str:
    """The signed note: ``text``, a blank line, and one signature by ``name``."""
    _check_text(text)
    return text + "\n" + _signature(text, name, private_key).line()


def add_signature(note: str, name: str, private_key: Ed25519PrivateKey) -> str:
    """Co-sign: the same note with a signature by ``name`` appended last.

    Checks no existing signature: verify the note first. A signature already there
    from the same key (name and key ID) is replaced, as golang.org/x/mod/sumdb/note does.
    """
    text, signatures = parse_note(note)
    new = _signature(text, name, private_key)
    kept = [s for s in signatures if (s.name, s.key_id) != (new.name, new.key_id)]
    if len(kept) + 1 > MAX_SIGNATURES:
        raise ValidationError(f"a note carries at most {MAX_SIGNATURES} signatures")
    return text + "\n" + "".join(s.line() for s in (*kept, new))


def open_note(
    note: str | bytes, verifiers: Mapping[str, Ed25519PublicKey]
) -> tuple[str, list[str]]:
    """The note's text and the names of the known keys whose signatures verify.

    Follows c2sp.org/signed-note: a signature is *known* when both its key name and
    key ID match an entry of ``verifiers``; others are ignored. A known signature that
    fails to verify rejects the whole note (:class:`~hotline.errors.BadSignature`);
    a note with no known signature is rejected (:class:`~hotline.errors.UnknownKey`),
    naming the keys it was signed with. Malformed notes raise ValidationError.
    """
    text, signatures = parse_note(note)
    message = text.encode("utf-8")
    known = {name: (key_id(name, key), key) for name, key in verifiers.items()}
    verified: list[str] = []
    for sig in signatures:
        kid, key = known.get(sig.name, (None, None))
        if key is None or kid != sig.key_id or sig.name in verified:
            continue  # unknown key, or a duplicate of a signature already checked
        try:
            key.verify(sig.signature, message)
        except InvalidSignature:
            raise BadSignature(
                f"the signature by {sig.name}+{kid.hex()} does not verify",
                hint="the note was altered after signing, or signed with another key",
                key=f"{sig.name}+{kid.hex()}",
            ) from None
        verified.append(sig.name)
    if not verified:
        found = ", ".join(f"{s.name}+{s.key_id.hex()}" for s in signatures)
        raise UnknownKey(
            f"no signature on this note is by a known key (signed by: {found})",
            hint=f"known keys: {', '.join(sorted(verifiers)) or 'none'}",
        )
    return text, verified


def open_checkpoint(
    note: str | bytes, verifiers: Mapping[str, Ed25519PublicKey]
) -> tuple[Checkpoint, list[str]]:
    """:func:`open_note`, then :meth:`Checkpoint.parse` of the verified text."""
    text, signers = open_note(note, verifiers)
    return Checkpoint.parse(text), signers
