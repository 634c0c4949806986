"""Store-and-forward: one in-order delivery worker per peer.

The worker takes the oldest undelivered envelopes of a channel (at most ``batch_size``),
posts them to the peer, and records the signed receipts that come back. Nothing is
removed from the outbox until a receipt that verifies against the peer's pinned key
names the envelope's exact hash. Failures rotate through the peer's endpoints; after a
full round of failures the worker waits with capped, fully jittered exponential backoff.

Because the receiver dedupes by id and answers a duplicate with its stored receipt,
either node may die at any instant: the worst case is one batch sent twice, stored once.
"""

from __future__ import annotations

import logging
import random
import ssl
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import httpx

from hotline import seclog
from hotline.domain.line import Receipt
from hotline.errors import BadSignature, HotlineError, MalformedMessage, Unreachable
from hotline.protocol import keys, tls
from hotline.protocol.canonical import canonical
from hotline.protocol.envelope import parse, verify_signature
from hotline.services.alarms import clear_alarm, open_alarm, raise_incident
from hotline.services.line import keys as key_changes
from hotline.services.line import linkstate
from hotline.services.line.service import Line
from hotline.services.line.tls import NodeTls, PeerClients
from hotline.services.runtime.jobs import Backoff, Next, Runner
from hotline.storage import log, peers
from hotline.storage import messages as store
from hotline.storage.db import Connection

logger = logging.getLogger(__name__)

FEDERATION_PATH = "/federation/v1/envelopes"
IDLE_WAIT_S = 5.0  # an idle worker looks again this often even if nobody wakes it


@dataclass(frozen=True)
class Outcome:
    delivered: int
    error: str | None


#: The HTTP client to post to a pinned peer with (made for its pinned TLS certificate).
ClientFor = Callable[[peers.PeerRow], httpx.Client]


