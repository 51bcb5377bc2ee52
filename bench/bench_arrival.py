#!/usr/bin/env python3
"""A room arriving at once: N visitors connect together; how long until every one has a complete screen.

Usage: python bench/bench_arrival.py [--visitors 60] [--runs 1]
Starts `knobtui serve` twice on 127.0.0.1, warm (the default: simulators forked from a spawner that has
imported everything) and with --cold-start (a fresh Python per visitor, the anchor), connects N asyncssh
clients with 80x24 ptys at the same moment, and times each until its screen shows the first iteration
line. Prints the median and the slowest arrival, and the server's children's memory (PSS, shared pages
counted once) once all have arrived.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import asyncssh

sys.path.insert(0, str(Path(__file__).resolve().parent))
import pyte


from servekit import Server  # noqa: E402 (bench/ on the path first)


async def arrive(port: int) -> tuple[float, asyncssh.SSHClientConnection]:
    t0 = time.perf_counter()
    conn = await asyncssh.connect("127.0.0.1", port, username="bench", known_hosts=None, client_keys=None,
                                  agent_path=None, config=[])
    proc = await conn.create_process(term_type="xterm-256color", term_size=(80, 24), encoding=None)
    screen = pyte.Screen(80, 24)
    stream = pyte.ByteStream(screen)
    while True:
        data = await proc.stdout.read(65536)
        if not data:
            raise RuntimeError("the session ended before its screen was complete")
        stream.feed(data)
        text = "\n".join(screen.display)
        if "iteration 0 " in text and "q quit" in text:
            return time.perf_counter() - t0, conn


async def room(srv: Server, n: int) -> tuple[list[float], float]:
    results = await asyncio.gather(*(arrive(srv.port) for _ in range(n)))
    pss = srv.pss_mb()  # with everyone in the room
    for _, conn in results:
        conn.close()
    return [t for t, _ in results], pss


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visitors", type=int, default=60)
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    rows = []
    for label, extra in (("warm (default)", ()), ("--cold-start (anchor)", ("--cold-start",))):
        with tempfile.TemporaryDirectory() as tmp:
            srv = Server(Path(tmp), *extra)
            try:
                times: list[float] = []
                pss = 0.0
                for _ in range(args.runs):
                    got, mb = asyncio.run(room(srv, args.visitors))
                    times += got
                    pss = max(pss, mb)
                    time.sleep(2)
            finally:
                srv.stop()
        rows.append((label, statistics.median(times), max(times), pss))
    print(f"{args.visitors} visitors arriving at once, 80x24, {args.runs} run(s):")
    print(f"{'':24} {'median':>9} {'slowest':>9} {'memory (PSS, all)':>18}")
    for label, median, slowest, pss in rows:
        print(f"{label:24} {median:8.2f}s {slowest:8.2f}s {pss:15.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
