#!/usr/bin/env python3
"""Autoplay as a terminal sees it: iterations per second, frames, CPU share and memory, in one run.

Usage: python bench/bench_autoplay.py [--seconds 30] [--size 80x24]
Runs `knobtui` on a pseudo-terminal with hot and cold and a step so small it never converges, presses
`+` up to a speed and `p`, and lets it play. Measured per speed: iterations per second (from the
status line), frames per second (bursts of output), the CPU share of one core
(/proc), and resident memory at the start and the end. The floor app has no autoplay; the anchor is
the target: at least 60 iterations a second with under half a core, and memory flat.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import pty
import re
import select
import signal
import struct
import sys
import termios
import time

import pyte

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from servekit import knobtui_command  # noqa: E402

SPEEDS = {"60/s": 2, "1000/s": 6, "5000/s": 8}
if os.environ.get("KNOBTUI_BENCH_SPEEDS"):
    SPEEDS = {k: v for k, v in SPEEDS.items() if k in os.environ["KNOBTUI_BENCH_SPEEDS"].split(",")}  # presses of + from the default 15/s
TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def rss_mb(pid: int) -> float:
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def run(cols: int, rows: int, plus: int, seconds: float) -> dict[str, float]:
    cmd = knobtui_command() + ["--preset", "hot-cold", "--step-amount", "1e-9"]
    pid, fd = pty.fork()
    if pid == 0:
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        os.environ["TERM"] = "xterm-256color"
        os.execvp(cmd[0], cmd)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    screen = pyte.Screen(cols, rows)
    stream = pyte.ByteStream(screen)

    bursts = [0]

    def pump(duration: float) -> bytes:
        """Read for `duration` s; output separated by a 4 ms silence counts as a new frame."""
        got = bytearray()
        end = time.monotonic() + duration
        last = 0.0
        while time.monotonic() < end:
            r, _, _ = select.select([fd], [], [], 0.002)
            if r:
                try:
                    chunk = os.read(fd, 65536)
                except OSError:
                    break
                now = time.monotonic()
                if now - last > 0.004:
                    bursts[0] += 1
                last = now
                got += chunk
                stream.feed(chunk)
        return bytes(got)

    pump(1.5)
    for _ in range(plus):
        os.write(fd, b"+")
        pump(0.05)
    pump(0.5)
    os.write(fd, b"p")
    pump(1.0)  # let it settle into the speed
    it0 = _iteration(screen)
    bursts[0] = 0
    cpu0, t0, rss0 = cpu_seconds(pid), time.monotonic(), rss_mb(pid)
    out = pump(seconds / 2)
    rss_mid, it_mid = rss_mb(pid), _iteration(screen)
    out += pump(seconds / 2)
    cpu1, t1, rss1 = cpu_seconds(pid), time.monotonic(), rss_mb(pid)
    it1 = _iteration(screen)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    wall = t1 - t0
    frames = bursts[0]
    return {"iterations_per_s": (it1 - it0) / wall, "frames_per_s": frames / wall, "cpu_share": (cpu1 - cpu0) / wall,
            "rss_start_mb": rss0, "rss_mid_mb": rss_mid, "rss_end_mb": rss1, "iterations": it1 - it0,
            "second_half": it1 - it_mid, "bytes_per_s": len(out) / wall}


def _iteration(screen: pyte.Screen) -> int:
    m = re.search(r"iteration (\d+)", "\n".join(screen.display))
    return int(m.group(1)) if m else 0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--size", default="80x24")
    a = ap.parse_args()
    cols, rows = (int(x) for x in a.size.split("x"))
    print(f"autoplay at {cols}x{rows} for {a.seconds:g} s (target: >= 60 it/s, < 50% of a core, memory flat)")
    print(f"{'speed':<8}{'it/s':>9}{'frames/s':>10}{'cpu':>7}{'KB/s':>8}{'rss start':>11}{'mid':>8}{'end':>8}"
          f"{'iterations':>12}{'2nd half':>10}")
    for name, plus in SPEEDS.items():
        r = run(cols, rows, plus, a.seconds)
        print(f"{name:<8}{r['iterations_per_s']:>9.0f}{r['frames_per_s']:>10.1f}{100 * r['cpu_share']:>6.0f}%"
              f"{r['bytes_per_s'] / 1024:>8.0f}{r['rss_start_mb']:>9.1f}MB{r['rss_mid_mb']:>6.1f}MB"
              f"{r['rss_end_mb']:>6.1f}MB{r['iterations']:>12.0f}{r['second_half']:>10.0f}")


if __name__ == "__main__":
    main()
