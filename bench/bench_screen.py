#!/usr/bin/env python3
"""Screen figures as a terminal sees them: knobtui beside the floor app, on a pseudo-terminal, in one run.

Usage: python bench/bench_screen.py [--runs 3] [--presses 15] [--cells-only]
For each size (80x24, 160x50): startup until the screen is quiet, key-to-first-byte and key-to-last-byte
latency of one step (space), and bytes written per step; medians over the runs. The floor is
bench/floor_app.py (the least Textual app with a plotext curve and a log), measured the same way.

Then bytes per changed cell: knobtui on a pseudo-terminal, space pressed --presses times; for each step the
cells whose character or colours changed are counted by diffing the screen (pyte, fed knobtui's output)
before and after, against the bytes knobtui wrote, the bytes of the diff a shared view sends its followers
(serve/screen.py: the model of the screen before and after) and what the server sends a visitor from
their own simulator (screen.Mirror: the changes, with modes and queries passed on).
Each diff is checked: a terminal that had the screen before shows the screen after.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from ptymeter import _drain, measure  # noqa: E402
from servekit import knobtui_command  # noqa: E402

FIGURES = ("startup_ms", "first_byte_ms", "last_byte_ms", "bytes_per_press")


def knobtui_cmd() -> list[str]:
    return knobtui_command() + ["--preset", "gradient"]


def median_run(cmd: list[str], cols: int, rows: int, runs: int, presses: int) -> dict[str, float]:
    results = [measure(cmd, cols, rows, " ", presses) for _ in range(runs)]
    return {k: statistics.median(r[k] for r in results) for k in FIGURES}


def cells_figures(cols: int, rows: int, presses: int) -> dict[str, float]:
    """Bytes per changed cell, knobtui's own against the shared view's diffs (see the module's docstring)."""
    import fcntl
    import os
    import pty
    import signal
    import struct
    import termios

    import pyte

    from knobtui.serve.screen import Mirror, Screen, diff

    def cells(scr: pyte.Screen) -> list[list[tuple[object, ...]]]:
        return [[(c.data, c.fg, c.bg, c.bold, c.reverse) for c in (scr.buffer[y][x] for x in range(cols))]
                for y in range(rows)]

    pid, fd = pty.fork()
    if pid == 0:  # pragma: no cover - the child
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        os.environ.update(TERM="xterm-256color")
        cmd = knobtui_cmd()
        os.execvp(cmd[0], cmd)
    oracle, model = pyte.Screen(cols, rows), Screen(cols, rows)
    stream = pyte.ByteStream(oracle)
    follower = pyte.Screen(cols, rows)
    fstream = pyte.ByteStream(follower)
    fstream.feed(b"\x1b[?7l")
    first = _drain(fd, 1.5, 20)[0]
    stream.feed(first)
    model.feed(first)
    mirror = Mirror(cols, rows)  # a visitor's own simulator through the server
    own_screen = pyte.Screen(cols, rows)
    own_stream = pyte.ByteStream(own_screen)
    own_stream.feed(mirror.feed(first))
    before = model.snapshot()
    fstream.feed(diff(Screen(cols, rows).snapshot(), before)[0])
    raw = sent = own = changed = 0
    for _ in range(presses):
        was = cells(oracle)
        os.write(fd, b" ")
        data = _drain(fd, 0.3, 10)[0]
        stream.feed(data)
        model.feed(data)
        after = model.snapshot()
        changes, _ = diff(before, after)
        fstream.feed(changes)
        mirrored = mirror.feed(data)
        own_stream.feed(mirrored)
        own += len(mirrored)
        before = after
        now = cells(oracle)
        if cells(follower) != now or cells(own_screen) != now:
            raise SystemExit(f"{cols}x{rows}: the diff did not reproduce the screen")
        raw += len(data)
        sent += len(changes)
        changed += sum(1 for y in range(rows) for x in range(cols) if was[y][x] != now[y][x])
    os.kill(pid, signal.SIGTERM)
    os.waitpid(pid, 0)
    return {"cells": changed / presses, "raw": raw / presses, "diff": sent / presses,
            "raw_per_cell": raw / max(changed, 1), "diff_per_cell": sent / max(changed, 1),
            "own": own / presses, "own_per_cell": own / max(changed, 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--presses", type=int, default=15)
    ap.add_argument("--cells-only", action="store_true", help="only the bytes per changed cell")
    a = ap.parse_args()
    if not a.cells_only:
        timings(a)
    print()
    print(f"{'size':<8}{'changed cells':>14}{'knobtui bytes':>15}{'per cell':>10}{'view diff':>11}{'per cell':>10}"
          f"{'own (mirror)':>14}{'per cell':>10}")
    for cols, rows in ((80, 24), (160, 50)):
        c = cells_figures(cols, rows, a.presses)
        print(f"{cols}x{rows:<5}{c['cells']:>14.0f}{c['raw']:>15.0f}{c['raw_per_cell']:>10.2f}{c['diff']:>11.0f}"
              f"{c['diff_per_cell']:>10.2f}{c['own']:>14.0f}{c['own_per_cell']:>10.2f}")


def timings(a: argparse.Namespace) -> None:
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
