"""Evidence: checkpoints of the node's Merkle log, co-signed by its peers, and the forks seen.

Each node signs a checkpoint of its log — ``hotline/<party>``, size, root, as a C2SP
signed note — and asks each peer to co-sign it. The peer co-signs only after a
consistency proof from the last checkpoint of that log it co-signed; a rollback or a
fork is refused, kept as evidence (both notes, the failed proof, the time) and raised
as a ``log_fork`` alarm on the node that sees it.

Before it signs anything, a node rebuilds its tree from the stored entry bytes
(``evidence_audit.py``): a log rewritten in the database is refused by the node itself
when the rewrite contradicts what it signed before, and by the peer otherwise.

The wire format is in ``evidence_cosign.py``, bundles in ``evidence_bundle.py`` and
their offline check in ``evidence_verify.py``. ``docs/evidence.md`` tells the whole story.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from hotline.clock import Clock, parse_rfc3339, rfc3339
from hotline.config import NodeSettings
from hotline.errors import (
    Conflict,
    HotlineError,
    LogFork,
    MalformedMessage,
    NotFound,
    PeerRefused,
    UnknownKey,
    Unreachable,
    ValidationError,
)
from hotline.protocol import keys
from hotline.protocol.checkpoint import (
    Checkpoint,
    add_signature,
    open_checkpoint,
    parse_note,
    sign_note,
)
from hotline.services.alarms import raise_alarm
from hotline.services.evidence.audit import LogAudit, audit_log
from hotline.services.evidence.cosign import (
    EVIDENCE_KINDS,
    ORIGIN_PREFIX,
    CosignRequest,
    Verdict,
    judge,
    origin,
    parse_request,
    post_checkpoint,
)
from hotline.services.line.identity import Identity
from hotline.services.line.tls import NodeTls, PeerClients
from hotline.storage import evidence as store
from hotline.storage import log, peers
from hotline.storage.db import Connection, Database

logger = logging.getLogger(__name__)


class Evidence:
    """One node's checkpoints, co-signatures and fork evidence."""

    def __init__(
        self,
        db: Database,
        identity: Identity,
        settings: NodeSettings,
        clock: Clock,
        node_tls: NodeTls | None = None,
    ) -> None:
        self.tls = node_tls  # mutual TLS with each peer's pinned certificate (None: plain)
        self.db = db
        self.identity = identity
        self.settings = settings
        self.clock = clock
        self.origin = origin(identity.party)
        self._exchange_lock = threading.Lock()
        self._next_due: datetime | None = None
        #: Told of every exchange: (peer, None) when the peer answered (whatever it
        #: judged), (peer, message) when no endpoint answered; the node feeds the link
        #: state with it (``services/line/linkstate.py``).
        self.on_exchange: Callable[[str, str | None], None] | None = None

    def now(self) -> str:
        return rfc3339(self.clock.now())

    # -- reading -------------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        """The log's head, its latest co-signed checkpoint (and per peer) with their ages."""
        with self.db.read() as conn:
            head = log.head(conn)
            cosigned = store.cosigned_list(conn, self.identity.party)
            forks = store.count_forks(conn)
        now = self.clock.now()
        rows = [self._cosigned_out(row, now) for row in cosigned]
        latest = max(rows, key=lambda r: (r["cosigned_at"], r["size"]), default=None)
        return {
            "origin": self.origin,
            "size": head.size,
            "root": head.root.hex(),
            "last_cosigned": latest,
            "cosigned_by": rows,
            "forks": forks,
        }

    @staticmethod
    def _cosigned_out(row: store.SignedRow, now: datetime) -> dict[str, Any]:
        age = (now - parse_rfc3339(row.at)).total_seconds()
        return {
            "cosigner": row.cosigner,
            "size": row.size,
            "root": row.root,
            "checkpoint": row.note,
            "cosigned_at": row.at,
            "age_s": max(0, int(age)),
        }

    def forks(self, limit: int = 200) -> list[dict[str, Any]]:
        """Every rollback, fork or damage this node has seen, newest first."""
        with self.db.read() as conn:
            return store.forks(conn, limit)

    # -- this node's checkpoints ---------------------------------------------------------

    def exchanged(self, recent: int) -> dict[str, Any]:
        """Checkpoints of each peer's log with both signatures, and our ``recent`` latest
        signed ones, newest first (read only: ``state()`` gives only the last co-signature)."""
        with self.db.read() as conn:
            theirs = {
                peer.party: store.cosigned_list(conn, peer.party) for peer in peers.all_peers(conn)
            }
            signed = store.signed_checkpoints(conn)[-recent:]
        return {"peer_logs": theirs, "signed": list(reversed(signed))}

    def audit(self) -> LogAudit:
        """Rebuild the log from its entries and check it against every checkpoint of it."""
        with self.db.read() as conn:
            signed = store.signed_checkpoints(conn)
            signed += store.cosigned_sizes(conn, self.identity.party)
            return audit_log(conn, signed)

    def sign_checkpoint(self, audit: LogAudit | None = None) -> tuple[str, LogAudit]:
        """Audit the log (unless given a fresh audit), then sign and keep a checkpoint of
        it; refuse if the log is damaged."""
        audit = audit or self.audit()
        if not audit.whole:
            with self.db.write() as conn:
                self._keep(conn, self.identity.party, "damaged", audit.summary())
            raise LogFork(
                f"this node's log contradicts itself or what it signed before: {audit.summary()}",
                hint="no checkpoint is signed over a damaged log; restore the database from a "
                "backup and compare it with the peer's co-signed checkpoints",
            )
        checkpoint = Checkpoint(self.origin, audit.size, audit.root)
        note = sign_note(checkpoint.body(), self.origin, self.identity.key)
        with self.db.write() as conn:
            existing = store.signed_at_size(conn, audit.size)
            if existing is None:
                store.insert_signed(conn, audit.size, audit.root.hex(), note, self.now())
            elif existing.root != audit.root.hex():  # signed meanwhile by another process
                raise LogFork(f"a different checkpoint at size {audit.size} was just signed")
        return note, audit

    # -- the exchange, this node's side --------------------------------------------------

    def exchange(self, peer: str | None = None) -> list[dict[str, Any]]:
        """Sign a checkpoint and have it co-signed by ``peer`` (default: every peer).

        Returns one outcome per peer; raises :class:`LogFork` before contacting anyone
        when this node's own log is damaged.
        """
        with self._exchange_lock:
            with self.db.read() as conn:
                parties = [p.party for p in peers.all_peers(conn)]
            if peer is not None:
                if peer not in parties:
                    raise NotFound(f"no peer {peer!r} is pinned on this node")
                parties = [peer]
            note, audit = self.sign_checkpoint()
            clients = PeerClients(self.tls, self.settings.request_timeout_s)
            try:
                return [self._exchange_with(clients, p, note, audit) for p in parties]
            finally:
                clients.close()

    def _exchange_with(
        self, clients: PeerClients, party: str, note: str, audit: LogAudit
    ) -> dict[str, Any]:
        outcome: dict[str, Any] = {"peer": party, "size": audit.size, "root": audit.root.hex()}
        with self.db.read() as conn:
            row = peers.get(conn, party)
            last = store.latest_cosigned(conn, self.identity.party, party)
        if row is None:
            return outcome | {"ok": False, "error": {"code": "not_found", "message": "unpinned"}}
        old_size = last.size if last is not None and last.size <= audit.size else 0
        try:
            client = clients(row)
            status, body = self._post(client, row, note, audit, old_size)
            expected = _expected_old_size(status, body)
            if expected is not None:
                self._check_peer_copy(party, row.public_key, body, audit)
                status, body = self._post(client, row, note, audit, expected)
            cosigned = self._accept(party, row.public_key, note, status, body)
        except HotlineError as exc:
            logger.warning("checkpoint exchange with %s failed: %s", party, exc)
            self._tell(party, exc.message if isinstance(exc, Unreachable) else None)
            return outcome | {"ok": False, "error": exc.to_dict()}
        self._tell(party, None)
        return outcome | {"ok": True, "checkpoint": cosigned, "error": None}

    def _tell(self, party: str, unreachable: str | None) -> None:
        if self.on_exchange is None:
            return
        try:
            self.on_exchange(party, unreachable)
        except Exception:  # the link state is a side matter: the exchange's result stands
            logger.exception("recording the checkpoint exchange with %s failed", party)

    def _post(
        self,
        client: httpx.Client,
        row: peers.PeerRow,
        note: str,
        audit: LogAudit,
        old_size: int,
    ) -> tuple[int, dict[str, Any]]:
        if old_size > audit.size:
            raise LogFork(
                f"{row.party} co-signed this log at size {old_size}, but it holds only "
                f"{audit.size} entries: the log was rolled back",
                hint="restore the database from a backup that holds every co-signed entry",
            )
        proof = audit.consistency_proof(old_size, audit.size)
        return post_checkpoint(
            client,
            row.endpoints,
            CosignRequest(note, old_size, proof),
            allow_plain_http=self.settings.allow_plain_http,
        )

    def _accept(
        self, party: str, key_b64: str, note: str, status: int, body: dict[str, Any]
    ) -> str:
        """Check the co-signed note that came back and keep it; or raise the refusal."""
        if status != 200:
            found = body.get("error")
            error: dict[str, Any] = found if isinstance(found, dict) else {}
            code, message = str(error.get("code", "error")), str(error.get("message", body))
            if code == "log_fork":
                with self.db.write() as conn:
                    detail = f"{party} refused to co-sign: {message}"
                    self._keep(conn, self.identity.party, "refused", detail, new_note=note)
                raise LogFork(f"{party} refused to co-sign this node's checkpoint: {message}")
            raise PeerRefused(status, code, f"{party} answered HTTP {status}: {message}")
        cosigned = body.get("checkpoint")
        checkpoint = self._open_cosigned(party, key_b64, cosigned)
        if checkpoint.body() != parse_note(note).text:
            raise MalformedMessage(f"{party} co-signed another checkpoint than the one sent")
        assert isinstance(cosigned, str)  # _open_cosigned checked it
        with self.db.write() as conn:
            store.insert_cosigned(
                conn,
                self.identity.party,
                party,
                checkpoint.size,
                checkpoint.root.hex(),
                cosigned,
                self.now(),
            )
        return cosigned

    def _open_cosigned(self, party: str, key_b64: str, note: Any) -> Checkpoint:
        """A note of this node's log signed by both this node and ``party``."""
        if not isinstance(note, str):
            raise MalformedMessage(f"{party} answered without a co-signed checkpoint")
        verifiers = {
            self.origin: self.identity.key.public_key(),
            origin(party): keys.public_from_b64(key_b64),
        }
        try:
            checkpoint, signers = open_checkpoint(note, verifiers)
        except ValidationError as exc:
            raise MalformedMessage(f"{party}'s co-signed note: {exc.message}") from exc
        if set(signers) != set(verifiers) or checkpoint.origin != self.origin:
            raise MalformedMessage(
                f"{party}'s answer is not a checkpoint of {self.origin} signed by both nodes"
            )
        return checkpoint

    def _check_peer_copy(
        self, party: str, key_b64: str, body: dict[str, Any], audit: LogAudit
    ) -> None:
        """The peer says it co-signed another size: if its copy (signed by this node too)
        contradicts the log, that is evidence against this node's own database."""
        error = body.get("error")
        context = error.get("context") if isinstance(error, dict) else None
        if not isinstance(context, dict):
            return
        try:
            checkpoint = self._open_cosigned(party, key_b64, context.get("cosigned"))
        except HotlineError:
            return  # no usable copy: the peer's consistency check will decide
        fits = checkpoint.size <= audit.size and audit.root_at(checkpoint.size) == checkpoint.root
        with self.db.write() as conn:
            if fits:
                store.insert_cosigned(
                    conn,
                    self.identity.party,
                    party,
                    checkpoint.size,
                    checkpoint.root.hex(),
                    str(context["cosigned"]),
                    self.now(),
                )
                return
            detail = (
                f"{party} holds a checkpoint of this log at size {checkpoint.size}, signed by "
                "this node and co-signed by it, that the log no longer matches"
            )
            self._keep(conn, self.identity.party, "damaged", detail, old_note=context["cosigned"])

    # -- the exchange, the peer's side ---------------------------------------------------

    def cosign(self, payload: Any) -> str:
        """Co-sign a peer's checkpoint if it extends what this node co-signed of that log."""
        request = parse_request(payload)
        try:  # the note's shape first: whether its origin is pinned must not change the answer
            parse_note(request.note)
        except ValidationError as exc:
            raise MalformedMessage(f"the checkpoint note: {exc.message}") from exc
        party, public = self._signer_of(request.note)
        try:
            checkpoint, _ = open_checkpoint(request.note, {origin(party): public})
        except ValidationError as exc:
            raise MalformedMessage(f"the checkpoint note: {exc.message}") from exc
        if checkpoint.extensions:
            raise MalformedMessage("hotline checkpoints carry no extension lines")
        with self.db.write() as conn:
            store.lock_peer(conn, party)
            last = store.latest_cosigned(conn, party, self.identity.party)
            verdict = judge(last, checkpoint, request)
            if verdict is None:
                cosigned = add_signature(request.note, self.origin, self.identity.key)
                store.insert_cosigned(
                    conn,
                    party,
                    self.identity.party,
                    checkpoint.size,
                    checkpoint.root.hex(),
                    cosigned,
                    self.now(),
                )
                return cosigned
            if verdict.kind in EVIDENCE_KINDS:
                self._keep_fork(conn, party, verdict, last, checkpoint, request)
        if verdict.kind not in EVIDENCE_KINDS:
            raise Conflict(
                verdict.detail,
                hint="send the consistency proof again from expected_old_size",
                expected_old_size=last.size if last else 0,
                cosigned=last.note if last else None,
            )
        raise LogFork(
            verdict.detail,
            hint=f"kept as evidence on {self.identity.party}; do not rewrite a signed log",
        )

    def _signer_of(self, note: str) -> tuple[str, Ed25519PublicKey]:
        """The pinned peer whose log the note describes, and its key."""
        first = note.split("\n", 1)[0]
        party = first.removeprefix(ORIGIN_PREFIX)
        with self.db.read() as conn:
            row = peers.get(conn, party) if first.startswith(ORIGIN_PREFIX) else None
        if row is None or party == self.identity.party:
            raise UnknownKey(
                f"checkpoint origin {first[:80]!r} is not the log of a pinned peer",
                hint=f"origins are {ORIGIN_PREFIX}<party>; pin the peer's card first",
            )
        return party, keys.public_from_b64(row.public_key)

    def _keep_fork(
        self,
        conn: Connection,
        party: str,
        verdict: Verdict,
        last: store.SignedRow | None,
        checkpoint: Checkpoint,
        request: CosignRequest,
    ) -> None:
        proof = {
            "old_size": request.old_size,
            "new_size": checkpoint.size,
            "hashes": CosignRequest("", 0, request.proof).wire()["proof"],
        }
        self._keep(
            conn,
            party,
            verdict.kind,
            verdict.detail,
            old_note=last.note if last else None,
            new_note=request.note,
            old_size=last.size if last else 0,
            new_size=checkpoint.size,
            proof=proof,
        )

    def _keep(self, conn: Connection, whose: str, kind: str, detail: str, **values: Any) -> None:
        """Keep one piece of evidence and raise (or keep open) a ``log_fork`` alarm."""
        now = self.now()
        proof = values.pop("proof", None)
        evidence_id = store.add_fork(
            conn,
            log=whose,
            kind=kind,
            detected_at=now,
            detail=detail,
            proof=None if proof is None else json.dumps(proof),
            **values,
        )
        raise_alarm(conn, "log_fork", whose, now, what=kind, detail=detail, evidence=evidence_id)
        logger.error("log evidence (%s) about %s: %s", kind, whose, detail)

    # -- the schedule --------------------------------------------------------------------

    @property
    def poll_s(self) -> float:
        """How often :meth:`tick` looks whether an exchange is due, seconds."""
        return min(5.0, self.settings.checkpoint_interval_s)

    def tick(self) -> None:
        """Exchange with every peer when the interval has passed on the node's clock.

        A job of the active process's runner calls it every :attr:`poll_s` seconds
        (``hotline.node``); it is idle when ``checkpoint_interval_s`` is 0.
        """
        interval = self.settings.checkpoint_interval_s
        now = self.clock.now()
        if interval <= 0 or (self._next_due is not None and now < self._next_due):
            return
        self._next_due = now + timedelta(seconds=interval)
        try:
            self.exchange()
        except HotlineError as exc:
            logger.error("scheduled checkpoint exchange failed: %s", exc)


def _expected_old_size(status: int, body: dict[str, Any]) -> int | None:
    """The size the peer co-signed last, when it answered that the proof starts elsewhere."""
    error = body.get("error")
    if status != 409 or not isinstance(error, dict) or error.get("code") != "conflict":
        return None
    context = error.get("context")
    expected = context.get("expected_old_size") if isinstance(context, dict) else None
    if isinstance(expected, int) and not isinstance(expected, bool) and expected >= 0:
        return expected
    return None
