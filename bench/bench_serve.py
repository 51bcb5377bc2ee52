#!/usr/bin/env python3
"""Through `knobtui serve` versus a local pty, in one run: what the SSH server adds to each step.

Usage: python bench/bench_serve.py [--presses 15] [--runs 3]
Starts `knobtui serve` on 127.0.0.1 (a free port), connects an asyncssh client with an 80x24 (then
160x50) pty, presses space and times the first and last byte of each update; the same presses on a
local pty (bench/ptymeter.py) are the anchor. Medians over the runs.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import asyncssh

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from ptymeter import measure  # noqa: E402
from servekit import knobtui_command  # noqa: E402


async def _drain(stdout: asyncssh.SSHReader, quiet: float, hard: float) -> tuple[int, float | None, float | None]:  # type: ignore[type-arg]
    got, first, last = 0, None, None
    start = time.perf_counter()
    while True:
        now = time.perf_counter()
        if now - start > hard or (last is not None and now - last > quiet):
            return got, first, last
        try:
            data = await asyncio.wait_for(stdout.read(65536), 0.005)
        except asyncio.TimeoutError:
            continue
        if not data:
            return got, first, last
        now = time.perf_counter()
        first = first or now
        last = now
        got += len(data)


async def through_ssh(port: int, cols: int, rows: int, presses: int) -> dict[str, float]:
    async with asyncssh.connect("127.0.0.1", port, username="bench", known_hosts=None, client_keys=None,
                                agent_path=None, config=[]) as conn:
        t0 = time.perf_counter()
        proc = await conn.create_process(term_type="xterm-256color", term_size=(cols, rows), encoding=None)
        _, _, last = await _drain(proc.stdout, 0.5, 20)
        startup = 1000 * ((last or t0) - t0)
        lat, done, sizes = [], [], []
        for _ in range(presses):
            ts = time.perf_counter()
            proc.stdin.write(b" ")
            n, f, l = await _drain(proc.stdout, 0.15, 5)
            if f is not None and l is not None:
                lat.append(1000 * (f - ts))
                done.append(1000 * (l - ts))
            sizes.append(n)
        proc.stdin.write(b"q")
        await proc.wait_closed()
    return {"startup_ms": startup, "first_byte_ms": statistics.median(lat), "last_byte_ms": statistics.median(done),
            "bytes_per_press": statistics.median(sizes)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--presses", type=int, default=15)
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    tmp = tempfile.mkdtemp()
    server = subprocess.Popen([sys.executable, "-m", "knobtui", "serve", "--port", "0", "--host-key", f"{tmp}/key",
                               "--rate-limit", "1000"], stderr=subprocess.PIPE, text=True)
    port = 0
    assert server.stderr is not None
    for line in server.stderr:
        m = re.search(r"listening on [\d.]+:(\d+)", line)
        if m:
            port = int(m.group(1))
            break
    threading.Thread(target=lambda: [None for _ in server.stderr], daemon=True).start()  # keep its log flowing
    local_cmd = knobtui_command()
    figures = ("startup_ms", "first_byte_ms", "last_byte_ms", "bytes_per_press")
    print(f"{'size':<8}{'figure':<18}{'via serve':>12}{'local pty':>12}{'added':>10}")
    try:
        for cols, rows in ((80, 24), (160, 50)):
            remote = [asyncio.run(through_ssh(port, cols, rows, a.presses)) for _ in range(a.runs)]
            local = [measure(local_cmd + ["--preset", "gradient"], cols, rows, " ", a.presses) for _ in range(a.runs)]
            for fig in figures:
                r = statistics.median(x[fig] for x in remote)
                loc = statistics.median(x[fig] for x in local)
                print(f"{cols}x{rows:<5}{fig:<18}{r:>12.1f}{loc:>12.1f}{r - loc:>+10.1f}")
    finally:
        server.terminate()
        server.wait(15)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