class Courier:
    """Sends one batch to one peer and records what came back (no threads, no sleeping).

    ``client`` is one HTTP client for every peer (in-process tests on plain HTTP), or a
    function giving the client for a pinned peer (:class:`PeerClients`: mutual TLS with
    exactly the peer's pinned certificate).
    """

    def __init__(self, line: Line, peer: str, client: httpx.Client | ClientFor) -> None:
        self.line = line
        self.peer = peer
        self.client = client
        self.preferred = 0  # index of the endpoint that last worked

    def deliver_once(self) -> Outcome | None:
        """Try every endpoint once for the head of the channel; None when nothing is pending.

        Pipelined: when the peer took the whole first batch and more is pending, the next
        batch (the envelopes right after it) is posted while this one's receipts are
        recorded. Order holds: the peer stores the second batch only after the first (it
        refuses a gap), and should anything of the first not be recorded here, the next
        round starts again from the first message without a receipt, which the peer
        answers with its stored receipt (it dedupes by id).
        """
        size = self.line.settings.batch_size
        with self.line.db.read() as conn:
            peer = peers.get(conn, self.peer)
            pending = store.pending_out(conn, self.peer, 2 * size)
        if peer is None or not pending:
            return None
        batch, following = pending[:size], pending[size:]
        try:
            client = self.client if isinstance(self.client, httpx.Client) else self.client(peer)
        except HotlineError as exc:  # e.g. no certificate pinned for https endpoints
            self._record_failure(batch[0]["id"], exc.message)
            return Outcome(0, exc.message)
        errors = []
        count = len(peer.endpoints)
        for offset in range(count):
            index = (self.preferred + offset) % count
            endpoint = peer.endpoints[index]
            try:
                answer = self._post(client, endpoint, batch)
            except Unreachable as exc:
                errors.append(f"{endpoint}: {exc.message}")
                continue
            self.preferred = index
            took_all = len(answer["receipts"]) >= len(batch) and answer.get("error") is None
            if not (following and took_all):
                return self._record(batch, answer, endpoint, peer.public_key, errors)
            ahead = _Ahead(self, client, endpoint, following)
            ahead.start()
            try:
                first = self._record(batch, answer, endpoint, peer.public_key, errors)
            finally:
                ahead.join()
            if first.error is not None or ahead.answer is None:
                # the first batch was not all recorded, or the next did not go: the next
                # round starts from the first message without a receipt
                if first.error is None and ahead.error is not None:
                    self._record_failure(following[0]["id"], f"{endpoint}: {ahead.error}")
                    return Outcome(first.delivered, f"{endpoint}: {ahead.error}")
                return first
            second = self._record(following, ahead.answer, endpoint, peer.public_key, [])
            return Outcome(first.delivered + second.delivered, second.error)
        self._record_failure(batch[0]["id"], "; ".join(errors))
        return Outcome(0, "; ".join(errors))

    def _post(
        self, client: httpx.Client, endpoint: str, batch: list[dict[str, Any]]
    ) -> dict[str, Any]:
        problem = tls.plain_http_problem([endpoint], self.line.settings.allow_plain_http)
        if problem:
            raise Unreachable(f"not sent: {problem}")
        url = endpoint.rstrip("/") + FEDERATION_PATH
        try:
            response = client.post(
                url,
                content=batch_body(row["envelope"] for row in batch),
                headers={"content-type": "application/json"},
            )
        except httpx.HTTPError as exc:
            said = f"{type(exc).__name__}: {exc}"
            if isinstance(exc, httpx.RemoteProtocolError) and url.lower().startswith("https:"):
                said += " (TLS: so a peer refuses a client certificate it has not pinned)"
            refusal = tls_refusal(exc)
            if refusal:
                seclog.event("tls_refused", peer=self.peer, source=endpoint, reason=refusal)
            raise Unreachable(refusal or said) from exc
        try:
            answer = response.json()
        except ValueError:
            raise Unreachable(f"HTTP {response.status_code} with a non-JSON answer") from None
        if not isinstance(answer, dict) or not isinstance(answer.get("receipts"), list):
            raise Unreachable(f"HTTP {response.status_code}: not a federation answer")
        return answer

    def _record(
        self,
        batch: list[dict[str, Any]],
        answer: dict[str, Any],
        endpoint: str,
        key_b64: str,
        failed: list[str],
    ) -> Outcome:
        receipts = answer["receipts"][: len(batch)]
        now = self.line.now()

        def work(conn: Connection) -> Outcome:
            # the peer answered the post: the route to it works, whatever the answer says
            linkstate.note_success(conn, self.peer, now, source="delivery")
            public = keys.public_from_b64(key_b64)
            # one read and one write of the log's state for all the receipts (log.batch)
            with log.batch(conn):
                # the key pinned now, not when the round began: a card replaced meanwhile (by
                # `hotline peer add --replace`, another process) counts for these receipts
                pinned = peers.pinned_keys(conn, [self.peer], lock=True).get(self.peer)
                if pinned is not None and pinned[1] != key_b64:
                    public = keys.public_from_b64(pinned[1])
                for delivered, (row, obj) in enumerate(zip(batch, receipts, strict=False)):
                    try:
                        receipt = _check_receipt_at(
                            conn, obj, row, self.line.identity.party, public
                        )
                    except HotlineError as exc:
                        # Receipts before this one were checked and are kept (the batch is
                        # in order); this message stays at the head and is tried again.
                        error = f"bad receipt from {endpoint}: {exc.message}"
                        self._blocked(conn, row, now, endpoint, error, exc.code, exc.message)
                        return Outcome(delivered, error)
                    self._store_receipt(conn, row, receipt, endpoint, now, failed)
                delivered = len(receipts)
                refusal = answer.get("error")
                if isinstance(refusal, dict) and delivered < len(batch):
                    code, reason = refusal.get("code"), str(refusal.get("message"))
                    message = f"{endpoint} refused it: [{code}] {reason}"
                    self._blocked(conn, batch[delivered], now, endpoint, message, code, reason)
                    return Outcome(delivered, message)
                if delivered:
                    self._passes(conn, batch[delivered - 1]["seq"], now)
                return Outcome(delivered, None)

        return self.line.db.transaction(work)  # retried whole on a deadlock or busy database

    def _blocked(
        self,
        conn: Any,
        head: dict[str, Any],
        now: str,
        endpoint: str,
        error: str,
        code: Any,
        reason: str,
    ) -> None:
        """Count a failed attempt for the message that blocks the channel, and alarm.

        An explicit refusal, or a receipt that does not verify, blocks the channel (order
        is kept): the duty officer is alerted once per incident, with the reason — one
        ``delivery_refused`` alarm per peer while it lasts, counting the messages it held
        up (a clock offset refuses every message in turn: one alarm, not one each). The
        alarm clears when the line passes again (see :meth:`_passes`).
        """
        if not store.record_attempt_failed(conn, head["id"]):
            return  # it has its receipt already (another round): nothing is blocked
        store.add_event(
            conn, head["id"], now, "attempt_failed", endpoint=endpoint, error=error, code=code
        )
        raise_incident(
            conn,
            "delivery_refused",
            self.peer,
            now,
            head["id"],
            peer=self.peer,
            seq=head["seq"],
            # the last message queued when it was refused: the incident ends only once
            # a message queued after that passes (see _passes)
            queued_seq=store.lock_channel(conn, self.peer, store.OUT).last_seq,
            code=code,
            reason=reason[:500],
        )

    def _store_receipt(
        self,
        conn: Any,
        row: dict[str, Any],
        receipt: Receipt,
        endpoint: str,
        now: str,
        failed: list[str],
    ) -> None:
        """Record a verified receipt, once: its trail step, its ``receipt_in`` log entry,
        and the state the row has now (``acknowledged`` if the peer's ack overtook the
        receipt, else ``delivered``: decided in SQL, not from ``row``, read before the
        post). A receipt for a message that already has one records nothing again."""
        wire = canonical(receipt.wire())
        if not store.record_receipt(
            conn, row["id"], receipt=wire.decode("utf-8"), delivered_at=now
        ):
            return
        store.add_event(
            conn,
            row["id"],
            now,
            "delivered",
            endpoint=endpoint,
            attempt=row["attempts"] + 1,
            received=receipt.received,
            peer_log_index=receipt.log_index,
            failed_endpoints=failed,
        )
        log.append(conn, "receipt_in", row["id"], wire, now)

    def _passes(self, conn: Any, last_seq: int, now: str) -> None:
        """The peer took a whole batch, up to ``last_seq``: the incident's alarm clears if
        a message queued after its last refusal has passed, or if nothing waits.

        Not judged receipt by receipt, nor by the message held up alone: after a clock
        offset, the messages signed in the sender's future become acceptable one after
        another, each refused a little longer than the one before; that is one incident
        until what is queued now goes through, not an alarm cleared and raised again for
        each batch (9 for one clock step in the chaos harness, before)."""
        alarm = open_alarm(conn, "delivery_refused", self.peer)
        if alarm is None:
            return
        detail = alarm["detail"]
        queued = detail.get("queued_seq", detail.get("seq", -1))
        if last_seq > queued or not store.pending_out(conn, self.peer, 1):
            clear_alarm(conn, "delivery_refused", self.peer, now, "delivered")

    def _record_failure(self, message_id: str, error: str) -> None:
        with self.line.db.write() as conn:
            now = self.line.now()
            if store.record_attempt_failed(conn, message_id):
                store.add_event(conn, message_id, now, "attempt_failed", error=error)
            down_after = self.line.settings.link_down_after_s
            linkstate.note_failure(
                conn,
                self.peer,
                "send",
                now,
                source="delivery",
                error=error,
                down_after_s=down_after,
            )


