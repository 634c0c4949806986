"""The checks after the faults: alarms, logs, and (nodes stopped) every message."""

from __future__ import annotations

import json
import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx

from hotline.clock import parse_rfc3339
from hotline.domain.line import Receipt
from hotline.protocol.envelope import parse, verify_signature
from hotline.testing import (
    wait_for,
)
from hotline.testing_chaos.findings import Findings
from hotline.testing_chaos.load import Accepted, Record
from hotline.testing_chaos.pair import ChaosPair, get_json
from hotline.testing_chaos.plan import PARTIES, ChaosConfig, other


def check_alarms(pair: ChaosPair, findings: Findings) -> None:
    """Every alarm explained by a fault, none open after healing, at most one per incident."""
    plan = findings.plan
    slack = 20.0 + max((abs(f.amount) for f in plan if f.kind == "clock"), default=0)
    for party in PARTIES:
        alarms = get_json(pair, party, "/api/v1/alarms")
        kinds: Counter[str] = Counter(a["kind"] for a in alarms)
        findings.alarms[party] = kinds
        # any fault can make a node lose its peer (a kill of itself too: the link tests
        # it sent before dying time out); only a clock step makes the peer refuse
        link_incidents = len(plan)
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
            raised = parse_rfc3339(alarm["raised_at"]).timestamp()
            near = [f for f in plan if f.started - slack <= raised <= f.ended + slack]
            if alarm["kind"] == "ack_overdue":
                # right when the message was acknowledged after its deadline (faults slowed
                # the line that much); early only when this node's clock jumped ahead
                ahead = any(f.kind == "clock" and f.target == party and f.amount > 0 for f in near)
                if not (ahead or _really_overdue(pair, party, alarm["subject"])):
                    findings.violate("unexplained_alarms", where + " (acknowledged in time)")
            elif alarm["kind"] not in ("link_down", "delivery_refused"):
                findings.violate("unexplained_alarms", where + " (no fault raises this kind)")
            elif not near:
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


def _really_overdue(pair: ChaosPair, party: str, message_id: str) -> bool:
    """Whether the message's acknowledgement came after its deadline, or never."""
    row = get_json(pair, party, f"/api/v1/messages/{message_id}")
    if row["deadline"] is None or row["acked_at"] is None:
        return row["deadline"] is not None
    return parse_rfc3339(row["acked_at"]) > parse_rfc3339(row["deadline"])


def check_logs_online(pair: ChaosPair, findings: Findings) -> None:
    """Each node signs its log's head and has the peer co-sign it; no fork seen.

    Link tests go on appending to both logs, so the head co-signed is compared with the
    size before the exchange: everything the run logged must be covered.
    """
    for party in PARTIES:
        before = get_json(pair, party, "/api/v1/log")["size"]

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
        state = get_json(pair, party, "/api/v1/log")
        covered = (state["last_cosigned"] or {}).get("size") or 0
        if state["forks"]:
            findings.violate("log_problems", f"{party}: {state['forks']} forks seen")
        if covered < before:
            findings.violate(
                "log_problems", f"{party}: log size {before}, last co-signed {covered}"
            )
    for name, proxy in pair.proxies.items():
        findings.proxies[name] = {
            "connections": proxy.connections,
            "refused": proxy.refused,
            "dropped_answers": proxy.dropped_answers,
        }


def check_offline(pair: ChaosPair, config: ChaosConfig, findings: Findings, record: Record) -> None:
    """With both nodes stopped: every accepted message once, in order, receipted; both
    channels agree envelope for envelope; both logs whole; a sample of bundles verifies."""
    from hotline.node import Node

    with record.lock:
        for line in record.not_accepted:
            findings.violate("not_accepted", line)
        for line in record.regressions.values():
            findings.violate("state_regressions", line)
        for line in record.errors:
            findings.violate("harness_errors", line)
        for what, count in record.server_errors.items():
            findings.violate("server_errors", f"{count} x {what}", count)
    nodes = {party: Node.open(pair.root / party) for party in PARTIES}
    try:
        for party in PARTIES:
            direction = Direction(nodes[party], nodes[other(party)], findings, record)
            direction.check_channel()
            direction.check_once_in_order()
            direction.check_accepted()
            direction.check_bundles(config)
        for party, node in nodes.items():
            audit = node.evidence.audit()
            if not audit.whole:
                findings.violate("log_problems", f"{party}: {audit.summary()}")
    finally:
        for node in nodes.values():
            node.db.dispose()


