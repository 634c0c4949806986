"""Recovery after a restore, the restored node's side: take back from the peer what this
node lost, and make its log whole again as a new, signed epoch.

A node restored from a backup (or whose database was rolled back by any means) holds
shorter channels and a shorter log than its peer, which holds signed copies of everything
that crossed the line. Every ``RECHECK_S`` seconds, and at once when the active process
starts, the node asks each peer (``POST /federation/v1/recovery``, signed) for

- the envelopes the peer sent here after this node's inbound head, with the receipts this
  node signed for them: they are stored again as received, with those receipts;
- this node's own envelopes the peer received after this node's last receipted one, with
  the peer's receipts: they are stored again as delivered, in their place in the outbound
  chain, which continues after them. A local message never delivered that stands where
  the peer holds another (signed after the restore, before the recovery) is re-sealed
  after them: no seq is ever delivered with two contents;
- the last checkpoint of this node's log the peer co-signed.

Nothing is taken on the peer's word: each envelope must verify with its sender's key and
chain by ``seq`` and ``prev`` from this node's heads, each receipt with the key of the side
that signed it and name the envelope's exact hash; one failure refuses the whole page and
stores nothing.

When the peer's co-signed checkpoint does not fit this node's log (the log was rolled
back), the node appends a signed *recovery statement* — the checkpoint it can no longer
extend, the head it was restored to, what it recovered, its channel heads, what is lost —
and has the log co-signed from the last checkpoint both still agree on
(``POST /federation/v1/recovery/checkpoint``). The entries appended after that common
checkpoint differ from the lost ones, so no root of the old epoch is reproduced: the old
checkpoint stays on both sides as evidence. See ``docs/evidence.md``.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from functools import partial
from typing import Any

from hotline.errors import (
    BadSignature,
    Conflict,
    HotlineError,
    MalformedMessage,
    NotFound,
    PeerRefused,
    UnknownKey,
    ValidationError,
)
from hotline.protocol import keys
from hotline.protocol.canonical import canonical
from hotline.protocol.checkpoint import Checkpoint, open_checkpoint, parse_note
from hotline.services.alarms import clear_alarm
from hotline.services.evidence.audit import LogAudit
from hotline.services.evidence.cosign import origin
from hotline.services.evidence.recovery_copies import Pages, Tally
from hotline.services.evidence.recovery_keys import Signers
from hotline.services.evidence.recovery_wire import (
    RECOVERY_CHECKPOINT_PATH,
    RECOVERY_PATH,
    hashes_out,
    parse_statement,
    post,
    sign,
)
from hotline.services.evidence.service import Evidence
from hotline.services.line.identity import Identity
from hotline.services.line.service import Line
from hotline.services.line.tls import PeerClients
from hotline.storage import evidence as evidence_store
from hotline.storage import log, peers
from hotline.storage import messages as msgs
from hotline.storage import recovery as store
from hotline.storage.db import Connection

logger = logging.getLogger(__name__)

#: How often the node compares its channels with each peer's, seconds.
RECHECK_S = 15.0
#: Pages of copies taken in one run (256 per channel each).
MAX_PAGES = 64


class Recovery:
    """Detects this node's own rollback against each peer and recovers from it."""

    def __init__(self, line: Line, evidence: Evidence, on_recovered: Callable[[str], None]) -> None:
        self.line = line
        self.evidence = evidence
        self.db = line.db
        self.on_recovered = on_recovered
        self.pages = Pages(line)
        self.last: dict[str, dict[str, Any]] = {}  # per peer: the last run's outcome

    @property
    def identity(self) -> Identity:
        """This node's identity as it is now (a key rotation replaces it)."""
        return self.line.identity

    def tick(self) -> None:
        """A job of the active process: compare with every peer (errors are logged)."""
        with self.db.read() as conn:
            parties = [p.party for p in peers.all_peers(conn)]
        for party in parties:
            try:
                self.last[party] = self.run(party)
            except HotlineError as exc:
                self.last[party] = {"peer": party, "ok": False, "error": exc.to_dict()}
                logger.warning("recovery check with %s failed: %s", party, exc)

    def run(self, party: str) -> dict[str, Any]:
        """Take back what ``party`` holds and this node lost; co-sign a new epoch if the
        log was rolled back. Returns what was done."""
        with self.db.read() as conn:
            row = peers.get(conn, party)
            restored = log.head(conn)
        if row is None:
            raise NotFound(f"no peer {party!r} is pinned on this node")
        clients = PeerClients(self.evidence.tls, self.line.settings.request_timeout_s)
        try:
            client = clients(row)
            tally, cosigned = Tally(), None
            for _ in range(MAX_PAGES):
                answer = self._ask(client, row)
                tally.add(self.db.transaction(partial(self._store_page, row=row, answer=answer)))
                cosigned = answer.get("cosigned")
                if not answer.get("more"):
                    break
            if tally.any():
                self.on_recovered(party)
                self._ask(client, row)  # from the new heads: the peer's worker goes on now
            row = self._pinned(row)  # a key rotation among the copies pinned a new key
            epoch = self._settle_log(client, row, cosigned, restored, tally)
        finally:
            clients.close()
        return {
            "peer": party,
            "ok": True,
            "inbound": tally.span(tally.inbound),
            "outbound": tally.span(tally.outbound),
            "resealed": len(tally.resealed),
            "epoch": epoch,
        }

    # -- asking --------------------------------------------------------------------------

    def _ask(self, client: Any, row: peers.PeerRow) -> dict[str, Any]:
        with self.db.read() as conn:
            in_seq, in_hash = store.channel_head(conn, row.party, msgs.IN)
            out_seq, out_hash = store.receipted_head(conn, row.party, msgs.OUT)
        request = sign(
            {
                "v": 1,
                "type": "recovery_request",
                "from": self.identity.party,
                "to": row.party,
                "created": self.line.now(),
                "in_seq": in_seq,
                "in_hash": in_hash,
                "out_seq": out_seq,
                "out_hash": out_hash,
                "key": self.identity.fingerprint,
            },
            self.identity.key,
        )
        status, answer = post(
            client,
            row.endpoints,
            RECOVERY_PATH,
            {"request": request},
            allow_plain_http=self.line.settings.allow_plain_http,
        )
        if status != 200:
            raise _refused(row.party, status, answer)
        if not all(isinstance(answer.get(k), list) for k in ("inbound", "outbound")):
            raise MalformedMessage(f"{row.party}'s recovery answer has no copies")
        return answer

    def _store_page(self, conn: Connection, *, row: peers.PeerRow, answer: dict[str, Any]) -> Tally:
        # pinned as it is now: an earlier page may have carried the peer's key rotation
        return self.pages.store_page(conn, row=peers.get(conn, row.party) or row, answer=answer)

    def _pinned(self, row: peers.PeerRow) -> peers.PeerRow:
        with self.db.read() as conn:
            return peers.get(conn, row.party) or row

    # -- the log -------------------------------------------------------------------------

    def _settle_log(
        self,
        client: Any,
        row: peers.PeerRow,
        cosigned: Any,
        restored: log.LogHead,
        tally: Tally,
    ) -> dict[str, Any] | None:
        """Record the recovery in the log; if the peer co-signed more than this log holds,
        have the new epoch co-signed. None when there was nothing to recover."""
        old = self._open_own(row, cosigned) if cosigned is not None else None
        fits = old is None or self._fits(row.party, old)
        if fits and not tally.any():
            return None
        statement = None if tally.any() else self._statement_for(row.party, cosigned)
        if statement is None:
            statement = self._append_statement(row.party, cosigned, old, restored, tally)
        if fits:
            return {"statement": statement["id"], "cosigned": None}
        # one at a time with the checkpoint exchange: a checkpoint signed before the
        # statement and presented after the new epoch was co-signed would be a rollback
        with self.evidence._exchange_lock:
            note = self._cosign_epoch(client, row, statement)
        return {"statement": statement["id"], "cosigned": note}

    def _fits(self, party: str, old: Checkpoint) -> bool:
        """Whether this node's log still holds the peer's co-signed checkpoint: cheaply
        when this node kept the same co-signed note, else by rereading the log."""
        with self.db.read() as conn:
            kept = store.cosigned_at(conn, self.identity.party, party, old.size)
            size = log.head(conn).size
        if old.size > size:
            return False
        if kept is not None and kept[0] == old.root.hex():
            return True
        audit = self.evidence.audit()
        return old.size <= audit.size and audit.root_at(old.size) == old.root

    def _open_own(self, row: peers.PeerRow, note: Any) -> Checkpoint:
        """The peer's co-signed checkpoint of this node's log, both signatures verified
        (by a key of each side's history: either may have rotated since it was signed)."""
        with self.db.read() as conn:
            me = self.identity
            mine = Signers.of(conn, me.party, me.fingerprint, keys.public_b64(me.key.public_key()))
            theirs = Signers.of(conn, row.party, row.fingerprint, row.public_key)
        for own_key in mine.publics():
            for their_key in theirs.publics():
                verifiers = {self.evidence.origin: own_key, origin(row.party): their_key}
                try:
                    checkpoint, signers = open_checkpoint(str(note), verifiers)
                except ValidationError as exc:
                    raise MalformedMessage(
                        f"{row.party}'s co-signed checkpoint: {exc.message}"
                    ) from exc
                except UnknownKey:
                    continue  # signed by neither of these two keys: try older ones
                if set(signers) == set(verifiers) and checkpoint.origin == self.evidence.origin:
                    return checkpoint
        raise BadSignature(
            f"{row.party} answered with a checkpoint that is not this node's log signed "
            "by both nodes"
        )

    def _statement_for(self, party: str, cosigned: Any) -> dict[str, Any] | None:
        """The recovery statement already in the log for this rollback, if any (a run
        that appended it and failed before the co-signature)."""
        with self.db.read() as conn:
            entries = store.recovery_entries(conn)
        for entry in reversed(entries):
            found = json.loads(entry)
            if found.get("peer") == party and found.get("cosigned_before") == cosigned:
                return dict(found)
        return None

    def _append_statement(
        self,
        party: str,
        cosigned: Any,
        old: Checkpoint | None,
        restored: log.LogHead,
        tally: Tally,
    ) -> dict[str, Any]:
        def work(conn: Connection) -> dict[str, Any]:
            in_head = store.channel_head(conn, party, msgs.IN)
            out_head = store.receipted_head(conn, party, msgs.OUT)
            statement = sign(
                {
                    "v": 1,
                    "type": "recovery",
                    "id": str(uuid.uuid4()),
                    "party": self.identity.party,
                    "peer": party,
                    "at": self.line.now(),
                    "restored": {"size": restored.size, "root": restored.root.hex()},
                    "cosigned_before": cosigned,
                    "recovered": {
                        "inbound": tally.span(tally.inbound),
                        "outbound": tally.span(tally.outbound),
                        "resealed": tally.resealed,
                    },
                    "heads": {
                        "in": {"seq": in_head[0], "hash": in_head[1]},
                        "out": {"seq": out_head[0], "hash": out_head[1]},
                    },
                    "lost": _lost(party, old, restored, out_head[0]),
                    "key": self.identity.fingerprint,
                },
                self.identity.key,
            )
            parse_statement(statement)
            log.append(
                conn, store.RECOVERY_KIND, statement["id"], canonical(statement), statement["at"]
            )
            return statement

        return self.db.transaction(work)

    def _cosign_epoch(self, client: Any, row: peers.PeerRow, statement: dict[str, Any]) -> str:
        """Have the log with the statement co-signed from the last common checkpoint."""
        me, party = self.identity.party, row.party
        note, audit = self.evidence.sign_checkpoint()
        with self.db.read() as conn:
            base_row = evidence_store.latest_cosigned(conn, me, party)
            index = store.entry_index(conn, store.RECOVERY_KIND, statement["id"])
        if index is None:
            raise Conflict("the recovery statement is not in the log")
        base = base_row.size if base_row is not None and base_row.size <= audit.size else 0
        status, answer = self._post_epoch(client, row, note, audit, base, statement, index)
        expected = _expected_base(status, answer)
        if expected is not None and expected != base and 0 <= expected <= audit.size:
            # the peer co-signed a later checkpoint of the restored log than this node kept
            # (stored there just before the backup was taken): continue from that one
            base = expected
            status, answer = self._post_epoch(client, row, note, audit, base, statement, index)
        if status != 200:
            raise _refused(party, status, answer)
        cosigned = answer.get("checkpoint")
        checkpoint = self._open_own(row, cosigned)
        if checkpoint.body() != parse_note(note).text:
            raise MalformedMessage(f"{party} co-signed another checkpoint than the one sent")
        self._keep_epoch(party, checkpoint, str(cosigned), statement, base)
        return str(cosigned)

    def _post_epoch(
        self,
        client: Any,
        row: peers.PeerRow,
        note: str,
        audit: LogAudit,
        base: int,
        statement: dict[str, Any],
        index: int,
    ) -> tuple[int, dict[str, Any]]:
        body = {
            "checkpoint": note,
            "base_size": base,
            "proof": hashes_out(audit.consistency_proof(base, audit.size)),
            "statement": statement,
            "index": index,
            "inclusion": hashes_out(audit.inclusion_proof(index, audit.size)),
        }
        return post(
            client,
            row.endpoints,
            RECOVERY_CHECKPOINT_PATH,
            body,
            allow_plain_http=self.line.settings.allow_plain_http,
        )

    def _keep_epoch(
        self,
        party: str,
        checkpoint: Checkpoint,
        cosigned: str,
        statement: dict[str, Any],
        base: int,
    ) -> None:
        me, now = self.identity.party, self.line.now()
        detail = (
            f"this node was restored from a backup: {party} had co-signed more of its log "
            f"than it held; the recovery statement {statement['id']} is in the log, and "
            f"{party} co-signed the new epoch at size {checkpoint.size} from size {base}"
        )
        with self.db.write() as conn:
            evidence_store.insert_cosigned(
                conn, me, party, checkpoint.size, checkpoint.root.hex(), cosigned, now
            )
            evidence_store.add_fork(
                conn,
                log=me,
                kind="recovered",
                detected_at=now,
                old_size=statement["restored"]["size"],
                new_size=checkpoint.size,
                old_note=statement["cosigned_before"],
                new_note=cosigned,
                proof=None,
                detail=detail,
            )
            clear_alarm(conn, "log_fork", me, now, f"recovered: {detail}")
        logger.warning("recovered from a rollback: %s", detail)


def _lost(party: str, old: Checkpoint | None, restored: log.LogHead, delivered: int) -> str:
    said = (
        f"messages this node signed to {party} after seq {delivered} before the restore, "
        f"if any, never reached {party}: they were lost with the database"
    )
    if old is not None and old.size > restored.size:
        said += (
            f"; entries {restored.size} to {old.size - 1} of the log {party} co-signed at size "
            f"{old.size} are not in this log (the new entries follow from size "
            f"{restored.size})"
        )
    return said


def _expected_base(status: int, answer: dict[str, Any]) -> int | None:
    """The base size the peer asks for in a 409 refusal of the new epoch, if it names one."""
    found = answer.get("error") if status == 409 else None
    context = found.get("context") if isinstance(found, dict) else None
    value = context.get("expected_base_size") if isinstance(context, dict) else None
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _refused(party: str, status: int, answer: dict[str, Any]) -> HotlineError:
    found = answer.get("error")
    error: dict[str, Any] = found if isinstance(found, dict) else {}
    code, message = str(error.get("code", "error")), str(error.get("message", answer))[:500]
    return PeerRefused(status, code, f"{party} answered HTTP {status}: {message}")
