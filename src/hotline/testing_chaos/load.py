"""The load: operators sending (FLASH approved by a second), officers acknowledging,
and an observer noting every state it sees."""

from __future__ import annotations

import contextlib
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

import httpx

from hotline.testing_chaos.pair import ChaosPair
from hotline.testing_chaos.plan import (
    CALL_DEADLINE_S,
    IN_RANK,
    OUT_RANK,
    PARTIES,
    PRECEDENCES,
    WEIGHTS,
    ChaosConfig,
    acknowledges,
    other,
)


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
        self.regressions: dict[tuple[str, str], str] = {}  # the first one of each message
        self.errors: list[str] = []
        #: Set when the load is to end: after the drain, or when the run fails.
        self.stop = threading.Event()

    def observe(self, party: str, row: dict[str, Any]) -> None:
        """Note a state seen through the API; one lower than the last seen is a regression."""
        ranks = OUT_RANK if row["direction"] == "out" else IN_RANK
        rank = ranks.get(row["state"])
        if rank is None:
            return
        key = (party, row["id"])
        with self.lock:
            seen = self.last_state.get(key)
            if seen is not None and rank < seen[0] and key not in self.regressions:
                self.regressions[key] = (
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
                    if self.record.stop.is_set():
                        return
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
        body = {"to": other(self.party), "text": text, "precedence": precedence, "client_ref": ref}
        stop = self.record.stop
        answer = _call(
            self.record, officer, self.party, "POST", "/api/v1/messages", body, stop=stop
        )
        message_id = None
        if answer is not None and answer.status_code == 202:  # FLASH: held
            held_id = answer.json()["id"]
            path = f"/api/v1/held/{held_id}/approve"
            answer = _call(self.record, second, self.party, "POST", path, stop=stop)
            if answer is not None and answer.status_code == 409:
                # an approval that went through before a kill cut its answer off: asked
                # again, the node says it is already sent; the held item names the message
                answer = _call(self.record, second, self.party, "GET", "/api/v1/held?state=all")
                held = [h for h in answer.json() if h["id"] == held_id] if answer else []
                message_id = held[0]["message_id"] if held and held[0]["state"] == "sent" else None
            elif answer is not None and answer.status_code == 200:
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
        self.stop = record.stop
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
        self.stop = record.stop

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
