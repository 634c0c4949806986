"""The production database setup's figures: PostgreSQL with a synchronous standby.

One run, on this machine, in clusters of its own (initdb, pg_basebackup -R; as root the
servers run as the ``postgres`` user), a node ``us`` on the primary and a peer ``ru`` on
SQLite, both real ``hotline serve`` processes talking mutual TLS. It prints:

- the anchor: durable single-row commits per second on the primary, with the synchronous
  standby and without it (``synchronous_standby_names = ''``: the standby streams on,
  nobody waits for it), measured in the same run;
- sends per second through the operator API (``POST /api/v1/messages``, ``--clients``
  threads) with and without the synchronous standby, rounds interleaved, the ratio, and
  the node's CPU milliseconds per message (the figure that stays stable on a busy host);
- the drill: a sender keeps sending while the primary's postmaster is SIGKILLed and the
  standby promoted; messages accepted (2xx) before the kill, how many of them the
  promoted database holds (must be all), seconds to promote, seconds from the kill until
  the node accepts messages again (it follows by itself: its URL names both servers),
  and what the sender was answered meanwhile.

Run: ``.venv/bin/python benchmarks/bench_standby.py [--messages 400] [--clients 4]``
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.drills, the harness

from tests.drills._line import Sender, StandbyLine

from hotline.testing import cheap_password_hashing, wait_for
from hotline.testing_pg import PgCluster, postgres_bin_dir

TICK = os.sysconf("SC_CLK_TCK")


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def set_synchronous(primary: PgCluster, on: bool) -> None:
    names = "'FIRST 1 (hotline_standby)'" if on else "''"
    primary.sql(f"ALTER SYSTEM SET synchronous_standby_names = {names}")
    primary.sql("SELECT pg_reload_conf()")
    wanted = "sync" if on else "async"
    wait_for(
        lambda: primary.sql("SELECT sync_state FROM pg_stat_replication") == [(wanted,)],
        f"the standby to be {wanted}",
        timeout=60,
    )


def commit_rate(primary: PgCluster, count: int = 300) -> float:
    import psycopg

    dsn = f"host=127.0.0.1 port={primary.port} user=postgres dbname=postgres"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS anchor (id serial PRIMARY KEY, body text)")
        start = time.perf_counter()
        for _ in range(count):
            conn.execute("INSERT INTO anchor (body) VALUES (%s)", ("x" * 600,))
        return count / (time.perf_counter() - start)


def send_round(line: StandbyLine, count: int, clients: int, tag: str) -> tuple[float, float]:
    """``count`` messages from us to ru through the API; (messages/s, node CPU ms/message)."""
    pid = line.us.process.pid  # type: ignore[union-attr]
    per_client = count // clients
    failures: list[str] = []

    def run(n: int) -> None:
        with line.client("us") as http:
            for i in range(per_client):
                body = {"to": "ru", "text": f"{tag}-{n}-{i}", "client_ref": f"{tag}-{n}-{i}"}
                answer = http.post("/api/v1/messages", json=body)
                if answer.status_code not in (200, 201):
                    failures.append(f"{answer.status_code} {answer.text[:200]}")

    threads = [threading.Thread(target=run, args=(n,)) for n in range(clients)]
    cpu_before = cpu_s(pid)
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    cpu = cpu_s(pid) - cpu_before
    sent = per_client * clients - len(failures)
    if failures:
        print(f"  {tag}: {len(failures)} sends refused, e.g. {failures[0]}")
    return sent / elapsed, cpu * 1000 / max(sent, 1)


def drill(line: StandbyLine) -> None:
    sender = Sender(line, "us", "ru", "drill")
    sender.start()
    sender.wait_for_count(50, timeout=120)
    before = len(sender.accepted)
    accepted_before = list(sender.accepted)
    line.primary.kill()
    killed = time.monotonic()
    wait_for(lambda: not line.primary.leftovers(), "the primary's processes to end", timeout=60)
    line.standby.promote()
    promoted = time.monotonic()
    sender.wait_for_count(len(sender.accepted) + 20, timeout=180)
    sender.finish()
    carrying = next(t for t in sender.accepted_at if t > promoted)
    # everything the sender was ever told was accepted, before the kill and in all
    held = promoted_ids(line)
    before_held = sum(1 for i in accepted_before if i in held)
    all_held = sum(1 for i in sender.accepted if i in held)
    refused: dict[str, int] = {}
    for code in sender.refusals:
        refused[str(code)] = refused.get(str(code), 0) + 1
    print(f"drill: accepted before the kill: {before}; held by the promoted standby: {before_held}")
    print(f"drill: accepted in all: {len(sender.accepted)}; held: {all_held}")
    print(f"drill: promote took {promoted - killed:.2f} s after the kill (pg_ctl promote -w)")
    print(f"drill: the node accepted messages again {carrying - killed:.2f} s after the kill")
    print(f"drill: answers other than 2xx meanwhile: {refused or 'none'}")


def promoted_ids(line: StandbyLine) -> set[str]:
    rows = line.standby.sql("SELECT id FROM messages WHERE direction = 'out'", "hotline")
    return {str(r[0]) for r in rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=400, help="messages per round")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=2, help="rounds of each mode")
    args = parser.parse_args()
    bin_dir = postgres_bin_dir()
    if bin_dir is None:
        sys.exit("the PostgreSQL server binaries (initdb, pg_basebackup) are not installed")
    cheap_password_hashing()
    with tempfile.TemporaryDirectory(prefix="bench-standby-") as folder:
        line = StandbyLine.create(bin_dir, Path(folder))
        try:
            line.start()
            # interleaved rounds: a shared machine's disk drifts over a run
            commits: dict[bool, list[float]] = {True: [], False: []}
            for _ in range(args.rounds * 2):
                for on in (True, False):
                    set_synchronous(line.primary, on)
                    commits[on].append(commit_rate(line.primary))
            anchors = {on: statistics.median(v) for on, v in commits.items()}
            print(
                f"anchor: durable single-row commits/s on the primary (median of "
                f"{len(commits[True])} rounds each): "
                f"{anchors[True]:.0f} with the synchronous standby, {anchors[False]:.0f} "
                f"without (ratio {anchors[True] / anchors[False]:.2f})"
            )
            results: dict[bool, list[tuple[float, float]]] = {True: [], False: []}
            for r in range(args.rounds):
                for on in (True, False):
                    set_synchronous(line.primary, on)
                    tag = f"{'sync' if on else 'async'}{r}"
                    results[on].append(send_round(line, args.messages, args.clients, tag))
            rate = {on: sum(x[0] for x in v) / len(v) for on, v in results.items()}
            cpu = {on: sum(x[1] for x in v) / len(v) for on, v in results.items()}
            for on in (True, False):
                mode = "synchronous standby" if on else "no synchronous standby"
                print(
                    f"sends ({args.clients} clients): {rate[on]:.0f} msg/s with {mode}, "
                    f"{cpu[on]:.2f} CPU ms/message in the node"
                )
            print(
                f"ratio synchronous / none: {rate[True] / rate[False]:.2f} "
                f"(the raw commits' ratio: {anchors[True] / anchors[False]:.2f})"
            )
            set_synchronous(line.primary, True)
            drill(line)
        except httpx.HTTPError as exc:
            sys.exit(f"a node did not answer: {exc}")
        finally:
            line.close()


if __name__ == "__main__":
    main()