def batch_body(envelopes: Iterable[str]) -> bytes:
    """The federation request for stored envelopes: ``{"envelopes":[…]}``, canonical.

    RFC 8785 writes an array as its elements' canonical forms joined by commas, and an
    object of one member as ``{"name":value}``; each stored envelope is already its
    canonical text (exactly as signed), so joining them is the canonical encoding of the
    whole batch, without decoding and encoding every envelope again
    (``tests/protocol/test_batch_body.py`` proves it byte for byte against rfc8785).
    """
    return b'{"envelopes":[' + ",".join(envelopes).encode("utf-8") + b"]}"


class _Ahead(threading.Thread):
    """Posts the next batch while the courier records the receipts of the one before."""

    def __init__(
        self, courier: Courier, client: httpx.Client, endpoint: str, batch: list[dict[str, Any]]
    ) -> None:
        super().__init__(name=f"delivery-ahead-{courier.peer}", daemon=True)
        self.courier, self.client, self.endpoint, self.batch = courier, client, endpoint, batch
        self.answer: dict[str, Any] | None = None
        self.error: str | None = None

    def run(self) -> None:
        try:
            self.answer = self.courier._post(self.client, self.endpoint, self.batch)
        except Unreachable as exc:
            self.error = exc.message
        except Exception:  # a bug: the next round tries again, from the first batch on
            logger.exception("posting ahead to %s failed unexpectedly", self.courier.peer)
            self.error = "internal error (see the node's log)"


