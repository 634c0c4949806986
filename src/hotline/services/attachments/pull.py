"""Fetching a peer's attachments: the receiver pulls, chunk by chunk, and resumes.

When an envelope with attachments is stored, each file not already here is ``partial``
(``service.py``). The job ``attachments`` (:meth:`Puller.step`, on the active process)
then, per file: reads the sender's *manifest* (``GET /federation/v1/attachments/SHA``:
chunk size and each chunk's SHA-256), fetches each missing chunk
(``GET …/SHA/chunks/N``), checks its length and hash against the manifest before writing
it (a chunk that does not match is refused: :class:`~hotline.errors.ChunkMismatch`, and
nothing stored changes), and commits each chunk in its own transaction — so a sender (or
this node) that dies mid-transfer costs at most the chunk under way: the next round asks
only for the chunks still missing. With every chunk here, the whole file is hashed and
compared with the SHA-256 the sender *signed* in the envelope, and its bytes are checked
to be of the type signed (the content check of an upload): only then is it ``complete``.
A file whose chunks match a lying manifest but not the signed hash is dropped and fetched
again; after :data:`MAX_FAILURES` refusals, or bytes not of the signed type, it is
``refused`` with an alarm (``attachment_refused``).
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx

from hotline.clock import parse_rfc3339, rfc3339
from hotline.domain.attachments import content_type_of
from hotline.errors import ChunkMismatch, HotlineError, PeerRefused, Unreachable
from hotline.protocol import tls
from hotline.protocol.canonical import parse_json
from hotline.services.alarms import raise_alarm
from hotline.services.line.service import Line
from hotline.services.line.tls import NodeTls, PeerClients
from hotline.services.runtime.jobs import Next
from hotline.storage import attachments as store
from hotline.storage import messages, peers
from hotline.storage.db import Connection

#: ``fetch(peer, path)``: the body of a 200 answer to ``GET path`` on the peer's
#: federation API; raises :class:`Unreachable` (try later) or :class:`PeerRefused`.
Fetch = Callable[[str, str], bytes]

PATH = "/federation/v1/attachments/"
CHUNKS_PER_STEP = 32  # then the job steps again at once: other files get their turn
MAX_FAILURES = 20  # refusals of one file before it is given up (alarm)
MIN_CHUNK, MAX_CHUNK = 1024, 4_194_304  # bytes: the chunk sizes a manifest may name
#: A file the sender does not serve (``404``) is asked again after 5 s, 10 s, 20 s … at
#: most an hour apart: given up (alarm) after :data:`MAX_FAILURES`, some 11 hours.
MISSING_RETRY_S, MISSING_RETRY_CAP_S = 5.0, 3600.0
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


@dataclass
class Puller:
    """Fetches the files of received messages from their senders."""

    line: Line
    fetch: Fetch
    #: Chunks written since this puller was made (tests count them to see a resume).
    fetched: int = field(default=0, init=False)

    def step(self) -> Next:
        """One round: up to :data:`CHUNKS_PER_STEP` chunks of the files due now."""
        with self.line.db.read() as conn:
            wanted = store.wanted(conn, self.line.now())
        if not wanted:
            return Next.IDLE
        budget, failed, down = CHUNKS_PER_STEP, False, set()
        for blob in wanted:
            if blob["peer"] in down:
                continue  # not asked again this round: its files wait their turn
            try:
                budget = self._pull(blob, budget)
            except Unreachable:
                failed = True  # this peer now; the others still get their turn
                down.add(blob["peer"])
                self._postpone(blob)
            except (PeerRefused, ChunkMismatch):
                failed = True  # counted on the file (``_refuse``)
            if budget <= 0:
                return Next.AGAIN
        return Next.BACK_OFF if failed else Next.AGAIN

    def run(self, rounds: int = 1000) -> None:
        """Step until nothing is left to fetch or a step fails (tests, the CLI)."""
        for _ in range(rounds):
            if self.step() is not Next.AGAIN:
                return

    def _get(self, blob: dict[str, Any], path: str) -> bytes:
        """The peer's answer; a refusal by the peer (it does not serve the file: ``404``)
        or an answer too large is counted on the file."""
        try:
            return self.fetch(blob["peer"], path)
        except PeerRefused as exc:
            if exc.context.get("peer_status") != 404:
                raise
            self._refuse(blob, f"missing at the sender: {exc.message}", missing=True)
            raise
        except ChunkMismatch as exc:
            self._refuse(blob, exc.message)
            raise

    def _pull(self, blob: dict[str, Any], budget: int) -> int:
        digest, manifest = blob["sha256"], blob["chunks"]
        if manifest is None:
            chunk_size, manifest = self._manifest(blob)
            blob = blob | {"chunk_size": chunk_size, "chunks": manifest}
        else:
            chunk_size = blob["chunk_size"]
        with self.line.db.read() as conn:
            have = store.chunk_hashes(conn, digest)
        for idx in range(len(manifest)):
            if idx in have:
                continue
            if budget <= 0:
                return budget
            data = self._get(blob, f"{PATH}{digest}/chunks/{idx}")
            expected = min(chunk_size, blob["size"] - idx * chunk_size)
            got = hashlib.sha256(data).hexdigest()
            if len(data) != expected or got != manifest[idx]:
                self._refuse(
                    blob,
                    f"chunk {idx}: {len(data)} bytes hashing to {got[:16]}…, "
                    f"not the {expected} bytes announced ({manifest[idx][:16]}…)",
                )
            if not self._store_chunk(blob, idx, got, data):
                return budget  # the file changed under us (uploaded here): read it again
            self.fetched += 1
            budget -= 1
        self._finish(blob)
        return budget

    def _store_chunk(self, blob: dict[str, Any], idx: int, chunk_hash: str, data: bytes) -> bool:
        """One verified chunk, committed on its own: what a restart keeps. False (nothing
        written) if the file is no longer the one being fetched by this manifest."""

        def work(conn: Connection) -> bool:
            if not _current(conn, blob):
                return False
            store.put_chunk(conn, blob["sha256"], idx, chunk_hash, data)
            return True

        return self.line.db.transaction(work)

    def _manifest(self, blob: dict[str, Any]) -> tuple[int, list[str]]:
        digest, size = blob["sha256"], blob["size"]
        raw = self._get(blob, PATH + digest)
        try:
            obj = parse_json(raw, "attachment manifest")
        except HotlineError as exc:
            self._refuse(blob, f"manifest: {exc.message}")
        chunk_size = obj.get("chunk_size") if isinstance(obj, dict) else None
        chunks = obj.get("chunks") if isinstance(obj, dict) else None
        if (
            not isinstance(chunk_size, int)
            or not MIN_CHUNK <= chunk_size <= MAX_CHUNK
            or not isinstance(chunks, list)
            or len(chunks) != math.ceil(size / chunk_size)
            or not all(isinstance(c, str) and _HEX64.match(c) for c in chunks)
            or obj.get("sha256") != digest
            or obj.get("size") != size
        ):
            self._refuse(blob, "manifest: not the chunks of a file of the signed size")
        assert isinstance(chunk_size, int) and isinstance(chunks, list)

        def keep(conn: Connection) -> None:
            if _current(conn, blob):
                store.update_blob(conn, digest, chunk_size=chunk_size, chunks=chunks)

        self.line.db.transaction(keep)
        return chunk_size, chunks

    def _finish(self, blob: dict[str, Any]) -> None:
        """Every chunk is here: the whole must hash to what the sender signed."""
        digest = blob["sha256"]
        with self.line.db.read() as conn:
            data = b"".join(store.chunks(conn, digest))
        whole = hashlib.sha256(data)
        if whole.hexdigest() != digest:

            def drop(conn: Connection) -> bool:
                if not _current(conn, blob):
                    return False  # uploaded here meanwhile: those chunks are not ours
                store.drop_chunks(conn, digest)
                store.update_blob(
                    conn, digest, state="partial", completed_at=None, chunks=None, chunk_size=None
                )
                return True

            if not self.line.db.transaction(drop):
                return
            self._refuse(
                blob,
                f"the whole file hashes to {whole.hexdigest()[:16]}…, not the "
                "SHA-256 signed in the envelope: dropped, to be fetched again",
            )
        now = self.line.now()
        try:  # the bytes are what was signed; are they the type signed, too?
            content_type_of(data, blob["content_type"])
        except ValueError as exc:
            self._give_up(blob, f"not the signed type: {exc}")
            return

        def done(conn: Connection) -> None:
            if not _current(conn, blob):
                return
            store.update_blob(
                conn, digest, state="complete", completed_at=now, detail=None, retry_at=None
            )
            for message_id in store.messages_with(conn, digest):
                messages.add_event(conn, message_id, now, "attachment_complete", sha256=digest)

        self.line.db.transaction(done)

    def _give_up(self, blob: dict[str, Any], detail: str) -> None:
        """Refuse a whole file for good (its chunks dropped, never served to a person),
        with an alarm."""
        digest, now = blob["sha256"], self.line.now()

        def work(conn: Connection) -> None:
            if not _current(conn, blob):
                return
            store.refuse(conn, digest, detail)
            raise_alarm(conn, "attachment_refused", digest, now, peer=blob["peer"], reason=detail)

        self.line.db.transaction(work)

    def _postpone(self, blob: dict[str, Any]) -> None:
        """Its sender cannot be reached: not counted, but behind the files due now."""
        now = self.line.now()

        def work(conn: Connection) -> None:
            if _current(conn, blob):
                store.update_blob(conn, blob["sha256"], retry_at=now)

        self.line.db.transaction(work)

    def _refuse(self, blob: dict[str, Any], detail: str, *, missing: bool = False) -> None:
        """Count the refusal (give the file up after :data:`MAX_FAILURES`), put the file
        behind the others (``missing``, a ``404``: later and later) and raise it."""
        digest, now = blob["sha256"], self.line.now()

        def work(conn: Connection) -> None:
            row = store.get(conn, digest, lock=True)
            if row is None or row["state"] != "partial":
                return  # uploaded here, or given up, meanwhile
            delay = min(MISSING_RETRY_S * 2 ** row["failures"], MISSING_RETRY_CAP_S)
            store.failed(conn, digest, detail, _later(now, delay if missing else 0.0))
            if row["failures"] + 1 >= MAX_FAILURES:
                store.refuse(conn, digest, detail)
                raise_alarm(
                    conn, "attachment_refused", digest, now, peer=blob["peer"], reason=detail
                )

        self.line.db.transaction(work)
        if missing:
            return
        raise ChunkMismatch(f"attachment {digest[:16]}… from {blob['peer']}: {detail}")


def _current(conn: Connection, blob: dict[str, Any]) -> bool:
    """Locks the file's row: is it still partial and fetched by the same manifest? (An
    officer may upload the same bytes meanwhile: the file is then whole, and ours.)"""
    row = store.get(conn, blob["sha256"], lock=True)
    return (
        row is not None
        and row["state"] == "partial"
        and row["chunks"] in (None, blob["chunks"])
        and row["peer"] == blob["peer"]
    )


def _later(now: str, seconds: float) -> str:
    return rfc3339(parse_rfc3339(now) + timedelta(seconds=seconds))


def answer_limit(path: str, max_file: int) -> int:
    """The most bytes a peer's answer to ``GET path`` may hold: a chunk, or the manifest
    of the largest file this node takes (each chunk's hash, 64 hex digits, quoted)."""
    if "/chunks/" in path:
        return MAX_CHUNK
    return 1024 + 70 * math.ceil(max_file / MIN_CHUNK)


class HttpFetch:
    """:data:`Fetch` over the federation API: mutual TLS pinned by the peer's card,
    trying the peer's endpoints in turn. An answer is read as it streams in, and refused
    (:class:`ChunkMismatch`) as soon as it is longer than any chunk or manifest may be."""

    def __init__(self, line: Line, node_tls: NodeTls | None) -> None:
        self.line = line
        self.clients = PeerClients(node_tls, line.settings.request_timeout_s)

    def __call__(self, peer: str, path: str) -> bytes:
        with self.line.db.read() as conn:
            row = peers.get(conn, peer)
        if row is None:
            raise PeerRefused(0, "not_pinned", f"the peer {peer!r} is not pinned")
        client = self.clients(row)
        limit = answer_limit(path, self.line.settings.max_attachment_bytes)
        errors = []
        for endpoint in row.endpoints:
            problem = tls.plain_http_problem([endpoint], self.line.settings.allow_plain_http)
            if problem:
                errors.append(f"{endpoint}: not asked: {problem}")
                continue
            try:
                with client.stream("GET", endpoint.rstrip("/") + path) as response:
                    if response.status_code == 200:
                        return _bounded(response, limit, f"{peer}'s answer to {path}")
                    status = response.status_code
            except httpx.HTTPError as exc:
                errors.append(f"{endpoint}: {type(exc).__name__}: {exc}")
                continue
            if status == 404:
                raise PeerRefused(404, "not_found", f"{peer} does not serve {path}")
            errors.append(f"{endpoint}: HTTP {status}")
        raise Unreachable(f"no endpoint of {peer} answered {path}: " + "; ".join(errors))

    def close(self) -> None:
        self.clients.close()


def _bounded(response: httpx.Response, limit: int, what: str) -> bytes:
    """The body, read no further than ``limit`` bytes (the connection is then closed)."""
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise ChunkMismatch(f"{what} announces {declared} bytes, over the {limit} it may hold")
    body = bytearray()
    for part in response.iter_bytes():
        body += part
        if len(body) > limit:
            raise ChunkMismatch(f"{what} is longer than the {limit} bytes it may hold")
    return bytes(body)
