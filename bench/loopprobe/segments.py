#!/usr/bin/env python3
"""The presenter's frame in segments, from bench/loopprobe's files (see sitecustomize.py there).

Usage: python bench/loopprobe/segments.py KPROBE

Per hall (N followers) and autoplay speed, the mean / median of each segment of a press's frame, in ms:
in (the bench's press to Visit.keys), keys (Visit.keys itself, the hold included), server (Visit.keys to the
presenter output that carried the frame), send (that Visit._send), out (from there to the bench's read),
total; then what the server's loop ran most (callbacks over 0.5 ms: count, total ms, longest ms)."""

from __future__ import annotations

import bisect
import collections
import glob
import statistics
import sys


def main(prefix: str) -> int:
    events: list[tuple[float, float, str]] = []
    for path in glob.glob(prefix + ".[0-9]*"):
        with open(path) as f:
            for line in f:
                t, d, what = line.rstrip("\n").split(" ", 2)
                events.append((float(t), float(d), what))
    events.sort()
    keys = [e for e in events if e[2] == "KEY"]
    sends = [e for e in events if e[2] == "SEND"]
    key_t, send_t = [e[0] for e in keys], [e[0] for e in sends]
    rows: dict[tuple[str, str], list[tuple[float, ...]]] = collections.defaultdict(list)
    with open(prefix + ".bench") as f:
        for line in f:
            n, label, pressed_s, shown_s = line.split()
            pressed, shown = float(pressed_s), float(shown_s)
            i = bisect.bisect_right(key_t, pressed)
            if i == len(keys) or keys[i][0] > shown:
                continue
            key = keys[i]
            j = bisect.bisect_left(send_t, shown) - 1  # the last output before the frame showed
            if j < 0 or sends[j][0] < key[0]:
                continue
            send = sends[j]
            rows[(n, label)].append((1000 * (key[0] - pressed), key[1], 1000 * (send[0] - key[0]), send[1],
                                     1000 * (shown - send[0]) - send[1], 1000 * (shown - pressed)))
    names = ("in", "keys", "server", "send", "out", "total")
    for (n, label), r in sorted(rows.items(), key=lambda kv: (int(kv[0][0]), kv[0][1])):
        cols = list(zip(*r))
        print(f"N={n} {label} ({len(r)} presses): " + "  ".join(
            f"{name} {statistics.fmean(c):.2f}/{statistics.median(c):.2f}" for name, c in zip(names, cols)))
    busy: dict[str, list[float]] = collections.defaultdict(list)
    for _, d, what in events:
        if what not in ("KEY", "SEND", "HOLD"):
            busy[what].append(d)
    print("the loop's callbacks over 0.5 ms (all processes): count, total ms, longest ms")
    for what, ds in sorted(busy.items(), key=lambda kv: -sum(kv[1]))[:10]:
        print(f"  {len(ds):6d} {sum(ds):9.1f} {max(ds):7.2f}  {what}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
