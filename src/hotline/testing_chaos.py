"""A seeded fault harness between two real nodes: the line must stay true under every fault.

Two ``hotline serve`` processes (``us`` and ``ru``) talk over mutual TLS, each through a
TCP proxy that stands in for it: the address on a node's card is its proxy's port, so the
peer's courier, link tests and checkpoint exchanges all pass through it (TLS goes through
untouched: the proxy only moves bytes). While operators send messages of every precedence
through the API (FLASH ones held and approved by a second officer) and the receiving
officers acknowledge them, the harness

- cuts a direction (open connections closed, new ones refused), delays it (bytes held
  N ms), or lets requests through but drops the answers (the connection is closed before
  the first byte of the answer reaches the client), then heals it;
- SIGKILLs either node and restarts it (one at a time, each restart complete before the
  next fault: a killed node that never came back would test nothing);
- steps one node's clock ±N s through the test clock (``HOTLINE_CLOCK_OFFSET_FILE``) and
  back.

Every choice comes from one seed, printed with the summary, so a run can be replayed
(the same plan of faults and load; the machine's timing still varies). After the faults it
heals everything, waits for the line to drain (with a generous deadline) and checks the
invariants: see :class:`Findings`. ``benchmarks/chaos.py`` runs it at any scale from the
command line; ``tests/e2e/test_chaos.py`` runs a small scale in the suite.

It lives in the package, beside :mod:`hotline.testing`, so that the benchmark (a script)
and the suite import the same code without path tricks. Nothing of the running node
imports it; it reads the databases only through the node's own services, after the
processes have stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from hotline.clock import OffsetClock, parse_rfc3339
from hotline.domain.line import Receipt
from hotline.protocol.envelope import parse, verify_signature
from hotline.testing import (
    DatabaseFactory,
    NodeProcess,
    api,
    free_port,
    tls_node_settings,
    wait_for,
)

PARTIES = ("us", "ru")
NAMES = {
    "us": ("United States", "Соединённые Штаты Америки", "en"),
    "ru": ("Russian Federation", "Российская Федерация", "ru"),
}
#: Two officers per node: FLASH needs a second person to approve (two-person rule).
USERS = ("officer", "second")
PASSWORD = "chaos-harness-passphrase-{party}-{number}"
PRECEDENCES = ("FLASH", "IMMEDIATE", "PRIORITY", "ROUTINE")
#: How often each precedence is sent (FLASH costs two requests: send, then approve).
WEIGHTS = (1, 2, 3, 6)
#: Outbound states in the order a message may move through them; never backwards.
OUT_RANK = {"queued": 0, "sent": 1, "delivered": 2, "acknowledged": 3}
IN_RANK = {"received": 0, "acknowledged": 1}
#: The node settings the harness runs with: quick retries, link tests every 2 s.
NODE_ENV = {
    "HOTLINE_RETRY_CAP_S": "2",
    "HOTLINE_RETRY_BASE_S": "0.1",
    "HOTLINE_LINK_TEST_INTERVAL_S": "2",
    "HOTLINE_LINK_TEST_TIMEOUT_S": "3",
    "HOTLINE_TICK_S": "0.5",
}
#: Seconds an API call may keep failing (node being killed and restarted) before the
#: harness gives up on it.
CALL_DEADLINE_S = 180.0


def other(party: str) -> str:
    return "ru" if party == "us" else "us"


# --------------------------------------------------------------------------- the proxy


class _Conn:
    """One proxied connection: its two writers and who spoke last (for drop mode)."""

    def __init__(self, client: asyncio.StreamWriter, server: asyncio.StreamWriter) -> None:
        self.client = client
        self.server = server
        self.client_turns = 0
        self.last: str = ""
        self.closed = False

    def abort(self) -> None:
        """Close both sides at once (a reset, as a cable pulled mid-answer)."""
        if not self.closed:
            self.closed = True
            for writer in (self.client, self.server):
                writer.transport.abort()


class LinkProxy:
    """A TCP proxy for one federation direction, on its own asyncio loop in a thread.

    Modes: open (bytes pass, each held ``delay_s``), ``cut`` (every connection closed and
    new ones closed as they arrive), ``drop`` (requests pass, but the connection is reset
    when the server's answer begins: the server did the work, the client never hears).

    With TLS 1.3 and no session tickets (the node's listener sends none) the client speaks
    twice before the server answers a request: its hello, then its certificate, finished
    and request; the server's second turn is the first that can be an answer. So ``drop``
    resets a connection when the server speaks after the client's second turn.
    """

    def __init__(self, listen_port: int, target_port: int, *, handshake_turns: int = 2) -> None:
        self.listen_port = listen_port
        self.target_port = target_port
        self.handshake_turns = handshake_turns
        self.mode = "open"
        self.delay_s = 0.0
        self.connections = 0
        self.dropped_answers = 0
        self.refused = 0
        self._conns: set[_Conn] = set()
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.Server | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    def start(self) -> LinkProxy:
        self._thread.start()
        self._run(self._listen())
        return self

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.listen_port)

    def _run(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=30)

    def cut(self) -> None:
        self._run(self._set("cut", 0.0))

    def drop_answers(self) -> None:
        self._run(self._set("drop", 0.0))

    def delay(self, milliseconds: int) -> None:
        self._run(self._set("open", milliseconds / 1000))

    def heal(self) -> None:
        self._run(self._set("open", 0.0))

    async def _set(self, mode: str, delay_s: float) -> None:
        self.mode, self.delay_s = mode, delay_s
        if mode == "cut":
            for conn in list(self._conns):
                conn.abort()

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._run(self._shutdown())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        for conn in list(self._conns):
            conn.abort()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        if self.mode == "cut":
            self.refused += 1
            writer.transport.abort()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.transport.abort()
            return
        conn = _Conn(writer, up_writer)
        self._conns.add(conn)
        try:
            await asyncio.gather(
                self._pump(reader, up_writer, conn, from_client=True),
                self._pump(up_reader, writer, conn, from_client=False),
            )
        finally:
            conn.abort()
            self._conns.discard(conn)

    async def _pump(
        self,
        source: asyncio.StreamReader,
        sink: asyncio.StreamWriter,
        conn: _Conn,
        *,
        from_client: bool,
    ) -> None:
        """Move bytes one way, each chunk held until its due time (order kept)."""
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()
        loop = asyncio.get_running_loop()

        async def deliver() -> None:
            while True:
                due, data = await queue.get()
                if not data:
                    break
                wait = due - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                if conn.closed:
                    return
                sink.write(data)
                await sink.drain()
            conn.abort()  # one side ended: end the other (HTTP needs no half-close here)

        writer_task = asyncio.create_task(deliver())
        try:
            while not conn.closed:
                data = await source.read(65536)
                if not data or self.mode == "cut":
                    break
                if from_client:
                    if conn.last != "client":
                        conn.client_turns += 1
                    conn.last = "client"
                else:
                    conn.last = "server"
                    if self.mode == "drop" and conn.client_turns >= self.handshake_turns:
                        self.dropped_answers += 1
                        conn.abort()
                        break
                queue.put_nowait((loop.time() + self.delay_s, data))
        except OSError:
            conn.abort()
        finally:
            queue.put_nowait((0.0, b""))
            with contextlib.suppress(OSError):
                await writer_task


# --------------------------------------------------------------------------- the plan


@dataclass
class ChaosConfig:
    """One run's scale and seed (every random choice of the run comes from ``seed``)."""

    seed: int
    messages: int = 150
    kills: int = 3
    partitions: int = 3
    clock_steps: int = 1
    backend: str = "sqlite"
    #: Seconds over which the load and the faults are spread.
    duration: float = 30.0
    #: Size of a clock step (s): beyond the nodes' allowed skew (300 s) when sent ahead.
    clock_step_s: int = 400
    #: Share of ROUTINE and PRIORITY messages acknowledged (FLASH and IMMEDIATE: all).
    ack_share: float = 0.8
    #: Seconds allowed for the line to drain after healing.
    drain_timeout: float = 240.0
    #: How many messages per direction get an evidence bundle exported and verified.
    bundles: int = 10

    def replay(self) -> str:
        return (
            f"benchmarks/chaos.py --seed {self.seed} --messages {self.messages} "
            f"--kills {self.kills} --partitions {self.partitions} "
            f"--clock-steps {self.clock_steps} --backend {self.backend} "
            f"--duration {self.duration:g}"
        )


@dataclass
class Fault:
    """One planned fault: what, where, and for how long (s)."""

    kind: str  # kill | cut | delay | drop | clock
    target: str  # a party (kill, clock) or the party a direction leads to (cut …)
    hold_s: float = 0.0
    amount: int = 0  # delay ms, or clock step s
    started: float = 0.0  # wall time (time.time) when it began
    ended: float = 0.0

    def describe(self) -> str:
        if self.kind == "kill":
            return f"SIGKILL {self.target}"
        if self.kind == "clock":
            return f"clock of {self.target} {self.amount:+d} s for {self.hold_s:.1f} s"
        what = {"cut": "cut", "delay": f"delay {self.amount} ms", "drop": "drop answers"}
        return f"{what[self.kind]} on the link to {self.target} for {self.hold_s:.1f} s"


def plan_faults(config: ChaosConfig, rng: random.Random) -> list[Fault]:
    """The faults of a run, in order, all drawn from the seed's generator."""
    kinds = ["kill"] * config.kills + ["link"] * config.partitions
    kinds += ["clock"] * config.clock_steps
    rng.shuffle(kinds)
    plan = []
    for kind in kinds:
        target = rng.choice(PARTIES)
        if kind == "kill":
            plan.append(Fault("kill", target))
        elif kind == "clock":
            sign = rng.choice((1, -1))
            plan.append(Fault("clock", target, rng.uniform(3, 6), sign * config.clock_step_s))
        else:
            how = rng.choice(("cut", "delay", "drop"))
            amount = rng.choice((300, 800, 1500)) if how == "delay" else 0
            plan.append(Fault(how, target, rng.uniform(2, 6), amount))
    return plan


def acknowledges(seed: int, ref: str, precedence: str, share: float) -> bool:
    """Whether the receiving officer acknowledges message ``ref`` (the same in a replay)."""
    if precedence in ("FLASH", "IMMEDIATE"):
        return True
    digest = hashlib.sha256(f"{seed}:{ref}".encode()).digest()
    return int.from_bytes(digest[:4], "big") / 2**32 < share


# --------------------------------------------------------------------------- the nodes


@dataclass
class ChaosPair:
    """Two nodes, each behind the proxy that its card names."""

    root: Path
    nodes: dict[str, NodeProcess]
    proxies: dict[str, LinkProxy]  # by the party the proxied direction leads to
    offset_files: dict[str, Path]
    db_urls: dict[str, str]
    tokens: dict[tuple[str, str], str] = field(default_factory=dict)

    def login(self) -> None:
        for party in PARTIES:
            for user in USERS:
                with api(self.nodes[party]) as client:
                    answer = client.post(
                        "/api/v1/login",
                        json={
                            "user": user,
                            "password": PASSWORD.format(party=party, number=USERS.index(user)),
                        },
                    )
                answer.raise_for_status()
                self.tokens[party, user] = answer.json()["token"]

    def client(self, party: str, user: str = "officer") -> httpx.Client:
        return api(self.nodes[party], self.tokens[party, user])

    def heal(self) -> None:
        for proxy in self.proxies.values():
            proxy.heal()
        for path in self.offset_files.values():
            OffsetClock.write(path, 0)

    def close(self) -> None:
        """Stop both nodes and both proxies (safe to call twice)."""
        for node in self.nodes.values():
            with contextlib.suppress(Exception):
                node.stop()
        for proxy in self.proxies.values():
            with contextlib.suppress(Exception):
                proxy.close()
        self.proxies = {}


def make_pair(root: Path, databases: DatabaseFactory) -> ChaosPair:
    """Two fresh nodes in ``root`` with databases from ``databases``, paired through proxies
    (started: proxies and nodes), their officers logged in."""
    from hotline.node import init_node

    proxy_ports = {party: free_port() for party in PARTIES}
    listen_ports = {party: free_port() for party in PARTIES}
    operator_ports = {party: free_port() for party in PARTIES}
    db_urls = {party: databases.new(f"chaos-{party}") for party in PARTIES}
    made = {}
    for party in PARTIES:
        name_en, name_ru, lang = NAMES[party]
        settings = tls_node_settings(operator_ports[party])
        settings["federation_listen"] = f"127.0.0.1:{listen_ports[party]}"
        made[party] = init_node(
            root / party,
            party=party,
            name_en=name_en,
            name_ru=name_ru,
            lang=lang,
            endpoints=[f"https://127.0.0.1:{proxy_ports[party]}"],  # the peer dials the proxy
            database_url=db_urls[party],
            settings=settings,
        )
        for user in USERS:
            made[party].auth.add_user(user, PASSWORD.format(party=party, number=USERS.index(user)))
    made["us"].add_peer(made["ru"].identity.card().wire())
    made["ru"].add_peer(made["us"].identity.card().wire())
    for node in made.values():
        node.db.dispose()
    base = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    base.update(NODE_ENV)
    offsets = {party: root / f"{party}-clock-offset" for party in PARTIES}
    nodes = {}
    for party in PARTIES:
        OffsetClock.write(offsets[party], 0)
        env = base | {OffsetClock.ENV: str(offsets[party])}
        nodes[party] = NodeProcess(
            root / party,
            f"https://127.0.0.1:{operator_ports[party]}",
            env,
            federation_url=f"https://127.0.0.1:{listen_ports[party]}",
        )
    proxies = {p: LinkProxy(proxy_ports[p], listen_ports[p]).start() for p in PARTIES}
    pair = ChaosPair(root, nodes, proxies, offsets, db_urls)
    try:
        for process in nodes.values():
            process.start()
        pair.login()
    except BaseException:
        pair.close()
        raise
    return pair


# --------------------------------------------------------------------------- the load


@dataclass
class Accepted:
    """A message the API accepted (2xx): by whom, in which order, under which id."""

    party: str
    index: int
    ref: str
    precedence: str
    message_id: str
    acked_expected: bool


class Record:
    """What the load threads saw, shared between them (one lock)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.accepted: list[Accepted] = []
        self.not_accepted: list[str] = []
        self.server_errors: Counter[str] = Counter()  # "party METHOD path-kind" -> 5xx count
        self.acked: dict[str, float] = {}  # inbound id -> wall time the ack API said 2xx
        self.last_state: dict[tuple[str, str], tuple[int, str]] = {}
        self.regressions: list[str] = []
        self.errors: list[str] = []

    def observe(self, party: str, row: dict[str, Any]) -> None:
        """Note a state seen through the API; one lower than the last seen is a regression."""
        ranks = OUT_RANK if row["direction"] == "out" else IN_RANK
        rank = ranks.get(row["state"])
        if rank is None:
            return
        key = (party, row["id"])
        with self.lock:
            seen = self.last_state.get(key)
            if seen is not None and rank < seen[0]:
                self.regressions.append(
                    f"{party} {row['direction']} {row['id']}: {seen[1]} -> {row['state']}"
                )
            if seen is None or rank >= seen[0]:
                self.last_state[key] = (rank, row["state"])


def _call(
    record: Record,
    client: httpx.Client,
    party: str,
    method: str,
    path: str,
    body: dict[str, Any] | None = None,
    *,
    stop: threading.Event | None = None,
) -> httpx.Response | None:
    """One API call, repeated while the node is down or answers 5xx (counted); the answer,
    or None when it kept failing past :data:`CALL_DEADLINE_S` (or ``stop`` was set)."""
    deadline = time.monotonic() + CALL_DEADLINE_S
    while time.monotonic() < deadline and not (stop is not None and stop.is_set()):
        try:
            answer = client.request(method, path, json=body, timeout=30)
        except httpx.HTTPError:
            time.sleep(0.2)  # the node is down or restarting: try again shortly
            continue
        if answer.status_code >= 500:
            kind = path.split("/")[3] if path.count("/") >= 3 else path
            with record.lock:
                record.server_errors[f"{party} {method} {kind} {answer.status_code}"] += 1
            time.sleep(0.2)
            continue
        return answer
    return None


class Sender(threading.Thread):
    """One party's operators: sends its share of messages in order, at an even pace, each
    retried under its ``client_ref`` until accepted; FLASH approved by the second officer."""

    def __init__(
        self, pair: ChaosPair, party: str, count: int, config: ChaosConfig, record: Record
    ) -> None:
        super().__init__(daemon=True, name=f"chaos-sender-{party}")
        self.pair, self.party, self.count = pair, party, count
        self.config, self.record = config, record
        self.rng = random.Random(f"{config.seed}:send:{party}")

    def run(self) -> None:
        try:
            with (
                self.pair.client(self.party) as officer,
                self.pair.client(self.party, "second") as second,
            ):
                start = time.monotonic()
                pace = self.config.duration / max(1, self.count)
                for index in range(self.count):
                    wait = start + index * pace - time.monotonic()
                    if wait > 0:
                        time.sleep(wait)  # pacing the load, not waiting for a result
                    self._send(officer, second, index)
        except Exception as exc:  # surfaced in the findings
            with self.record.lock:
                self.record.errors.append(f"sender {self.party}: {exc!r}")

    def _send(self, officer: httpx.Client, second: httpx.Client, index: int) -> None:
        precedence = self.rng.choices(PRECEDENCES, WEIGHTS)[0]
        ref = f"{self.party}-{index}"
        text = f"chaos {self.config.seed} {ref} {precedence}"
        body = {"to": other(self.party), "text": text, "precedence": precedence}
        answer = _call(
            self.record, officer, self.party, "POST", "/api/v1/messages", body | {"client_ref": ref}
        )
        message_id = None
        if answer is not None and answer.status_code == 202:  # FLASH: held
            held_id = answer.json()["id"]
            answer = _call(
                self.record, second, self.party, "POST", f"/api/v1/held/{held_id}/approve"
            )
            if answer is not None and answer.status_code == 200:
                message_id = answer.json()["message_id"]
        elif answer is not None and answer.status_code in (200, 201):
            message_id = answer.json()["id"]
        with self.record.lock:
            if message_id is None:
                what = "no answer" if answer is None else f"{answer.status_code} {answer.text}"
                self.record.not_accepted.append(f"{ref}: {what[:200]}")
                return
            expected = acknowledges(self.config.seed, ref, precedence, self.config.ack_share)
            self.record.accepted.append(
                Accepted(self.party, index, ref, precedence, message_id, expected)
            )


class Acker(threading.Thread):
    """One party's receiving officer: acknowledges what the seed says to, as it arrives."""

    def __init__(self, pair: ChaosPair, party: str, config: ChaosConfig, record: Record) -> None:
        super().__init__(daemon=True, name=f"chaos-acker-{party}")
        self.pair, self.party, self.config, self.record = pair, party, config, record
        self.stop = threading.Event()
        self.pending = 0  # received, to be acknowledged, not yet (at the last look)

    def run(self) -> None:
        try:
            with self.pair.client(self.party) as client:
                while not self.stop.is_set():
                    self._round(client)
                    self.stop.wait(0.3)  # the officer looks at the inbox again shortly
        except Exception as exc:
            with self.record.lock:
                self.record.errors.append(f"acker {self.party}: {exc!r}")

    def _round(self, client: httpx.Client) -> None:
        try:
            answer = client.get("/api/v1/inbox", params={"limit": 5000}, timeout=30)
        except httpx.HTTPError:
            return
        if answer.status_code != 200:
            return
        pending = 0
        for row in answer.json():
            self.record.observe(self.party, row)
            text = row["body"].get("text", "")
            parts = text.split()
            if row["type"] != "text" or len(parts) != 4 or parts[0] != "chaos":
                continue
            ref, precedence = parts[2], parts[3]
            if not acknowledges(self.config.seed, ref, precedence, self.config.ack_share):
                continue
            if row["id"] in self.record.acked:
                continue
            pending += 1
            done = _call(
                self.record,
                client,
                self.party,
                "POST",
                f"/api/v1/messages/{row['id']}/ack",
                stop=self.stop,
            )
            if done is not None and done.status_code == 200:
                self.record.observe(self.party, done.json())
                with self.record.lock:
                    self.record.acked[row["id"]] = time.time()
                pending -= 1
        self.pending = pending


class Observer(threading.Thread):
    """Watches both outboxes through the API and notes every state it sees."""

    def __init__(self, pair: ChaosPair, record: Record) -> None:
        super().__init__(daemon=True, name="chaos-observer")
        self.pair, self.record = pair, record
        self.stop = threading.Event()

    def run(self) -> None:
        clients = {party: self.pair.client(party) for party in PARTIES}
        try:
            while not self.stop.is_set():
                for party, client in clients.items():
                    with contextlib.suppress(httpx.HTTPError, ValueError):
                        answer = client.get("/api/v1/outbox", params={"limit": 5000}, timeout=30)
                        if answer.status_code == 200:
                            for row in answer.json():
                                self.record.observe(party, row)
                self.stop.wait(0.5)
        finally:
            for client in clients.values():
                client.close()


# --------------------------------------------------------------------------- findings


#: Invariants the harness checks, with what a violation of each means.
INVARIANTS = {
    "lost": "accepted (API 2xx) but never stored by the receiver",
    "duplicated": "stored more than once (by the receiver, or queued twice by the sender)",
    "reordered": "stored by the receiver out of the order the sender accepted them",
    "stuck": "accepted but not delivered (or not acknowledged as asked) after draining",
    "missing_receipts": "no verified receipt stored at the sender (or no delivered_at)",
    "missing_acks": "acknowledged on the receiver but not acknowledged at the sender",
    "state_regressions": "a state seen through the API went backwards",
    "channel_mismatch": "outbox and inbox disagree (seq, id or hash) or seqs have gaps",
    "log_problems": "a Merkle log not whole, not co-signed to its end, or a fork seen",
    "bundle_failures": "an exported evidence bundle that does not verify or lacks an entry",
    "unexplained_alarms": "an alarm no fault explains, or one still open after healing",
    "alarms_over_incidents": "more alarms of a kind than incidents that could raise them",
    "negative_alarm_durations": "a cleared alarm with a negative duration",
    "server_errors": "HTTP 5xx answers from the operator API",
    "not_accepted": "a send never accepted within the call deadline",
    "harness_errors": "a load thread failed",
}


@dataclass
class Findings:
    """What a run did and what it found; ``violations`` maps invariant -> examples."""

    config: ChaosConfig
    plan: list[Fault] = field(default_factory=list)
    accepted: int = 0
    kills: int = 0
    partitions: int = 0
    clock_steps: int = 0
    fault_phase_s: float = 0.0
    drain_s: float | None = None
    alarms: dict[str, Counter[str]] = field(default_factory=dict)
    proxies: dict[str, dict[str, int]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(INVARIANTS, 0))
    examples: dict[str, list[str]] = field(default_factory=dict)

    def violate(self, invariant: str, example: str, count: int = 1) -> None:
        self.counts[invariant] += count
        shown = self.examples.setdefault(invariant, [])
        if len(shown) < 5:
            shown.append(example)

    @property
    def violations(self) -> dict[str, int]:
        return {name: n for name, n in self.counts.items() if n}

    @property
    def ok(self) -> bool:
        return not self.violations

    @property
    def throughput(self) -> float:
        """Messages accepted per second while the faults went on."""
        return self.accepted / self.fault_phase_s if self.fault_phase_s else 0.0

    def summary(self) -> str:
        c = self.config
        drain = "did not drain" if self.drain_s is None else f"{self.drain_s:.1f} s"
        lines = [
            f"chaos seed {c.seed} on {c.backend}: replay with {c.replay()}",
            f"  messages accepted {self.accepted} of {c.messages}, kills {self.kills}, "
            f"partitions {self.partitions}, clock steps {self.clock_steps}",
            f"  fault phase {self.fault_phase_s:.1f} s, throughput under faults "
            f"{self.throughput:.1f} msg/s, drain time after healing {drain}",
        ]
        for name in INVARIANTS:
            lines.append(f"  {name:<26} {self.counts[name]}")
        for party, kinds in sorted(self.alarms.items()):
            shown = ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())) or "none"
            lines.append(f"  alarms at {party}: {shown}")
        for name, stats in sorted(self.proxies.items()):
            lines.append(
                f"  proxy to {name}: {stats['connections']} connections, "
                f"{stats['refused']} refused, {stats['dropped_answers']} answers dropped"
            )
        for name, examples in self.examples.items():
            lines.append(f"  e.g. {name}:")
            lines += [f"    - {line}" for line in examples]
        lines.append("  plan: " + "; ".join(f.describe() for f in self.plan))
        lines.append("OK" if self.ok else "VIOLATIONS: " + json.dumps(self.violations))
        return "\n".join(lines)