@dataclass
class Direction:
    """One direction of the line as both ends recorded it, with the harness's record."""

    sender: Any  # hotline.node.Node, opened on the stopped node's folder
    receiver: Any
    findings: Findings
    record: Record
    outbox: list[dict[str, Any]] = field(default_factory=list)
    inbox: list[dict[str, Any]] = field(default_factory=list)
    accepted: list[Accepted] = field(default_factory=list)

    def __post_init__(self) -> None:
        from hotline.storage.messages import IN, OUT

        self.me, self.peer = self.sender.identity.party, self.receiver.identity.party
        everything = 10**9
        self.outbox = self.sender.line.listing(OUT, peer=self.peer, limit=everything)
        self.inbox = self.receiver.line.listing(IN, peer=self.me, limit=everything)
        self.accepted = [a for a in self.record.accepted if a.party == self.me]
        self.name = f"{self.me}->{self.peer}"

    def check_channel(self) -> None:
        """The channel envelope for envelope: seqs 1..n at both ends, same ids and hashes."""
        out_by_seq = {r["seq"]: r for r in self.outbox}
        in_by_seq = {r["seq"]: r for r in self.inbox}
        for where, rows, by_seq in (
            ("sender", self.outbox, out_by_seq),
            ("receiver", self.inbox, in_by_seq),
        ):
            if len(by_seq) != len(rows):
                self.findings.violate("channel_mismatch", f"{self.name}: seq twice at the {where}")
            if sorted(by_seq) != list(range(1, len(by_seq) + 1)):
                self.findings.violate("channel_mismatch", f"{self.name}: {where}'s seqs have gaps")
        # what the sender queued after the drain (link tests go on) may be in flight at the
        # stop: a tail of system messages not yet delivered, none of the accepted ones
        accepted_ids = {a.message_id for a in self.accepted}
        tail = max(in_by_seq, default=0)
        for seq, row in sorted(out_by_seq.items()):
            in_flight = seq > tail and row["state"] in ("queued", "sent")
            if in_flight and row["type"] != "text" and row["id"] not in accepted_ids:
                del out_by_seq[seq]
        for seq in sorted(set(out_by_seq) | set(in_by_seq)):
            sent, got = out_by_seq.get(seq), in_by_seq.get(seq)
            if (
                sent is None
                or got is None
                or (sent["id"], sent["hash"]) != (got["id"], got["hash"])
            ):
                ids = f"outbox {sent and sent['id']} inbox {got and got['id']}"
                self.findings.violate("channel_mismatch", f"{self.name} seq {seq}: {ids}")

    def check_once_in_order(self) -> None:
        """No text stored twice at either end; the receiver's seqs follow acceptance order."""
        for where, rows in (("receiver", self.inbox), ("sender", self.outbox)):
            for ref, count in Counter(_ref_of(r) for r in rows if _ref_of(r)).items():
                if count > 1:
                    self.findings.violate(
                        "duplicated", f"{self.name} {ref} {count} times at the {where}"
                    )
        order = {a.message_id: a.index for a in self.accepted}
        last_index, last_seq = -1, 0
        for row in sorted((r for r in self.inbox if r["id"] in order), key=lambda r: r["seq"]):
            if order[row["id"]] < last_index:
                self.findings.violate(
                    "reordered", f"{self.name}: {row['id']} at seq {row['seq']} after {last_seq}"
                )
            last_index, last_seq = max(last_index, order[row["id"]]), row["seq"]

    def check_accepted(self) -> None:
        """Each accepted message: received, in its final state, receipted, its ack arrived."""
        in_by_id = {r["id"]: r for r in self.inbox}
        out_by_id = {r["id"]: r for r in self.outbox}
        public = self.receiver.identity.key.public_key()
        for item in self.accepted:
            row = out_by_id.get(item.message_id)
            where = f"{self.name} {item.ref} ({item.precedence}) {item.message_id}"
            if item.message_id not in in_by_id:
                self.findings.violate("lost", where)
            want = "acknowledged" if item.acked_expected else "delivered"
            if row is None:
                self.findings.violate("stuck", f"{where}: not in the sender's outbox")
                continue
            if row["state"] == "delivered" and row["acked_at"] is not None:
                # the acknowledgement arrived, the state says otherwise: it went back (once
                # a message, if the observer saw it go back already)
                if (self.me, item.message_id) not in self.record.regressions:
                    self.findings.violate("state_regressions", f"{where}: delivered, acked")
            elif row["state"] != want:
                self.findings.violate("stuck", f"{where}: {row['state']}, want {want}")
            shown = self.sender.line.show(item.message_id)
            problem = _receipt_problem(shown, row, self.me, self.peer, public)
            if problem:
                self.findings.violate("missing_receipts", f"{where}: {problem}")
            if item.message_id in self.record.acked and row["acked_at"] is None:
                self.findings.violate(
                    "missing_acks", f"{where}: acknowledged at {self.peer}, not at {self.me}"
                )

    def check_bundles(self, config: ChaosConfig) -> None:
        """Evidence bundles of a sample, exported and verified offline as anyone would."""
        from hotline.services.evidence.bundle import export_bundle
        from hotline.services.evidence.verify import verify_bundle

        acked = {r["id"] for r in self.outbox if r["acked_at"]}
        rng = random.Random(f"{config.seed}:bundles:{self.me}")
        sample = rng.sample(self.accepted, min(config.bundles, len(self.accepted)))
        trusted = (self.sender.identity.fingerprint, self.receiver.identity.fingerprint)
        for item in sample:
            where = f"{self.me} bundle of {item.ref} {item.message_id}"
            try:
                raw = export_bundle(self.sender.evidence, item.message_id)
            except Exception as exc:
                self.findings.violate("bundle_failures", f"{where}: not exported: {exc}")
                continue
            verdict = verify_bundle(raw, trusted=trusted)
            roles = [e["role"] for e in json.loads(raw)["entries"]]
            want = ["envelope", "receipt"]
            want += ["ack", "ack_receipt"] if item.message_id in acked else []
            if not verdict.ok:
                self.findings.violate("bundle_failures", f"{where}: {'; '.join(verdict.failed)}")
            elif roles != want:
                self.findings.violate("bundle_failures", f"{where}: entries {roles}, want {want}")


def _ref_of(row: dict[str, Any]) -> str | None:
    """The harness's reference in a text it sent (``chaos SEED REF PRECEDENCE``)."""
    parts = str(row["body"].get("text", "")).split()
    return parts[2] if len(parts) == 4 and parts[0] == "chaos" else None


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
