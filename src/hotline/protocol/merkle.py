"""The RFC 9162 §2.1 Merkle tree behind each node's tamper-evident log.

Every envelope sent and received, every receipt and acknowledgement is an *entry*
``d[i]`` of an append-only list ``D[n]``; the log's state at size ``n`` is the Merkle
Tree Hash ``MTH(D[n])`` (RFC 9162 §2.1.1, identical to RFC 6962 §2.1)::

    MTH({})    = SHA-256()                                   the empty tree
    MTH({d0})  = SHA-256(0x00 || d0)                         a leaf
    MTH(D[n])  = SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n])) k = largest power of 2 < n

Two ways in: over raw entries (``root``, ``inclusion_proof``, ``consistency_proof``),
for tests and tools that hold the whole log in memory; and over stored leaf hashes
(``*_from_hashes``), which is what a node keeps in its database. Proofs recompute the
subtrees they need from the leaf hashes: O(size) hashing per proof.

:class:`Frontier` is the O(log n) state that appends a leaf hash and gives the current
root without rereading the log. The verifiers are pure and strict: a wrong index,
size, root or proof gives ``False``; only arguments of the wrong *type* raise
:class:`~hotline.errors.ValidationError`.

>>> root([b"a"]) == leaf_hash(b"a")
True
>>> verify_inclusion(b"b", 1, 3, inclusion_proof([b"a", b"b", b"c"], 1, 3),
...                  root([b"a", b"b", b"c"]))
True
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

from hotline.errors import ValidationError

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "Frontier",
    "consistency_proof",
    "consistency_proof_from_hashes",
    "inclusion_proof",
    "inclusion_proof_from_hashes",
    "leaf_hash",
    "node_hash",
    "root",
    "root_from_hashes",
    "verify_consistency",
    "verify_inclusion",
    "verify_inclusion_hash",
]

HASH_SIZE = 32
"""Bytes in every hash of the tree (SHA-256)."""

EMPTY_ROOT = hashlib.sha256(b"").digest()
"""MTH({}), the root of the empty tree: SHA-256 of the empty string (§2.1.1)."""

_sha256 = hashlib.sha256


# --- §2.1.1 hashing -----------------------------------------------------------------


def leaf_hash(entry: bytes) -> bytes:
    """MTH({d}) = SHA-256(0x00 || d): the hash of one log entry (§2.1.1)."""
    _require_bytes("entry", entry)
    return _sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right): an interior node (§2.1.1)."""
    _require_bytes("left", left)
    _require_bytes("right", right)
    return _sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """k, the largest power of two smaller than n (n >= 2), as in §2.1.1."""
    return 1 << ((n - 1).bit_length() - 1)


def _perfect(leaf_hashes: Sequence[bytes], start: int, end: int) -> bytes:
    """MTH(D[start:end]) for a perfect subtree (end - start a power of two): paired up
    level by level, 2**level - 1 node hashes."""
    row = list(leaf_hashes[start:end])
    while len(row) > 1:
        row = [_sha256(b"\x01" + row[i] + row[i + 1]).digest() for i in range(0, len(row), 2)]
    return row[0]


def _mth(leaf_hashes: Sequence[bytes], start: int, end: int) -> bytes:
    """MTH(D[start:end]) for a range whose start is a multiple of bit_ceil(end - start).

    Every range the §2.1 recursions visit has that shape, so its left part D[start:k]
    is always a perfect subtree and the right part recurses down the right edge.
    """
    n = end - start
    if n & (n - 1) == 0:
        return _perfect(leaf_hashes, start, end)
    k = _split(n)
    left = _perfect(leaf_hashes, start, start + k)
    return _sha256(b"\x01" + left + _mth(leaf_hashes, start + k, end)).digest()


# --- §2.1.3 inclusion proofs ----------------------------------------------------------


