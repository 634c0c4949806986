"""The log's self-check: rebuild the Merkle tree from the stored entry bytes and compare it
with everything this node has said about its log before.

A node must not sign from ``log_state`` alone: that row is only a cache of the frontier.
Before it signs a checkpoint, builds a proof or exports evidence, the node rereads every
entry, hashes it again (``SHA-256(0x00 || entry)``) and checks that

- the entries are numbered 0, 1, 2 … with no gap (a removed row shows here);
- each entry's bytes hash to the leaf hash stored beside them (an edited entry);
- the recomputed root equals the head kept in ``log_state``;
- the first *n* entries still hash to the root of every checkpoint of size *n* this node
  signed or had co-signed (a log rewritten consistently, ``log_state`` included).

The cost is one pass over the log: O(total entry bytes) reading and hashing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from hotline.errors import ValidationError
from hotline.protocol import merkle
from hotline.storage import evidence as store
from hotline.storage.db import Connection
from hotline.storage.evidence import SignedRow, StoredEntry

#: At most this many problems are spelled out; the rest are counted.
MAX_PROBLEMS = 20


@dataclass
class LogAudit:
    """The log as rebuilt from its entries, and what does not add up."""

    size: int = 0
    hashes: list[bytes] = field(default_factory=list)  # recomputed from the entry bytes
    root: bytes = merkle.EMPTY_ROOT
    problems: list[str] = field(default_factory=list)
    omitted: int = 0

    @property
    def whole(self) -> bool:
        """True when the log agrees with itself and with every checkpoint signed of it."""
        return not self.problems

    def problem(self, text: str) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(text)
        else:
            self.omitted += 1

    def summary(self) -> str:
        """The problems in one paragraph, for an error message and the evidence table."""
        more = f"; and {self.omitted} more" if self.omitted else ""
        return "; ".join(self.problems) + more

    def consistency_proof(self, old_size: int, new_size: int) -> list[bytes]:
        return merkle.consistency_proof_from_hashes(self.hashes, old_size, new_size)

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        return merkle.inclusion_proof_from_hashes(self.hashes, index, size)

    def root_at(self, size: int) -> bytes:
        return merkle.root_from_hashes(self.hashes[:size])


def audit_log(conn: Connection, signed: Iterable[SignedRow]) -> LogAudit:
    """Reread the whole log (one pass) and check it against ``signed`` checkpoints of it."""
    state_size, state_hashes = store.state_head(conn)
    audit = LogAudit()
    rows = sorted(signed, key=lambda r: r.size)
    wanted = {row.size for row in rows}
    roots = {0: merkle.EMPTY_ROOT}
    frontier = merkle.Frontier.empty()
    for stored in store.iter_entries(conn, state_size):
        h = merkle.leaf_hash(stored.entry)
        _check_entry(audit, stored, h, len(audit.hashes))
        audit.hashes.append(h)
        frontier.append(h)
        if frontier.size in wanted:
            roots[frontier.size] = frontier.root()
    audit.size, audit.root = frontier.size, frontier.root()
    _check_state(audit, state_size, state_hashes)
    for row in rows:
        _check_signed(audit, row, roots.get(row.size))
    return audit


def _check_entry(audit: LogAudit, stored: StoredEntry, leaf: bytes, expected: int) -> None:
    if stored.idx != expected:
        audit.problem(f"entry {expected} is missing (the next stored entry is {stored.idx})")
    if leaf != stored.leaf_hash:
        audit.problem(
            f"entry {stored.idx} ({stored.kind} of {stored.ref}): its bytes no longer hash "
            "to the leaf hash stored beside them"
        )


def _check_state(audit: LogAudit, state_size: int, state_hashes: list[bytes]) -> None:
    if audit.size != state_size:
        audit.problem(f"log_state counts {state_size} entries but {audit.size} are stored")
        return
    try:
        state_root = merkle.Frontier.from_list(state_size, state_hashes).root()
    except ValidationError as exc:
        audit.problem(f"log_state is unreadable: {exc.message}")
        return
    if state_root != audit.root:
        audit.problem(
            f"the root recomputed from the {audit.size} stored entries differs from the "
            "log head kept in log_state"
        )


def _check_signed(audit: LogAudit, row: SignedRow, root: bytes | None) -> None:
    whose = f"co-signed by {row.cosigner}" if row.cosigner else "signed by this node"
    if root is None:
        audit.problem(
            f"a checkpoint at size {row.size} was {whose} on {row.at}, but the log now "
            f"holds only {audit.size} entries (a rollback)"
        )
    elif root.hex() != row.root:
        audit.problem(
            f"the first {row.size} entries no longer hash to the root of the checkpoint "
            f"{whose} on {row.at}"
        )
