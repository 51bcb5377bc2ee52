#!/usr/bin/env python3
"""Screen figures as a terminal sees them: knobtui beside the floor app, on a pseudo-terminal, in one run.

Usage: python bench/bench_screen.py [--runs 3] [--presses 15]
For each size (80x24, 160x50): startup until the screen is quiet, key-to-first-byte and key-to-last-byte
latency of one step (space), and bytes written per step; medians over the runs. The floor is
bench/floor_app.py (the least Textual app with a plotext curve and a log), measured the same way.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from ptymeter import measure  # noqa: E402
from servekit import knobtui_command  # noqa: E402

FIGURES = ("startup_ms", "first_byte_ms", "last_byte_ms", "bytes_per_press")


def knobtui_cmd() -> list[str]:
    return knobtui_command() + ["--preset", "gradient"]


def median_run(cmd: list[str], cols: int, rows: int, runs: int, presses: int) -> dict[str, float]:
    results = [measure(cmd, cols, rows, " ", presses) for _ in range(runs)]
    return {k: statistics.median(r[k] for r in results) for k in FIGURES}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--presses", type=int, default=15)
    a = ap.parse_args()
    floor = [sys.executable, str(HERE / "floor_app.py")]
    print(f"{'size':<8}{'figure':<18}{'knobtui':>12}{'floor':>12}{'ratio':>8}")
    for cols, rows in ((80, 24), (160, 50)):
        k = median_run(knobtui_cmd(), cols, rows, a.runs, a.presses)
        f = median_run(floor, cols, rows, a.runs, a.presses)
        for fig in FIGURES:
            ratio = k[fig] / f[fig] if f[fig] else float("nan")
            print(f"{cols}x{rows:<5}{fig:<18}{k[fig]:>12.1f}{f[fig]:>12.1f}{ratio:>8.2f}")


if __name__ == "__main__":
    main()
