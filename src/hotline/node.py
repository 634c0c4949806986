"""One node, wired together: settings, database, identity, services and workers.

This is the one place that knows how the layers fit (like Synapse's ``server.py``):
the HTTP edges, the CLI and the tests all get their services from a :class:`Node`.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from hotline.clock import Clock, OffsetClock, SystemClock, rfc3339
from hotline.config import NodeSettings, load_settings, write_settings
from hotline.domain.line import PARTY_PATTERN, PeerCard
from hotline.errors import ConfigError, ValidationError
from hotline.protocol import keys, tls
from hotline.protocol.canonical import parse_json
from hotline.protocol.envelope import open_card
from hotline.protocol.keychange import ENVELOPE_TYPE as KEY_CHANGE_TYPE
from hotline.services.alarms import Alarms
from hotline.services.attachments.casefiles import CaseFiles
from hotline.services.attachments.pull import HttpFetch, Puller
from hotline.services.attachments.service import Attachments
from hotline.services.attachments.service import complete as attachments_complete
from hotline.services.auth import Auth
from hotline.services.calls.service import Calls
from hotline.services.evidence.recovery import RECHECK_S, Recovery
from hotline.services.evidence.recovery_peer import RecoveryDesk
from hotline.services.evidence.service import Evidence
from hotline.services.feeds.service import Feeds
from hotline.services.handover import Handovers
from hotline.services.held import HeldMessages
from hotline.services.line import linkstate
from hotline.services.line.deadlines import Deadlines
from hotline.services.line.delivery import DeliveryWorker
from hotline.services.line.escalation import Escalation
from hotline.services.line.identity import Identity
from hotline.services.line.keys import on_key_change
from hotline.services.line.links import LinkTests
from hotline.services.line.operator_tests import OperatorTests
from hotline.services.line.receive import Receiver
from hotline.services.line.service import Line
from hotline.services.line.tls import NodeTls
from hotline.services.notices.cases import Cases
from hotline.services.notices.service import Notices
from hotline.services.picture.conflicts import Conflicts
from hotline.services.picture.conformance import Conformance
from hotline.services.picture.tracks import TrackPicture
from hotline.services.preauth import SafetyWarnings
from hotline.services.runtime.jobs import Backoff, Job, Runner
from hotline.services.runtime.leader import Leadership
from hotline.services.runtime.scheduler import Scheduler
from hotline.services.search import MessageSearch
from hotline.storage import peers
from hotline.storage.db import Connection, Database

logger = logging.getLogger(__name__)

PULL_S = 5.0  # how often the attachments job looks for files to fetch when not woken


def default_clock() -> Clock:
    """The system clock; a test clock only when ``HOTLINE_CLOCK_OFFSET_FILE`` is set.

    The test clock lets a test of real processes move their time by days
    (:class:`~hotline.clock.OffsetClock`); it must never be set in production.
    """
    path = os.environ.get(OffsetClock.ENV)
    if not path:
        return SystemClock()
    logger.warning(
        "TEST CLOCK ACTIVE: this node's time is the system clock plus the offset in %s "
        "(%s is set). For testing only: unset it in production.",
        path,
        OffsetClock.ENV,
    )
    return OffsetClock(path)


class Node:
    """A running (or about to run) node."""

    def __init__(self, settings: NodeSettings, clock: Clock | None = None) -> None:
        self.settings = settings
        self.clock = clock or default_clock()
        self.db = Database(settings.db_url)
        self.identity = Identity.from_settings(settings)
        self.tls = NodeTls(self.db, settings)
        self.line = Line(self.db, self.identity, settings, self.clock, on_queued=self.wake)
        self.receiver = Receiver(self.line)
        # files carried with messages: stored once, fetched from the sender in chunks
        self.attachments = Attachments(self.line, settings)
        self.puller = Puller(self.line, HttpFetch(self.line, self.tls))
        self._pull_job: Job | None = None
        # a peer's key rotation, applied in the transaction that stores it
        plain = settings.allow_plain_http
        self.line.on_receive(KEY_CHANGE_TYPE, partial(on_key_change, allow_plain_http=plain))
        self.conflicts = Conflicts(self.line)
        self.notices = Notices(self.line, conflicts=self.conflicts)
        self.cases = Cases(self.notices)  # incident cases: accounts checked, cases folded
        self.held = HeldMessages(self.line, self.notices, settings, self.clock)
        self.tracks = TrackPicture(self.line, self.conflicts, settings)
        # a case's files and the recorded picture around it (track history)
        self.casefiles = CaseFiles(self.cases, self.attachments, self.tracks.record)
        self.conformance = Conformance(self.line, self.conflicts, settings)
        self.conformance.held = self.held
        self.tracks.conformance = self.conformance
        self.safety = SafetyWarnings(self.line, self.notices, self.clock)
        self.feeds = Feeds(self.db, self.tracks, self.clock, self.identity.party)
        self.alarms = Alarms(self.db, self.clock)
        self.handovers = Handovers(self.db, self.clock)
        self.search = MessageSearch(self.line)
        self.links = LinkTests(self.line)
        self.deadlines = Deadlines(self.line)
        self.escalation = Escalation(self.line)  # the checklist off the line, attempts
        self.evidence = Evidence(self.db, self.identity, settings, self.clock, self.tls)
        self.evidence.on_exchange = self._checkpoint_exchanged
        # after a restore: take back from each peer what this node lost (and answer a peer
        # that lost something); see services/evidence/recovery.py
        self.recovery = Recovery(self.line, self.evidence, on_recovered=self.wake)
        self.recovery_desk = RecoveryDesk(self.evidence, on_caught_up=self.wake)
        # the scheduler's periodic ticks, called in this order every tick_s
        self.ticks: list[Callable[[], None]] = [self.links.tick, self.deadlines.tick]
        self.operator_tests = OperatorTests(self.line)
        self.ticks.append(self.operator_tests.tick)
        self.calls = Calls(self.line)
        # a FLASH call request is held for a second person like a FLASH message
        self.held.register("call", self.calls.requests.check_held, self.calls.requests.send_held)
        # and so is the answer to a peer's FLASH call request (it goes out FLASH)
        requests = self.calls.requests
        self.held.register("answer", requests.check_held_answer, requests.send_held_answer)
        self.ticks.append(self.calls.tick)
        self.ticks.append(self.tracks.tick)
        self.ticks.append(self.tracks.record.tick)  # prunes past track_record_days
        self.ticks.append(self.conflicts.tick)  # conflicts close when their volumes expire
        self.leadership: Leadership | None = None
        self.runner: Runner | None = None  # the active process's jobs, while it is active
        self.auth = Auth(
            self.db,
            self.clock,
            settings.token_ttl_s,
            max_failures=settings.login_max_failures,
            lockout_s=settings.login_lockout_s,
            source_max_failures=settings.login_source_max_failures,
            user_max_failures=settings.login_user_max_failures,
            concurrency=settings.login_concurrency,
            busy_wait_s=settings.login_busy_wait_s,
        )
        self.workers: dict[str, DeliveryWorker] = {}
        self._workers_lock = threading.Lock()
        self._woken_early: set[str] = set()  # woken while activating (see _activate)
        self._running = False

    def _checkpoint_exchanged(self, peer: str, unreachable: str | None) -> None:
        """A checkpoint exchange is a signal of the link's state like a delivery."""
        now = self.line.now()

        def work(conn: Connection) -> None:
            if unreachable is None:
                linkstate.note_success(conn, peer, now, source="checkpoint")
                return
            after = self.settings.link_down_after_s
            error = f"checkpoint exchange: {unreachable}"
            linkstate.note_failure(
                conn, peer, "send", now, source="checkpoint", error=error, down_after_s=after
            )

        self.db.transaction(work)

    @classmethod
    def open(cls, directory: Path | str, clock: Clock | None = None) -> Node:
        """Open the node in ``directory`` and bring its schema up to date."""
        node = cls(load_settings(directory), clock)
        node.db.migrate()
        return node

    # -- workers ---------------------------------------------------------------------------

    def start(self) -> None:
        """Serve as one of the node's processes: the active one runs the background work.

        The delivery workers (one per pinned peer), the scheduler and checkpoint exchange
        run in one process only (see :mod:`hotline.services.runtime.leader`); this process takes
        them on when it holds the node's lock, at once if no other process does, as jobs of
        one :class:`~hotline.services.runtime.jobs.Runner`. Starting a started node does
        nothing (a second leadership thread would outlive :meth:`stop`).
        """
        if self.leadership is not None:
            return
        self._running = True
        self.leadership = Leadership(
            self.db,
            self.settings.directory,
            self.identity.party,
            on_gain=self._activate,
            on_lose=self._deactivate,
            on_wake=self._wake_local,
        )
        self.leadership.start()
        self.leadership.active.wait(1.0)  # usually immediate: no other process is running

    @property
    def active(self) -> bool:
        """Whether this process runs the node's background work now."""
        return self.leadership is not None and self.leadership.active.is_set()

    def _activate(self) -> None:
        """This process became the active one: start its runner of background jobs."""
        with self.db.read() as conn:
            parties = [p.party for p in peers.all_peers(conn)]
        runner = Runner("active")
        # the picture as the previous active process left it (or before a restart)
        try:
            loaded = self.tracks.load()
            logger.info("the picture: %d tracks taken back from the record", loaded)
        except Exception:  # a live view: the feeds refill it; never stop taking over
            logger.exception("the picture could not be taken back from the record")
        Scheduler(self.ticks, self.settings.tick_s).add_to(runner)
        if self.settings.checkpoint_interval_s > 0:
            runner.add("checkpoints", self.evidence.tick, every=self.evidence.poll_s)
        self.feeds.attach(runner)
        runner.add("recovery", self.recovery.tick, every=RECHECK_S)
        self._pull_job = runner.add(
            "attachments", self.puller.step, every=PULL_S, backoff=Backoff(base=0.5, cap=5.0)
        )
        with self._workers_lock:
            self.runner = runner
            # and any party woken since the peers were read (a peer pinned, a message
            # queued) while this process was already active but its runner not yet made
            for party in {*parties, *self._woken_early}:
                self.workers[party] = DeliveryWorker(self.line, party, runner, node_tls=self.tls)
            self._woken_early.clear()
        runner.start()

    def _deactivate(self) -> None:
        """Stop every background job of this process and wait for their threads."""
        self.feeds.detach()  # the runner's stop below joins the feeds' threads
        with self._workers_lock:
            runner, self.runner = self.runner, None
            self.workers.clear()
            self._woken_early.clear()
        if runner is not None:
            runner.stop()

    def _ensure_worker(self, party: str) -> DeliveryWorker | None:
        """The delivery worker for ``party``, started if new (None while not active)."""
        with self._workers_lock:
            worker = self.workers.get(party)
            if worker is None and self.runner is None:
                self._woken_early.add(party)  # _activate starts its worker
            elif worker is None and self.runner is not None:
                worker = DeliveryWorker(self.line, party, self.runner, node_tls=self.tls)
                self.workers[party] = worker
            return worker

    def _wake_local(self, party: str) -> None:
        if self._running and party and self.active:
            worker = self._ensure_worker(party)
            if worker is not None:
                worker.wake()

    def wake(self, party: str) -> None:
        """Something was queued for ``party``: make the active process's worker look now."""
        if not self._running or not party:
            return
        if self.active:
            self._wake_local(party)
        elif self.leadership is not None:
            self.leadership.notify(party)

    def wake_all(self) -> None:
        """Make every delivery worker look at its outbox now."""
        with self._workers_lock:
            workers = list(self.workers.values())
        for worker in workers:
            worker.wake()
        if self._pull_job is not None:  # a delivery may have brought attachments
            self._pull_job.wake()

    def stop(self) -> None:
        self._running = False
        if self.leadership is not None:
            self.leadership.stop()  # its last act is _deactivate()
            self.leadership = None
        self._deactivate()
        self.db.dispose()

    def show(self, message_id: str) -> dict[str, Any]:
        """One message with its trail, renderings, rule findings and translations."""
        shown = self.notices.decorate(self.line.show(message_id))
        if shown["envelope"].get("attachments"):
            files = self.attachments.of_message(message_id)
            shown["attachments"] = files
            shown["attachments_complete"] = attachments_complete(files)
        return shown

    # -- peers -----------------------------------------------------------------------------

    def add_peer(self, card_obj: Any) -> tuple[PeerCard, bool]:
        """Pin a peer's card (verified, self-signed); returns it and whether its key is new.

        A card with an ``http://`` endpoint is refused unless ``allow_plain_http`` is on
        and every such endpoint is loopback (development only).
        """
        card, _public = open_card(card_obj)
        if card.party == self.identity.party:
            raise ValidationError("this is this node's own card, not a peer's")
        problem = tls.plain_http_problem(card.endpoints, self.settings.allow_plain_http)
        if problem:
            raise ValidationError(
                f"the card of {card.party} is refused: {problem}",
                hint="a peer is reached over https:// (mutual TLS); plain HTTP only for "
                "development on loopback, with allow_plain_http = true on this node",
            )
        with self.db.write() as conn:
            changed = peers.upsert(conn, card, json.dumps(card.wire()), rfc3339(self.clock.now()))
        self.receiver.forget_keys()
        self.wake(card.party)  # the active process starts a worker for it
        return card, changed

    def peer_list(self) -> list[dict[str, Any]]:
        with self.db.read() as conn:
            rows = peers.all_peers(conn)
        out = []
        for row in rows:
            worker = self.workers.get(row.party)
            out.append(
                {
                    "party": row.party,
                    "name_en": row.name_en,
                    "name_ru": row.name_ru,
                    "fingerprint": row.fingerprint,
                    "tls_pin": _pin_of(row.card),
                    "endpoints": list(row.endpoints),
                    "contacts": json.loads(row.card).get("contacts", []),
                    "added_at": row.added_at,
                    "delivery_failures": worker.failures if worker else None,
                    "last_error": worker.last_error if worker else None,
                }
            )
        return out


