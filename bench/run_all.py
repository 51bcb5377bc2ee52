#!/usr/bin/env python3
"""Every benchmark, one after another, each printing its figures beside its anchor.

Usage: python bench/run_all.py [--quick]
  engine    bench/bench_engine.py    1M headless steps against the book's bare loop; history bytes
  screen    bench/bench_screen.py    startup, key-to-first/last byte, bytes per step against the floor app
  autoplay  bench/bench_autoplay.py  iterations/s, frames/s, CPU share, memory while playing
  serve     bench/bench_serve.py     what `knobtui serve` adds per step against a local pty
  arrival   bench/bench_arrival.py   60 visitors arriving at once: warm spawner against fresh Pythons
  web       bench/bench_web.py       the browser door against SSH: startup, latency and bytes per step
  tls       bench/bench_tls.py       the browser door over HTTPS against plain HTTP
  room      bench/bench_room.py      a question for 20, 100, 300 followers: shown, answered, counted, revealed
  hall-autoplay bench/bench_hall_autoplay.py  10, 100, 300 followers watching autoplay: lag, KB/s, cores, PSS
  wire      bench/bench_wire.py      encode + decode per message: the typed wire against the JSON dicts before it
--quick runs each with fewer repetitions (a smoke run, not figures to publish).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
RUNS = {
    "engine": (["bench_engine.py"], ["bench_engine.py", "--runs", "1", "--steps", "100000"]),
    "screen": (["bench_screen.py"], ["bench_screen.py", "--runs", "1", "--presses", "5"]),
    "autoplay": (["bench_autoplay.py"], ["bench_autoplay.py", "--seconds", "3"]),
    "serve": (["bench_serve.py"], ["bench_serve.py", "--runs", "1", "--presses", "5"]),
    "arrival": (["bench_arrival.py"], ["bench_arrival.py", "--visitors", "10"]),
    "web": (["bench_web.py"], ["bench_web.py", "--runs", "1", "--presses", "5"]),
    "tls": (["bench_tls.py"], ["bench_tls.py", "--runs", "1", "--presses", "5"]),
    "room": (["bench_room.py"], ["bench_room.py", "--followers", "20"]),
    "hall-autoplay": (["bench_hall_autoplay.py"], ["bench_hall_autoplay.py", "--followers", "10", "--seconds", "4"]),
    "wire": (["bench_wire.py"], ["bench_wire.py", "--rounds", "2000", "--runs", "2"]),
}


def main() -> int:
    quick = "--quick" in sys.argv[1:]
    status = 0
    for name, (full, fast) in RUNS.items():
        args = fast if quick else full
        print(f"\n== {name}: python bench/{' '.join(args)}", flush=True)
        r = subprocess.run([sys.executable, str(HERE / args[0]), *args[1:]])
        status = status or r.returncode
    return status


if __name__ == "__main__":
    sys.exit(main())
