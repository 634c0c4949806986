"""One whole run: start, load and faults, heal, drain, check."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from hotline.clock import OffsetClock
from hotline.testing import (
    DatabaseFactory,
)
from hotline.testing_chaos.checks import check_alarms, check_logs_online, check_offline
from hotline.testing_chaos.findings import Findings
from hotline.testing_chaos.load import Acker, Observer, Record, Sender
from hotline.testing_chaos.pair import ChaosPair, get_json, make_pair
from hotline.testing_chaos.plan import CALL_DEADLINE_S, PARTIES, ChaosConfig, Fault, plan_faults


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
        check_offline(pair, config, findings, record)
    finally:
        record.stop.set()  # a failed run leaves no thread polling stopped nodes
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
    drain = _Drain(pair, record, ackers, config.quiet_s)
    outcome = drain.wait(config.drain_timeout)
    findings.drain_s = time.monotonic() - healed if outcome == "drained" else None
    findings.unsettled = len(drain.want) - len(drain.settled)
    log(f"chaos: {outcome} after {time.monotonic() - healed:.1f} s")
    record.stop.set()
    for thread in (*ackers.values(), observer):
        thread.join(timeout=CALL_DEADLINE_S)
    check_alarms(pair, findings)
    check_logs_online(pair, findings)


class _Drain:
    """Waits after healing until every accepted message is settled at its sender.

    Settled: delivered (a ``delivered_at``), and when its officer acknowledges it, the
    acknowledgement arrived too (an ``acked_at``); no ``link_down`` or
    ``delivery_refused`` alarm open; no acknowledgement left to make. A line that makes
    no progress at all for ``quiet_s`` will not settle (a known bug can leave a
    message without a receipt forever): the wait ends there and the checks say what is
    left, rather than waiting out the whole deadline.
    """

    def __init__(
        self, pair: ChaosPair, record: Record, ackers: dict[str, Acker], quiet_s: float
    ) -> None:
        self.pair, self.ackers, self.quiet_s = pair, ackers, quiet_s
        self.want = {a.message_id: a.acked_expected for a in record.accepted}
        self.party_of = {a.message_id: a.party for a in record.accepted}
        self.settled: set[str] = set()  # the offline checks look at each one again
        self.progress: tuple[int, ...] = ()
        self.changed = time.monotonic()

    def wait(self, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._settled():
                return "drained"
            if time.monotonic() - self.changed > self.quiet_s:
                return f"no progress for {self.quiet_s:g} s, {self._left()} unsettled"
            time.sleep(0.5)  # polling the nodes' API, with the deadline above
        return f"did not drain in {timeout:g} s, {self._left()} unsettled"

    def _left(self) -> int:
        return len(self.want) - len(self.settled)

    def _settle(self, row: dict[str, Any]) -> None:
        acked = self.want.get(row["id"])
        if acked is None or row["delivered_at"] is None:
            return
        if not acked or row["acked_at"] is not None:
            self.settled.add(row["id"])

    def _settled(self) -> bool:
        try:
            alarms = 0
            for party in PARTIES:
                for row in get_json(self.pair, party, "/api/v1/outbox", limit=5000):
                    self._settle(row)
                # older than a listing shows (large runs): asked one by one, a few a round
                older = [
                    i for i in self.want if i not in self.settled and self.party_of[i] == party
                ]
                for message_id in older[:100]:
                    self._settle(get_json(self.pair, party, f"/api/v1/messages/{message_id}"))
                shown = get_json(self.pair, party, "/api/v1/alarms", state="open")
                alarms += sum(a["kind"] in ("link_down", "delivery_refused") for a in shown)
        except (httpx.HTTPError, ValueError):
            return False  # a node still busy after healing: look again
        pending = sum(acker.pending for acker in self.ackers.values())
        progress = (len(self.settled), alarms, pending)
        if progress != self.progress:
            self.progress, self.changed = progress, time.monotonic()
        return not self._left() and not alarms and not pending
