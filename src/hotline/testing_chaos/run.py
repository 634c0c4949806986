"""One whole run: start, load and faults, heal, drain, check."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from hotline.clock import OffsetClock
from hotline.testing import (
    DatabaseFactory,
    wait_for,
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
    want = {
        a.message_id: ("acknowledged" if a.acked_expected else "delivered") for a in record.accepted
    }
    party_of = {a.message_id: a.party for a in record.accepted}
    settled: set[str] = set()  # seen in its final state (the offline checks look again)

    def drained() -> bool:
        try:
            for party in PARTIES:
                for row in get_json(pair, party, "/api/v1/outbox", limit=5000):
                    if want.get(row["id"]) == row["state"]:
                        settled.add(row["id"])
                # older than a listing shows (large runs): asked one by one, a few a round
                older = [i for i in want if i not in settled and party_of[i] == party][:100]
                for message_id in older:
                    row = get_json(pair, party, f"/api/v1/messages/{message_id}")
                    if want[message_id] == row["state"]:
                        settled.add(message_id)
                alarms = get_json(pair, party, "/api/v1/alarms", state="open")
                if any(a["kind"] in ("link_down", "delivery_refused") for a in alarms):
                    return False
            unsettled = len(want) - len(settled)
            return not unsettled and not any(acker.pending for acker in ackers.values())
        except (httpx.HTTPError, ValueError):
            return False

    try:
        wait_for(drained, "the line to drain", timeout=config.drain_timeout, every=0.5)
        findings.drain_s = time.monotonic() - healed
        log(f"chaos: drained in {findings.drain_s:.1f} s")
    except AssertionError:
        log("chaos: the line did not drain in time; checking what is left")
    record.stop.set()
    for thread in (*ackers.values(), observer):
        thread.join(timeout=CALL_DEADLINE_S)
    check_alarms(pair, findings)
    check_logs_online(pair, findings)
