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
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import asyncssh
import pyte


class Server:
    def __init__(self, tmp: Path, *args: str) -> None:
        cmd = [sys.executable, "-m", "knobtui", "serve", "--port", "0", "--host-key", str(tmp / "key"),
               "--rate-limit", "10000", "--max-per-address", "1000", *args]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True)
        self.port = 0
        ready = threading.Event()

        def read() -> None:
            assert self.proc.stderr is not None
            for line in self.proc.stderr:
                m = re.search(r"listening on [\d.]+:(\d+)", line)
                if m:
                    self.port = int(m.group(1))
                    ready.set()
        threading.Thread(target=read, daemon=True).start()
        if not ready.wait(60):
            raise RuntimeError("the server did not start")

    def pss_mb(self) -> float:
        """Proportional memory of the server and all its descendants (shared pages split between them)."""
        out = subprocess.run(["ps", "-e", "-o", "pid=,ppid="], capture_output=True, text=True).stdout
        kids: dict[int, list[int]] = {}
        for line in out.splitlines():
            pid, ppid = map(int, line.split())
            kids.setdefault(ppid, []).append(pid)
        todo, total = [self.proc.pid], 0
        while todo:
            pid = todo.pop()
            todo += kids.get(pid, [])
            try:
                for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
            except OSError:
                pass
        return total / 1024

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(60)


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
