#!/usr/bin/env python3
"""A lecture hall on one machine: a presenter and N followers over SSH on loopback.

Usage: python bench/bench_hall.py [--followers 10,50,100,200,300] [--presses 10] [--private-upto 100]

For each N, starts `knobtui serve` with a presenter key, connects the presenter (100x30) and N asyncssh
followers at ten terminal sizes from 80x24 to 200x60, then the presenter presses space once a second.
A follower's latency runs from the presenter's key until that follower's bytes show the new iteration;
the presenter's own frame is timed the same way. Reported: follower p50 / p95, followers that never
showed the final iteration, the presenter's frame (p50, and its ratio to the presenter alone, N = 0),
and the PSS of the whole server tree (server, spawner, every simulator) with everyone connected.
Each N runs with shared views (the default) and, up to --private-upto, with --private-followers (a
simulator per follower: the design before) as the anchor, in the same run.
The followers' clients run in a process of their own at nice 10 (a room's laptops take no CPU from the
server; here they must share it); the presenter's client runs at normal priority.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import asyncssh

sys.path.insert(0, str(Path(__file__).resolve().parent))
import servekit  # noqa: E402

SIZES = [(80, 24), (90, 28), (100, 30), (110, 35), (120, 40), (132, 43), (150, 45), (160, 50), (180, 55), (200, 60)]


class Server(servekit.Server):
    """The server with a presenter key (made here) for the presenter's client."""

    def __init__(self, tmp: Path, *args: str) -> None:
        self.key = asyncssh.generate_private_key("ssh-ed25519")
        (tmp / "keys").write_bytes(self.key.export_public_key())
        super().__init__(tmp, "--presenter-key", str(tmp / "keys"), *args)


Watcher = servekit.ScreenClient


async def audience(port: int, n: int, seconds: float) -> None:
    """Run as its own process (niced, like laptops that are not the server): N followers; prints, per
    follower, when each iteration first appeared (perf_counter is the system's monotonic clock)."""
    followers = [Watcher(SIZES[j % len(SIZES)]) for j in range(n)]
    for i in range(0, n, 25):  # arrive in waves of 25 (the arrival surge is bench_arrival.py's)
        await asyncio.gather(*(f.open(port, SIZES[j % len(SIZES)]) for j, f in enumerate(followers[i:i + 25], i)))
    await asyncio.gather(*(f.ready("following the presenter") for f in followers))
    print("READY", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)  # the presenter is done
    await asyncio.sleep(seconds)
    print(json.dumps([{str(k): t for k, t in f.seen.items()} for f in followers]), flush=True)
    alone = back = float("nan")
    if followers[0].proc is not None:  # one follower plays alone (d), then comes back (F)
        t0 = time.perf_counter()
        followers[0].proc.stdin.write(b"d")
        await followers[0].ready("playing alone", 30)
        t1 = time.perf_counter()
        followers[0].proc.stdin.write(b"F")
        await followers[0].ready("following the presenter", 30)
        alone, back = 1000 * (t1 - t0), 1000 * (time.perf_counter() - t1)
    print(json.dumps({"alone": alone, "back": back}), flush=True)
    for f in followers:
        f.close()


async def hall(srv: Server, n: int, presses: int) -> dict[str, float]:
    presenter = Watcher()
    await presenter.open(srv.port, (100, 30), "teacher", srv.key)
    await presenter.ready("presenting")
    crowd = None
    if n:
        crowd = subprocess.Popen(["nice", "-n", "10", sys.executable, __file__, "--audience", str(n), "--port",
                                  str(srv.port), "--seconds", "4"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert crowd.stdout is not None
        loop = asyncio.get_running_loop()
        line = await loop.run_in_executor(None, crowd.stdout.readline)
        assert line.strip() == "READY", line
    await asyncio.sleep(2)
    pss = srv.pss_mb()
    pressed: dict[int, float] = {}
    assert presenter.proc is not None
    for k in range(1, presses + 1):
        pressed[k] = time.perf_counter()
        presenter.proc.stdin.write(b" ")
        await asyncio.sleep(1.0)
    seen: list[dict[int, float]] = []
    d_and_f = {"alone": float("nan"), "back": float("nan")}
    if crowd is not None:
        assert crowd.stdout is not None and crowd.stdin is not None
        crowd.stdin.write("done\n")
        crowd.stdin.flush()
        out = await asyncio.get_running_loop().run_in_executor(None, crowd.stdout.readline)
        seen = [{int(k): t for k, t in d.items()} for d in json.loads(out)]
        d_and_f = json.loads(crowd.stdout.readline())
        crowd.wait()
    lat = [1000 * (f[k] - pressed[k]) for f in seen for k in pressed if k in f]
    own = [1000 * (presenter.seen[k] - pressed[k]) for k in pressed if k in presenter.seen]
    behind = sum(1 for f in seen if presses not in f)
    if behind:
        print("  last iteration seen by followers that missed the final one:",
              sorted((max(f, default=-1), SIZES[j % len(SIZES)]) for j, f in enumerate(seen) if presses not in f),
              file=sys.stderr)
    presenter.close()
    return {"p50": servekit.pct(lat, 0.5), "p95": servekit.pct(lat, 0.95), "behind": behind, "own": statistics.median(own),
            "pss": pss, **d_and_f}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--followers", default="10,50,100,200,300")
    parser.add_argument("--presses", type=int, default=10)
    parser.add_argument("--private-upto", type=int, default=100)
    parser.add_argument("--audience", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--seconds", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.audience:
        asyncio.run(audience(args.port, args.audience, args.seconds))
        return 0
    counts = [int(x) for x in args.followers.split(",")]
    rows = []
    for label, extra, upto in (("shared views", (), max(counts)),
                               ("private (before)", ("--private-followers",), args.private_upto)):
        alone = None
        for n in [0, *counts]:
            if n > upto:
                continue
            with tempfile.TemporaryDirectory() as tmp:
                srv = Server(Path(tmp), *extra)
                try:
                    r = asyncio.run(hall(srv, n, args.presses))
                finally:
                    srv.stop()
            if n == 0:
                alone = r["own"]
                rows.append((label, 0, "", "", "", f"{r['own']:.0f} ms", "1.0x", f"{r['pss']:.0f} MB", "", ""))
                continue
            rows.append((label, n, f"{r['p50']:.0f} ms", f"{r['p95']:.0f} ms", f"{int(r['behind'])}",
                         f"{r['own']:.0f} ms", f"{r['own'] / alone:.1f}x" if alone else "",
                         f"{r['pss']:.0f} MB", f"{r['alone']:.0f} ms", f"{r['back']:.0f} ms"))
            print(*rows[-1], sep=" | ", flush=True)
    print()
    print("| followers are | N | follower p50 | p95 | not on the final state | presenter's frame | vs alone "
          "| server tree PSS | d: playing alone | F: back |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        print("| " + " | ".join(str(x) for x in row) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