# --------------------------------------------------------------------------- the run


def run_chaos(
    config: ChaosConfig, root: Path, databases: DatabaseFactory, log: Callable[[str], None]
) -> Findings:
    """One whole run in ``root``: start, load and faults, heal, drain, check; nodes and
    proxies are stopped whatever happens (``databases`` is the caller's to drop).

    Must be called from the thread that lives longest (the main thread or a test's): node
    processes die with the thread that started them, and kills restart them from here.
    """
    rng = random.Random(config.seed)
    findings = Findings(config, plan=plan_faults(config, rng))
    log(f"chaos: seed {config.seed}, {len(findings.plan)} faults planned")
    pair = make_pair(root, databases)
    record = Record()
    try:
        ackers, observer = _load_and_faults(pair, config, findings, record, log)
        _drain_and_check(pair, config, findings, record, ackers, observer, log)
        pair.close()
        _check_offline(pair, config, findings, record)
    finally:
        pair.close()
        for url in pair.db_urls.values():
            databases.release(url)
    return findings


def _load_and_faults(
    pair: ChaosPair,
    config: ChaosConfig,
    findings: Findings,
    record: Record,
    log: Callable[[str], None],
) -> tuple[dict[str, Acker], Observer]:
    """Start the load, carry out the plan from this thread, wait for every send; the
    acknowledging officers and the observer go on (returned) through the drain."""
    share = {"us": (config.messages + 1) // 2, "ru": config.messages // 2}
    senders = [Sender(pair, p, share[p], config, record) for p in PARTIES]
    ackers = {p: Acker(pair, p, config, record) for p in PARTIES}
    observer = Observer(pair, record)
    started = time.monotonic()
    for thread in (*senders, *ackers.values(), observer):
        thread.start()
    gap = config.duration / (len(findings.plan) + 1)
    for number, fault in enumerate(findings.plan, start=1):
        wait = started + number * gap - time.monotonic()
        if wait > 0:
            time.sleep(wait)  # the plan's spacing of faults, not a synchronisation
        _apply(pair, fault, log)
    for sender in senders:
        sender.join(timeout=config.duration + 2 * CALL_DEADLINE_S)
    findings.fault_phase_s = time.monotonic() - started
    with record.lock:
        findings.accepted = len(record.accepted)
    findings.kills = sum(f.kind == "kill" for f in findings.plan)
    findings.partitions = sum(f.kind in ("cut", "delay", "drop") for f in findings.plan)
    findings.clock_steps = sum(f.kind == "clock" for f in findings.plan)
    return ackers, observer


def _apply(pair: ChaosPair, fault: Fault, log: Callable[[str], None]) -> None:
    """Carry out one fault, then undo it (kills: restart and wait until it serves)."""
    fault.started = time.time()
    log(f"chaos: {fault.describe()}")
    if fault.kind == "kill":
        node = pair.nodes[fault.target]
        node.kill()
        node.start(timeout=180)
    elif fault.kind == "clock":
        OffsetClock.write(pair.offset_files[fault.target], fault.amount)
        time.sleep(fault.hold_s)  # the fault lasts this long
        OffsetClock.write(pair.offset_files[fault.target], 0)
    else:
        proxy = pair.proxies[fault.target]
        if fault.kind == "cut":
            proxy.cut()
        elif fault.kind == "drop":
            proxy.drop_answers()
        else:
            proxy.delay(fault.amount)
        time.sleep(fault.hold_s)  # the fault lasts this long
        proxy.heal()
    fault.ended = time.time()


def _api_json(pair: ChaosPair, party: str, path: str, **params: Any) -> Any:
    with pair.client(party) as client:
        answer = client.get(path, params=params, timeout=30)
    answer.raise_for_status()
    return answer.json()


def _drain_and_check(
    pair: ChaosPair,
    config: ChaosConfig,
    findings: Findings,
    record: Record,
    ackers: dict[str, Acker],
    observer: Observer,
    log: Callable[[str], None],
) -> None:
    """Heal everything, wait for the line to drain, then check what needs the nodes up."""
    pair.heal()
    healed = time.monotonic()
    healed_wall = time.time()
    by_party: dict[str, list[Accepted]] = {p: [] for p in PARTIES}
    for item in record.accepted:
        by_party[item.party].append(item)

    def drained() -> bool:
        try:
            for party in PARTIES:
                rows = {r["id"]: r for r in _api_json(pair, party, "/api/v1/outbox", limit=5000)}
                for item in by_party[party]:
                    row = rows.get(item.message_id)
                    if row is None:
                        return False
                    want = ("acknowledged",) if item.acked_expected else ("delivered",)
                    if row["state"] not in want:
                        return False
                alarms = _api_json(pair, party, "/api/v1/alarms", state="open")
                if any(a["kind"] in ("link_down", "delivery_refused") for a in alarms):
                    return False
            return not any(acker.pending for acker in ackers.values())
        except (httpx.HTTPError, ValueError):
            return False

    try:
        wait_for(drained, "the line to drain", timeout=config.drain_timeout, every=0.5)
        findings.drain_s = time.monotonic() - healed
        log(f"chaos: drained in {findings.drain_s:.1f} s")
    except AssertionError:
        log("chaos: the line did not drain in time; checking what is left")
    for acker in ackers.values():
        acker.stop.set()
    observer.stop.set()
    for thread in (*ackers.values(), observer):
        thread.join(timeout=CALL_DEADLINE_S)
    _check_alarms(pair, findings, healed_wall)
    _check_logs_online(pair, findings)


def _check_alarms(pair: ChaosPair, findings: Findings, healed_wall: float) -> None:
    """Every alarm explained by a fault, none open after healing, at most one per incident."""
    plan = findings.plan
    slack = 20.0 + max((abs(f.amount) for f in plan if f.kind == "clock"), default=0)
    for party in PARTIES:
        alarms = _api_json(pair, party, "/api/v1/alarms")
        kinds: Counter[str] = Counter(a["kind"] for a in alarms)
        findings.alarms[party] = kinds
        peer = other(party)
        # what can make this node lose its peer: the peer killed, or either direction
        # faulted; what can make the peer refuse its messages: either clock stepped
        link_incidents = sum(1 for f in plan if f.kind != "kill" or f.target == peer)
        refusal_incidents = sum(1 for f in plan if f.kind == "clock")
        for alarm in alarms:
            where = f"{party}: {alarm['kind']} {alarm['subject']} raised {alarm['raised_at']}"
            if alarm["state"] == "open":
                findings.violate("unexplained_alarms", where + " still open after healing")
                continue
            if alarm["duration_s"] is not None and alarm["duration_s"] < 0:
                findings.violate(
                    "negative_alarm_durations", where + f" lasted {alarm['duration_s']} s"
                )
            if alarm["kind"] not in ("link_down", "delivery_refused"):
                findings.violate("unexplained_alarms", where + " (no fault raises this kind)")
                continue
            raised = parse_rfc3339(alarm["raised_at"]).timestamp()
            near = [f for f in plan if f.started - slack <= raised <= f.ended + slack]
            if not near and raised <= healed_wall + slack:
                findings.violate("unexplained_alarms", where + " (no fault near that time)")
        if kinds["link_down"] > link_incidents:
            findings.violate(
                "alarms_over_incidents",
                f"{party}: {kinds['link_down']} link_down alarms for {link_incidents} incidents",
            )
        if kinds["delivery_refused"] > refusal_incidents:
            findings.violate(
                "alarms_over_incidents",
                f"{party}: {kinds['delivery_refused']} delivery_refused alarms for "
                f"{refusal_incidents} clock steps",
            )


def _check_logs_online(pair: ChaosPair, findings: Findings) -> None:
    """Each node signs its log's head and has the peer co-sign it; no fork seen."""
    for party in PARTIES:

        def cosigned(party: str = party) -> bool:
            try:
                with pair.client(party) as client:
                    answer = client.post("/api/v1/log/checkpoint/exchange", timeout=60)
                return answer.status_code == 200 and bool(answer.json()["ok"])
            except httpx.HTTPError:
                return False

        try:
            wait_for(cosigned, f"{party}'s checkpoint to be co-signed", timeout=120, every=1)
        except AssertionError as exc:
            findings.violate("log_problems", f"{party}: {exc}")
            continue
        state = _api_json(pair, party, "/api/v1/log")
        last = state["last_cosigned"] or {}
        if state["forks"]:
            findings.violate("log_problems", f"{party}: {state['forks']} forks seen")
        if last.get("size") != state["size"]:
            findings.violate(
                "log_problems",
                f"{party}: log size {state['size']}, last co-signed {last.get('size')}",
            )
    for name, proxy in pair.proxies.items():
        findings.proxies[name] = {
            "connections": proxy.connections,
            "refused": proxy.refused,
            "dropped_answers": proxy.dropped_answers,
        }


def _check_offline(
    pair: ChaosPair, config: ChaosConfig, findings: Findings, record: Record
) -> None:
    """With both nodes stopped: every accepted message once, in order, receipted; both
    channels agree envelope for envelope; both logs whole; a sample of bundles verifies."""
    from hotline.node import Node

    with record.lock:
        for line in record.not_accepted:
            findings.violate("not_accepted", line)
        for line in record.regressions:
            findings.violate("state_regressions", line)
        for line in record.errors:
            findings.violate("harness_errors", line)
        for what, count in record.server_errors.items():
            findings.violate("server_errors", f"{count} x {what}", count)
    nodes = {party: Node.open(pair.root / party) for party in PARTIES}
    try:
        for party in PARTIES:
            _check_direction(nodes[party], nodes[other(party)], config, findings, record)
        for party, node in nodes.items():
            audit = node.evidence.audit()
            if not audit.whole:
                findings.violate("log_problems", f"{party}: {audit.summary()}")
    finally:
        for node in nodes.values():
            node.db.dispose()


def _check_direction(
    sender: Any, receiver: Any, config: ChaosConfig, findings: Findings, record: Record
) -> None:
    from hotline.services.evidence.bundle import export_bundle
    from hotline.services.evidence.verify import verify_bundle
    from hotline.storage.messages import IN, OUT

    me, peer = sender.identity.party, receiver.identity.party
    everything = 10**9
    outbox = sender.line.listing(OUT, peer=peer, limit=everything)
    inbox = receiver.line.listing(IN, peer=me, limit=everything)
    accepted = [a for a in record.accepted if a.party == me]

    # the channel, envelope for envelope: same seqs 1..n, ids and hashes on both sides
    out_by_seq = {r["seq"]: r for r in outbox}
    in_by_seq = {r["seq"]: r for r in inbox}
    if len(out_by_seq) != len(outbox) or len(in_by_seq) != len(inbox):
        findings.violate("channel_mismatch", f"{me}->{peer}: a seq is used twice")
    if sorted(out_by_seq) != list(range(1, len(out_by_seq) + 1)):
        findings.violate("channel_mismatch", f"{me}->{peer}: the sender's seqs have gaps")
    if sorted(in_by_seq) != list(range(1, len(in_by_seq) + 1)):
        findings.violate("channel_mismatch", f"{me}->{peer}: the receiver's seqs have gaps")
    # what the sender queued after the drain (link tests go on) may be in flight at the
    # stop: a tail of system messages not yet delivered, none of the accepted ones
    accepted_ids = {a.message_id for a in accepted}
    tail = max(in_by_seq, default=0)
    for seq in sorted(out_by_seq):
        row = out_by_seq[seq]
        in_flight = seq > tail and row["state"] in ("queued", "sent")
        if in_flight and row["type"] != "text" and row["id"] not in accepted_ids:
            del out_by_seq[seq]
    for seq in sorted(set(out_by_seq) | set(in_by_seq)):
        sent, got = out_by_seq.get(seq), in_by_seq.get(seq)
        if sent is None or got is None or (sent["id"], sent["hash"]) != (got["id"], got["hash"]):
            findings.violate(
                "channel_mismatch",
                f"{me}->{peer} seq {seq}: outbox {sent and sent['id']} inbox {got and got['id']}",
            )

    # the accepted messages: once, in order, delivered, receipted, acknowledged as asked
    def ref_of(row: dict[str, Any]) -> str | None:
        parts = str(row["body"].get("text", "")).split()
        return parts[2] if len(parts) == 4 and parts[0] == "chaos" else None

    for where, rows in (("receiver", inbox), ("sender", outbox)):
        for ref, count in Counter(ref_of(r) for r in rows if ref_of(r)).items():
            if count > 1:
                findings.violate("duplicated", f"{me}->{peer} {ref} {count} times at the {where}")
    in_by_id = {r["id"]: r for r in inbox}
    out_by_id = {r["id"]: r for r in outbox}
    order = {a.message_id: a.index for a in accepted}
    last_index, last_seq = -1, 0
    for row in sorted((r for r in inbox if r["id"] in order), key=lambda r: r["seq"]):
        if order[row["id"]] < last_index:
            findings.violate(
                "reordered", f"{me}->{peer}: {row['id']} at seq {row['seq']} after seq {last_seq}"
            )
        last_index, last_seq = max(last_index, order[row["id"]]), row["seq"]
    public = receiver.identity.key.public_key()
    for item in accepted:
        row = out_by_id.get(item.message_id)
        where = f"{me}->{peer} {item.ref} ({item.precedence}) {item.message_id}"
        if item.message_id not in in_by_id:
            findings.violate("lost", where)
        want = "acknowledged" if item.acked_expected else "delivered"
        if row is None or row["state"] != want:
            findings.violate("stuck", f"{where}: {row and row['state']}, expected {want}")
        if row is None:
            continue
        shown = sender.line.show(item.message_id)
        problem = _receipt_problem(shown, row, me, peer, public)
        if problem:
            findings.violate("missing_receipts", f"{where}: {problem}")
        inbound = in_by_id.get(item.message_id)
        if inbound is not None and inbound["id"] in record.acked and row["acked_at"] is None:
            findings.violate("missing_acks", f"{where}: acknowledged at {peer}, not at {me}")

    # evidence bundles of a sample, exported and verified offline as anyone would
    rng = random.Random(f"{config.seed}:bundles:{me}")
    sample = rng.sample(accepted, min(config.bundles, len(accepted)))
    trusted = (sender.identity.fingerprint, receiver.identity.fingerprint)
    for item in sample:
        where = f"{me} bundle of {item.ref} {item.message_id}"
        try:
            raw = export_bundle(sender.evidence, item.message_id)
        except Exception as exc:
            findings.violate("bundle_failures", f"{where}: not exported: {exc}")
            continue
        verdict = verify_bundle(raw, trusted=trusted)
        roles = [e["role"] for e in json.loads(raw)["entries"]]
        want_roles = ["envelope", "receipt"]
        if item.message_id in out_by_id and out_by_id[item.message_id]["acked_at"]:
            want_roles += ["ack", "ack_receipt"]
        if not verdict.ok:
            findings.violate("bundle_failures", f"{where}: {'; '.join(verdict.failed)}")
        elif roles != want_roles:
            findings.violate("bundle_failures", f"{where}: entries {roles}, want {want_roles}")


def _receipt_problem(
    shown: dict[str, Any],
    row: dict[str, Any],
    me: str,
    peer: str,
    public: Any,
) -> str | None:
    """What is wrong with a sent message's stored receipt, or None when it holds up."""
    if shown["receipt"] is None:
        return f"no receipt stored (state {row['state']})"
    if row["delivered_at"] is None:
        return "a receipt but no delivered_at"
    try:
        receipt = parse(shown["receipt"], Receipt)
        verify_signature(receipt, public)
    except Exception as exc:
        return f"the receipt does not verify: {exc}"
    if (receipt.envelope_id, receipt.envelope_hash) != (row["id"], row["hash"]):
        return "the receipt is for another envelope"
    if (receipt.from_, receipt.to) != (peer, me):
        return "the receipt names the wrong parties"
    return None


@contextlib.contextmanager
def databases_for(backend: str, root: Path) -> Iterator[DatabaseFactory]:
    """A database factory for a run outside the test suite, its databases dropped after."""
    root.mkdir(parents=True, exist_ok=True)
    factory = DatabaseFactory(backend, root)
    try:
        yield factory
    finally:
        factory.drop_all()
