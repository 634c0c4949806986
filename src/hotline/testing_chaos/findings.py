"""What a run found: the invariants, their counts and examples, the summary."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field

from hotline.testing_chaos.plan import ChaosConfig, Fault

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
    unsettled: int = 0  # accepted messages not settled when the wait after healing ended
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
        drain = (
            f"did not drain ({self.unsettled} unsettled)"
            if self.drain_s is None
            else f"{self.drain_s:.1f} s"
        )
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