def tls_refusal(exc: BaseException) -> str | None:
    """What a failed TLS handshake with a peer means, in words; None if it was not one."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return (
                "TLS: the peer presented a certificate that is not the one pinned on its card "
                f"({seen.verify_message}); if it rotated, pin its new card"
            )
        if isinstance(seen, ssl.SSLError):
            return (
                f"TLS: the peer refused the handshake ({seen.reason or seen}); does it pin "
                "this node's current card?"
            )
        seen = seen.__cause__ or seen.__context__
    return None


def _check_receipt(obj: Any, row: dict[str, Any], me: str, public: Any) -> Receipt:
    receipt = parse(obj, Receipt)
    verify_signature(receipt, public)
    if receipt.envelope_id != row["id"] or receipt.envelope_hash != row["hash"]:
        raise BadSignature(f"the receipt is for {receipt.envelope_id}, not for {row['id']}")
    if receipt.to != me or receipt.from_ != row["peer"]:
        raise MalformedMessage("the receipt names the wrong parties")
    return receipt


def _check_receipt_at(
    conn: Connection, obj: Any, row: dict[str, Any], me: str, public: Any
) -> Receipt:
    """:func:`_check_receipt` with the pinned key, or else with the peer's earlier key the
    receipt names, if it was valid when the receipt was signed (a receipt stored before
    the peer rotated its key, offered again after) and the message was made before this
    node applied the key change: see ``services/line/keys.py``."""
    try:
        return _check_receipt(obj, row, me, public)
    except BadSignature:
        receipt = parse(obj, Receipt)
        if receipt.key == keys.fingerprint(public):
            raise
        what = f"the receipt for {row['id']}"
        older = key_changes.historic_receipt_key(
            conn, row["peer"], receipt.key, receipt.received, row["created"], what
        )
        return _check_receipt(obj, row, me, keys.public_from_b64(older))


class DeliveryWorker:
    """Keeps one peer's channel flowing: a job of the active process's runner.

    Woken at once by a send (or a wake-up from another process); otherwise it looks again
    every ``IDLE_WAIT_S``. Progress goes on at once; a round that moved nothing backs off
    (capped, fully jittered) until stopped.
    """

    def __init__(
        self,
        line: Line,
        peer: str,
        runner: Runner,
        *,
        seed: int | None = None,
        node_tls: NodeTls | None = None,
    ) -> None:
        settings = line.settings
        self.line = line
        self.peer = peer
        self.last_error: str | None = None
        self._tls = node_tls
        self._clients: PeerClients | None = None
        self._courier: Courier | None = None
        backoff = Backoff(settings.retry_base_s, settings.retry_cap_s, random.Random(seed))
        self.job = runner.add(
            f"delivery-{peer}", self.step, every=IDLE_WAIT_S, backoff=backoff, on_exit=self._close
        )

    @property
    def failures(self) -> int:
        """Rounds in a row that moved nothing (0 after any progress)."""
        return self.job.failures

    def wake(self) -> None:
        self.job.wake()

    def step(self) -> Next:
        """One round: deliver what is pending; say whether to go on, sleep or back off."""
        if self._courier is None:
            self._clients = PeerClients(self._tls, self.line.settings.request_timeout_s)
            self._courier = Courier(self.line, self.peer, self._clients)
        try:
            outcome = self._courier.deliver_once()
        except Exception:  # a bug or a database outage: log, back off, go on
            logger.exception("delivery to %s failed unexpectedly", self.peer)
            outcome = Outcome(0, "internal error (see the node's log)")
        return self.next_after(outcome)

    def next_after(self, outcome: Outcome | None) -> Next:
        if outcome is None:  # nothing to send: sleep until woken
            return Next.IDLE
        self.last_error = outcome.error
        if outcome.error is None or outcome.delivered:
            return Next.AGAIN
        return Next.BACK_OFF

    def _close(self) -> None:
        if self._clients is not None:
            self._clients.close()