def _inclusion_path(leaf_hashes: Sequence[bytes], index: int, size: int) -> list[bytes]:
    """PATH(m, D[n]) of §2.1.3.1, with m = ``index`` and n = ``size``.

    PATH(m, D[n]) = PATH(m, D[0:k]) : MTH(D[k:n])    for m < k
    PATH(m, D[n]) = PATH(m - k, D[k:n]) : MTH(D[0:k]) for m >= k
    The walk goes from the root down, so the list is built backwards and reversed.
    """
    _require_index(index, size)
    proof: list[bytes] = []
    start, end, m = 0, size, index
    while end - start > 1:
        k = _split(end - start)
        if m < k:
            proof.append(_mth(leaf_hashes, start + k, end))
            end = start + k
        else:
            proof.append(_mth(leaf_hashes, start, start + k))
            start, m = start + k, m - k
    proof.reverse()
    return proof


def verify_inclusion_hash(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """Whether ``proof`` shows the leaf with this hash at ``index`` in the tree ``root``.

    The algorithm of §2.1.3.2 verbatim, after a check of the proof's length.
    """
    _require_int("index", index)
    _require_int("size", size)
    _require_bytes("leaf_hash", leaf_hash)
    _require_bytes("root", root)
    _require_proof(proof)
    if not 0 <= index < size or not _all_hash_sized(leaf_hash, root, proof):
        return False  # step 1, and hashes of the wrong size
    inner = (index ^ (size - 1)).bit_length()
    if len(proof) != inner + (index >> inner).bit_count():
        return False
    fn, sn, r = index, size - 1, leaf_hash  # steps 2 and 3
    for p in proof:  # step 4
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = _sha256(b"\x01" + p + r).digest()
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = _sha256(b"\x01" + r + p).digest()
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == root  # step 5


def verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """Whether ``proof`` shows the raw entry ``leaf`` at ``index`` in the tree ``root``."""
    return verify_inclusion_hash(leaf_hash(leaf), index, size, proof, root)


# --- §2.1.4 consistency proofs ------------------------------------------------------------


def _consistency_path(leaf_hashes: Sequence[bytes], old_size: int, new_size: int) -> list[bytes]:
    """PROOF(m, D[n]) = SUBPROOF(m, D[n], true) of §2.1.4.1; empty when m is 0 or n.

    SUBPROOF(m, D[m], true)  = {}
    SUBPROOF(m, D[m], false) = {MTH(D[m])}
    SUBPROOF(m, D[n], b)     = SUBPROOF(m, D[0:k], b) : MTH(D[k:n])         for m <= k
    SUBPROOF(m, D[n], b)     = SUBPROOF(m - k, D[k:n], false) : MTH(D[0:k]) for m > k
    """
    _require_size("old_size", old_size)
    _require_size("new_size", new_size)
    if old_size > new_size:
        raise ValidationError(
            f"no consistency proof from size {old_size} to the smaller size {new_size}"
        )
    if old_size in (0, new_size):
        return []
    proof: list[bytes] = []
    start, end, m, b = 0, new_size, old_size, True
    while m != end - start:
        k = _split(end - start)
        if m <= k:
            proof.append(_mth(leaf_hashes, start + k, end))
            end = start + k
        else:
            proof.append(_mth(leaf_hashes, start, start + k))
            start, m, b = start + k, m - k, False
    if not b:
        proof.append(_mth(leaf_hashes, start, end))
    proof.reverse()
    return proof


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """Whether ``proof`` shows the tree ``new_root`` extends the tree ``old_root``.

    §2.1.4.2 covers 0 < old_size < new_size. Outside it: equal sizes need equal roots
    and an empty proof; the empty tree (size 0, root SHA-256()) precedes every tree.
    """
    _require_int("old_size", old_size)
    _require_int("new_size", new_size)
    _require_bytes("old_root", old_root)
    _require_bytes("new_root", new_root)
    _require_proof(proof)
    if not 0 <= old_size <= new_size or not _all_hash_sized(old_root, new_root, proof):
        return False
    if old_size == new_size:
        return not proof and old_root == new_root
    if old_size == 0:
        return not proof and old_root == EMPTY_ROOT
    if len(proof) != _consistency_proof_length(old_size, new_size):
        return False
    return _consistency_roots(old_size, new_size, old_root, proof) == (old_root, new_root)


def _consistency_proof_length(old_size: int, new_size: int) -> int:
    """Hashes in PROOF(m, D[n]): the path of leaf m - 1, less the part below the
    largest perfect subtree ending at m, plus MTH of that subtree unless it is D[0:m]."""
    shift = (old_size & -old_size).bit_length() - 1  # trailing zero bits of m
    inner = ((old_size - 1) ^ (new_size - 1)).bit_length()
    border = ((old_size - 1) >> inner).bit_count()
    return (old_size != 1 << shift) + inner - shift + border


def _consistency_roots(
    old_size: int, new_size: int, old_root: bytes, proof: Sequence[bytes]
) -> tuple[bytes, bytes] | None:
    """Steps 2 to 6 of §2.1.4.2: the (fr, sr) the proof leads to, or None.

    Step 1 (refuse an empty path) is the caller's length check.
    """
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # step 2: m is an exact power of 2
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1  # step 3
    while fn & 1:  # step 4: skip the levels where D[0:m] is the left child
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]  # step 5
    for c in path[1:]:  # step 6
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            fr = _sha256(b"\x01" + c + fr).digest()
            sr = _sha256(b"\x01" + c + sr).digest()
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = _sha256(b"\x01" + sr + c).digest()
        fn, sn = fn >> 1, sn >> 1
    return (fr, sr) if sn == 0 else None


