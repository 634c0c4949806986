"""Node signing keys: Ed25519 (pyca ``cryptography``), stored as PKCS#8 PEM, mode 0600.

A key is loaded only from a private place: the key file mode 0600 (nothing for group or
others) in a folder mode 0700 (the node's folder); anything more open stops the node,
naming the file and the ``chmod`` that fixes it (:func:`check_private`).

A key is named on the wire by its **fingerprint**: ``ed25519:`` followed by the
lowercase hex SHA-256 of the 32 raw public-key bytes. People compare the fingerprint
out of band (read aloud in groups of four) before trusting a peer's card.
"""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from hotline.errors import ConfigError, MalformedMessage, UnsafePermissions
from hotline.protocol.canonical import b64decode, b64encode


def generate() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def from_seed(seed: bytes) -> Ed25519PrivateKey:
    """A key from its 32-byte seed (tests use fixed seeds for known answers)."""
    return Ed25519PrivateKey.from_private_bytes(seed)


def save_private(key: Ed25519PrivateKey, path: Path) -> None:
    """Write the key readable by its owner only; refuse to overwrite an existing key."""
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)


def check_private(path: Path, what: str) -> None:
    """Refuse ``path`` (a file, or a folder) if its group or others have any access:
    ``UnsafePermissions`` naming ``what`` and the path, the mode and the ``chmod`` that fixes
    it. A path that does not exist is left to its reader."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return
    if mode & 0o077:
        private = "700" if stat.S_ISDIR(mode) else "600"
        raise UnsafePermissions(
            f"{what} {path} is open to other users (mode {stat.S_IMODE(mode):04o}); "
            "the node does not start until it is private",
            hint=f"chmod {private} {path}",
            path=str(path),
        )


def load_private(path: Path) -> Ed25519PrivateKey:
    """The signing key in ``path``, after checking that it and its folder are private."""
    check_private(path.parent, "the signing key's folder")
    check_private(path, "signing key")
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except FileNotFoundError as exc:
        raise ConfigError(f"signing key {path} is missing") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigError(f"{path} does not hold an Ed25519 key")
    return key


def public_raw(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def public_b64(key: Ed25519PublicKey) -> str:
    return b64encode(public_raw(key))


def public_from_b64(text: str) -> Ed25519PublicKey:
    raw = b64decode(text, "public key")
    if len(raw) != 32:
        raise MalformedMessage("an Ed25519 public key is 32 bytes")
    return Ed25519PublicKey.from_public_bytes(raw)


def fingerprint(key: Ed25519PublicKey) -> str:
    return "ed25519:" + hashlib.sha256(public_raw(key)).hexdigest()


def spoken_fingerprint(fp: str) -> str:
    """The fingerprint in groups of four, as read aloud over a voice line.

    >>> spoken_fingerprint("ed25519:" + "ab12" * 16)[:19]
    'AB12 AB12 AB12 AB12'
    """
    digits = fp.split(":", 1)[-1].upper()
    return " ".join(digits[i : i + 4] for i in range(0, len(digits), 4))


def sign(key: Ed25519PrivateKey, message: bytes) -> str:
    return b64encode(key.sign(message))


def verify(key: Ed25519PublicKey, signature_b64: str, message: bytes) -> bool:
    try:
        signature = b64decode(signature_b64, "signature")
    except MalformedMessage:
        return False
    try:
        key.verify(signature, message)
    except InvalidSignature:
        return False
    return True
