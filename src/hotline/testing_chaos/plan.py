"""A run's scale and seed, and the faults and acknowledgements drawn from the seed."""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass

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
    "HOTLINE_LINK_TEST_TIMEOUT_S": "10",
    "HOTLINE_TICK_S": "0.5",
}
#: Seconds an API call may keep failing (node being killed and restarted) before the
#: harness gives up on it.
CALL_DEADLINE_S = 180.0


def other(party: str) -> str:
    return "ru" if party == "us" else "us"


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

    @property
    def quiet_s(self) -> float:
        """How long a line that makes no progress after healing is waited for: 45 s, plus
        what a step ahead beyond the peer's 300 s skew keeps refused after it ends."""
        return 45.0 + (max(0, self.clock_step_s - 300) if self.clock_steps else 0)

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