# --- over leaf hashes and raw entries ---------------------------------------------


def root_from_hashes(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH of the tree whose leaf hashes are ``leaf_hashes`` (§2.1.1)."""
    return Frontier.from_leaf_hashes(leaf_hashes).root()


def inclusion_proof_from_hashes(leaf_hashes: Sequence[bytes], index: int, size: int) -> list[bytes]:
    """PATH(index, D[size]) from the stored hashes of the first ``size`` leaves."""
    _require_within("size", size, len(leaf_hashes))
    for h in leaf_hashes[:size]:
        _require_leaf_hash(h)
    return _inclusion_path(leaf_hashes, index, size)


def consistency_proof_from_hashes(
    leaf_hashes: Sequence[bytes], old_size: int, new_size: int
) -> list[bytes]:
    """PROOF(old_size, D[new_size]) from the stored hashes of the leaves."""
    _require_within("new_size", new_size, len(leaf_hashes))
    for h in leaf_hashes[:new_size]:
        _require_leaf_hash(h)
    return _consistency_path(leaf_hashes, old_size, new_size)


def root(leaves: Sequence[bytes]) -> bytes:
    """MTH(D[n]) of raw entries (§2.1.1)."""
    return root_from_hashes([leaf_hash(d) for d in leaves])


def inclusion_proof(leaves: Sequence[bytes], index: int, size: int) -> list[bytes]:
    """PATH(index, D[size]) over raw entries (§2.1.3.1)."""
    _require_within("size", size, len(leaves))
    return inclusion_proof_from_hashes([leaf_hash(d) for d in leaves[:size]], index, size)


def consistency_proof(leaves: Sequence[bytes], old_size: int, new_size: int) -> list[bytes]:
    """PROOF(old_size, D[new_size]) over raw entries (§2.1.4.1)."""
    _require_within("new_size", new_size, len(leaves))
    hashes = [leaf_hash(d) for d in leaves[:new_size]]
    return consistency_proof_from_hashes(hashes, old_size, new_size)


# --- the frontier -------------------------------------------------------------------


class Frontier:
    """The right edge of the tree: what it takes to append and know the root.

    Holds MTH of one perfect subtree per set bit of ``size``, largest (leftmost) first:
    a tree of 6 leaves keeps MTH(D[0:4]) and MTH(D[4:6]). Appending merges equal-sized
    subtrees like a binary counter carries; the root folds them right to left (§2.1.1).
    Store it as ``(size, to_list())`` and restore it with :meth:`from_list`.
    """

    __slots__ = ("_hashes", "_root", "_size")

    def __init__(self) -> None:
        self._size = 0
        self._hashes: list[bytes] = []
        self._root: bytes | None = EMPTY_ROOT  # None: to be folded again

    @classmethod
    def empty(cls) -> Frontier:
        """The frontier of the empty tree."""
        return cls()

    @classmethod
    def from_list(cls, size: int, hashes: Iterable[bytes]) -> Frontier:
        """Restore a frontier saved with :meth:`to_list`, checking it fits ``size``."""
        _require_size("size", size)
        hashes = list(hashes)
        if len(hashes) != size.bit_count() or not all(_is_hash(h) for h in hashes):
            raise ValidationError(
                f"a frontier of size {size} holds {size.bit_count()} hashes of "
                f"{HASH_SIZE} bytes, got {len(hashes)}",
                hint="pass the size and the list saved together from the same Frontier",
            )
        frontier = cls()
        frontier._size, frontier._hashes = size, hashes
        frontier._root = None if size else EMPTY_ROOT
        return frontier

    @classmethod
    def from_leaf_hashes(cls, leaf_hashes: Iterable[bytes]) -> Frontier:
        """The frontier after appending every hash of ``leaf_hashes`` in order."""
        frontier = cls()
        for h in leaf_hashes:
            frontier.append(h)
        return frontier

    @property
    def size(self) -> int:
        """Leaves appended so far."""
        return self._size

    def to_list(self) -> list[bytes]:
        """The subtree hashes, largest first: a copy, safe to store."""
        return list(self._hashes)

    def append(self, leaf_hash: bytes) -> None:
        """Append one leaf hash: amortised two SHA-256 calls."""
        _require_leaf_hash(leaf_hash)
        hashes, carry, h = self._hashes, self._size, leaf_hash
        while carry & 1:  # the lowest subtree has a twin now: merge them
            h = _sha256(b"\x01" + hashes.pop() + h).digest()
            carry >>= 1
        hashes.append(h)
        self._size += 1
        self._root = None

    def root(self) -> bytes:
        """MTH(D[size]): the subtrees folded right to left (§2.1.1), kept until the
        next append."""
        if self._root is None:
            h = self._hashes[-1]
            for left in reversed(self._hashes[:-1]):
                h = _sha256(b"\x01" + left + h).digest()
            self._root = h
        return self._root

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Frontier):
            return NotImplemented
        return (self._size, self._hashes) == (other._size, other._hashes)

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        return f"Frontier(size={self._size}, root={self.root().hex()[:16]}…)"


# --- argument checks ----------------------------------------------------------------


def _require_bytes(name: str, value: object) -> None:
    if not isinstance(value, bytes):
        raise ValidationError(f"{name} must be bytes, got {type(value).__name__}")


def _require_int(name: str, value: object) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValidationError(f"{name} must be an int, got {type(value).__name__}")


def _require_size(name: str, value: object) -> None:
    _require_int(name, value)
    if isinstance(value, int) and value < 0:
        raise ValidationError(f"{name} must be >= 0, got {value}")


def _require_index(index: int, size: int) -> None:
    _require_size("size", size)
    _require_int("index", index)
    if not 0 <= index < size:
        raise ValidationError(f"leaf index {index} is outside a tree of size {size}")


def _require_within(name: str, size: int, available: int) -> None:
    _require_size(name, size)
    if size > available:
        raise ValidationError(f"{name} {size} is larger than the {available} leaves given")


def _require_proof(proof: object) -> None:
    if isinstance(proof, str | bytes) or not isinstance(proof, Sequence):
        raise ValidationError(f"a proof is a sequence of hashes, got {type(proof).__name__}")
    for p in proof:
        _require_bytes("proof hash", p)


def _is_hash(value: object) -> bool:
    return isinstance(value, bytes) and len(value) == HASH_SIZE


def _require_leaf_hash(value: object) -> None:
    if not _is_hash(value):
        raise ValidationError(f"a leaf hash is {HASH_SIZE} bytes, got {value!r:.80}")


def _all_hash_sized(a: bytes, b: bytes, proof: Sequence[bytes]) -> bool:
    return len(a) == len(b) == HASH_SIZE and all(len(p) == HASH_SIZE for p in proof)
