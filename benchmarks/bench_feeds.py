"""Feed adapters: reports per second through one adapter, beside the library alone.

For each kind (SBS-1, Beast, AIS, CoT) it generates ``--messages`` messages for
``--aircraft`` distinct tracks, then, in one run:

- **anchor**: the raw decode rate of the same library alone (``pyModeS.decode``,
  ``pyais.decode``, ``defusedxml.ElementTree.fromstring``; for SBS-1, which needs no
  library, ``bytes.split`` of each line), messages per second;
- **adapter**: a real in-process node (SQLite, active, its feed manager running) reading
  a source that connects over loopback TCP to a sender of the same messages: the time from
  the first byte sent to the last message decoded and its reports taken by the picture
  (``Tracks.report``, which assesses the whole picture at each hand-over, at most 4 a second
  with the latest report of each track), as messages/s and decoded reports/s, with the
  process's CPU ms per decoded report (all threads: the sender's too).

Run: ``.venv/bin/python benchmarks/bench_feeds.py [--messages 20000] [--aircraft 200]``
"""

from __future__ import annotations

import argparse
import socket
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pyais
import pyModeS
from defusedxml.ElementTree import fromstring  # type: ignore[import-untyped]

from hotline.node import Node, init_node
from hotline.testing import free_port, wait_for

EVEN, ODD = "8D40621D58C382D690C8AC2863A7", "8D40621D58C386435CC412692AD6"
VELOCITY = "8D485020994409940838175B284F"


def sbs1(n: int, k: int) -> list[bytes]:
    out = []
    for i in range(n):
        lat, lon = 34.0 + (i % k) * 0.01, 33.0 + (i // k % 50) * 0.001
        out.append(
            f"MSG,3,1,1,{0x400000 + i % k:06X},1,2026/12/07,04:00:00.000,2026/12/07,"
            f"04:00:00.000,,{10000 + i % 300},,,{lat:.5f},{lon:.5f},,,0,0,0,0\n".encode()
        )
    return out


def beast(n: int, _k: int) -> list[bytes]:
    frames = [EVEN, ODD, VELOCITY]
    out = []
    for i in range(n):
        body = b"3" + b"\x00\x01\x02\x03\x04\x05\x80" + bytes.fromhex(frames[i % 3])
        out.append(b"\x1a" + body.replace(b"\x1a", b"\x1a\x1a"))
    return out


def ais(n: int, k: int) -> list[bytes]:
    out = []
    for i in range(n):
        fields = {"msg_type": 1, "mmsi": 200000000 + i % k, "lat": 35.0 + (i % k) * 0.001,
                  "lon": 34.0, "speed": 10.0, "course": 90.0}  # fmt: skip
        out.append((pyais.encode_dict(fields)[0] + "\n").encode())
    return out


def cot(n: int, k: int) -> list[bytes]:
    return [
        (
            f'<event version="2.0" uid="U-{i % k}" type="a-f-G-U-C" time="2026-12-07T04:00:00Z" '
            f'start="2026-12-07T04:00:00Z" stale="2099-01-01T00:00:00Z" how="m-g">'
            f'<point lat="{35 + (i % k) * 0.001:.6f}" lon="33.5" hae="100" ce="5" le="5"/>'
            f'<detail><track course="90" speed="5"/><contact callsign="U{i % k}"/></detail>'
            f"</event>"
        ).encode()
        for i in range(n)
    ]


ANCHORS: dict[str, Callable[[bytes], object]] = {
    "sbs1": lambda m: m.split(b","),
    "beast": lambda m: pyModeS.decode(m[9:].replace(b"\x1a\x1a", b"\x1a").hex()),
    "ais": lambda m: pyais.decode(m.strip()),
    "cot": lambda m: fromstring(m, forbid_dtd=True),
}
MAKERS = {"sbs1": sbs1, "beast": beast, "ais": ais, "cot": cot}


def anchor_rate(kind: str, messages: list[bytes]) -> float:
    decode = ANCHORS[kind]
    start = time.perf_counter()
    for m in messages:
        decode(m)
    return len(messages) / (time.perf_counter() - start)


def adapter_run(node: Node, kind: str, messages: list[bytes]) -> tuple[float, float, float]:
    """(messages/s, reports/s, CPU ms per report) through one source over loopback TCP."""
    server = socket.create_server(("127.0.0.1", free_port()))
    port = server.getsockname()[1]
    node.feeds.add(f"bench-{kind}", kind=kind, connect=f"127.0.0.1:{port}", party="own",
                   reference="52.258,3.918" if kind == "beast" else None)  # fmt: skip
    server.settimeout(60)
    client, _ = server.accept()
    source = wait_for(lambda: node.feeds._sources.get(f"bench-{kind}"), "source", timeout=60)
    payload = b"".join(messages)
    cpu0, t0 = time.process_time(), time.perf_counter()
    sender = threading.Thread(target=client.sendall, args=(payload,))
    sender.start()

    def done() -> bool:
        h = source.health.snapshot()
        return h["messages"] + h["errors"] >= len(messages) and not source._pending

    wait_for(done, f"{kind}: every message read", timeout=600, every=0.01)
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    sender.join()
    reports = source.health.snapshot()["decoded"]
    client.close()
    server.close()
    node.feeds.remove(f"bench-{kind}")
    return len(messages) / elapsed, reports / elapsed, 1000 * cpu / max(reports, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--aircraft", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        node = init_node(Path(tmp) / "us", party="us", name_en="United States",
                         settings={"track_ttl_s": 3600})  # fmt: skip
        node.start()
        try:
            wait_for(lambda: node.active, "active", timeout=60)
            print(f"{args.messages} messages, {args.aircraft} tracks per kind; one run")
            print(f"{'kind':6} {'anchor msg/s':>13} {'adapter msg/s':>14} {'reports/s':>10} "
                  f"{'CPU ms/report':>14} {'adapter/anchor':>15}")  # fmt: skip
            for kind, make in MAKERS.items():
                messages = make(args.messages, args.aircraft)
                anchor = anchor_rate(kind, messages)
                rate, reports, cpu_ms = adapter_run(node, kind, messages)
                print(f"{kind:6} {anchor:13.0f} {rate:14.0f} {reports:10.0f} {cpu_ms:14.3f} "
                      f"{rate / anchor:15.2f}")  # fmt: skip
        finally:
            node.stop()


if __name__ == "__main__":
    main()