def init_node(
    directory: Path,
    *,
    party: str,
    name_en: str,
    name_ru: str | None = None,
    lang: str = "en",
    endpoints: list[str] | None = None,
    database_url: str = "",
    allow_plain_http: bool = False,
    settings: dict[str, Any] | None = None,
) -> Node:
    """Create a node: settings file, signing key (0600), TLS key (0600) and certificate,
    and migrated database.

    ``http://`` endpoints are refused unless ``allow_plain_http`` (written to the settings)
    and every one is loopback. ``settings``: more settings to write to the file.
    """
    if not re.match(PARTY_PATTERN, party):
        raise ValidationError(
            f"party id {party!r} is not allowed",
            hint="1-32 characters: lowercase letters, digits and '-', starting with a letter",
        )
    directory = directory.expanduser().resolve()
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    endpoints = endpoints or [DEFAULT_ENDPOINT]
    problem = tls.plain_http_problem(endpoints, allow_plain_http)
    if problem:
        raise ValidationError(
            problem,
            hint="give https:// endpoints; plain HTTP only for development on loopback, "
            "with --allow-plain-http",
        )
    if (directory / "hotline.toml").exists():
        raise ConfigError(f"{directory} already holds a node", hint="use another --dir")
    directory.chmod(0o700)  # the node's folder is its owner's only (keys.check_private)
    values: dict[str, Any] = {
        "party": party,
        "name_en": name_en,
        "name_ru": name_ru or name_en,
        "lang": lang,
        "endpoints": endpoints,
    }
    if database_url:
        values["database_url"] = database_url
    if allow_plain_http:
        values["allow_plain_http"] = True
    values |= settings or {}
    keys.save_private(keys.generate(), directory / "node.key")
    write_settings(directory, values)
    ensure_tls_files(load_settings(directory, environ={}))
    return Node.open(directory)


#: The endpoint of a node made without one: its federation listener on loopback.
DEFAULT_ENDPOINT = "https://127.0.0.1:8443"


def tls_hosts(settings: NodeSettings) -> list[str]:
    """The names a node's certificate carries: its endpoints' hosts and its listeners'."""
    from hotline.config import split_listen

    hosts = tls.hosts_of(settings.endpoints)
    for listen in (settings.federation_listen, settings.operator_listen):
        if listen:
            host = split_listen(listen)[0]
            if host not in hosts and host not in ("0.0.0.0", "::"):
                hosts.append(host)
    return hosts


def ensure_tls_files(settings: NodeSettings) -> bool:
    """Make the node's TLS key and certificate if it has none; whether it made them."""
    if tls.has_files(settings.directory):
        return False
    tls.write_files(settings.directory, tls_hosts(settings), settings.party)
    return True


def _pin_of(card_json: str) -> str | None:
    try:
        card = json.loads(card_json)
    except ValueError:
        return None
    found = card.get("tls_pin") if isinstance(card, dict) else None
    return found if isinstance(found, str) else None


def read_card_file(path: Path) -> Any:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ValidationError(f"cannot read card file {path}: {exc.strerror}") from exc
    return parse_json(raw, f"card file {path}")
