#!/usr/bin/env python3
"""A lecture hall watching autoplay: a presenter and N followers at ten sizes over SSH on loopback.

Usage: python bench/bench_hall_autoplay.py [--followers 10,100,300] [--seconds 20] [--before DIR]

For each N, starts `knobtui serve` with a presenter key, connects the presenter (100x30) and N asyncssh
followers at ten terminal sizes from 80x24 to 200x60; the presenter starts autoplay (hot and cold with a
step that never converges) at about 10 iterations a second (the default 15/s, which draws ~11) and then
at about 100 (120/s), each for --seconds. Every client reads what it receives into a screen model
(knobtui/serve/screen.py) and notes when each iteration first shows in the status line.

Reported per N and speed:
- follower lag: when an iteration shows on a follower's screen, minus when it showed on the presenter's
  (p50, p95, max over every iteration a follower showed; autoplay draws faster than a follower needs
  every frame, so skipped iterations are not counted), on one follower at each of the ten sizes (the
  others count bytes: reading every follower's screen would saturate the measuring process first);
- KB/s received per follower (p50 and max);
- server cores: CPU time of the server's whole tree (server, renderers, presenter's simulator) per second,
  and of the server process alone (SSH, the screen models and their diffs) / of the shared views'
  renderers (the niced processes) alone; the rest is the presenter's simulator (and the warm spawner);
- the clients' cores: the followers' SSH clients (one process), which a real hall runs on its own laptops;
- PSS of the whole tree at the end;
- the presenter's own frame: key (↓ or ↑, the knob marker moves) to the marker moving on the presenter's
  screen, pressed 5 times (--presses) during autoplay, as a ratio to the same with no followers.
The followers' clients run in a process of their own at nice 10 (a room's laptops take no CPU from the
server; here they must share it); with --crowd-apart, also in a scheduling group of their own at the
lowest priority (see _apart). `--before DIR` runs the same against the code in DIR (a checkout of an
earlier commit) in the same run, as the anchor. With KPROBE set and bench/loopprobe on PYTHONPATH, the
server's event loop is probed and each press's frame can be cut into segments (bench/loopprobe/segments.py).
On this 2-core machine the measuring clients compete with the server: lag is trustworthy up to 100
followers; bytes per follower and server CPU hold at 300 (FIELD-NOTES).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
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
SPEEDS = (("10/s", b""), ("100/s", b"+++"))  # from autoplay's default 15/s (drawing ~11/s): 120/s


class Server(servekit.Server):
    """The server with a presenter key (made here); with `code`, the code in that folder runs it."""

    def __init__(self, tmp: Path, code: str | None = None) -> None:
        self.key = asyncssh.generate_private_key("ssh-ed25519")
        (tmp / "keys").write_bytes(self.key.export_public_key())
        if code:
            os.environ["PYTHONPATH"] = code
            cwd = os.getcwd()
            os.chdir(code)
        try:
            seats = () if code else ("--max-seats", "1000", "--max-seats-per-address", "1000")  # (before: no seats)
            super().__init__(tmp, "--presenter-key", str(tmp / "keys"), "--preset", "hot-cold",
                             "--step-amount", "0.00001", *seats)
        finally:
            if code:
                os.environ.pop("PYTHONPATH", None)
                os.chdir(cwd)


class Watcher(servekit.ScreenClient):
    """A client that also notes when the knob marker (▶) moves on its screen: the presenter's own frame."""

    def __init__(self, size: tuple[int, int]) -> None:
        super().__init__(size)
        self.marker: int | None = None  # the row of the knob marker
        self.moves: list[float] = []  # when the marker moved

    def drawn(self, rows: list[str], now: float) -> None:
        super().drawn(rows, now)
        marker = next((y for y, row in enumerate(rows[:12]) if "▶" in row[:30]), None)
        if marker is not None and marker != self.marker:
            if self.marker is not None:
                self.moves.append(now)
            self.marker = marker


class Counter(servekit.SSHClient):
    """A follower that only counts what it receives (reading a screen per follower would saturate the
    measuring process long before the server: FIELD-NOTES)."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: dict[int, float] = {}
        self.bytes = 0

    def received(self, data: bytes, window: bytes, now: float) -> None:
        self.bytes += len(data)

    async def ready(self, text: str, timeout: float = 300) -> None:
        deadline = time.perf_counter() + timeout
        while self.bytes < 2000 and time.perf_counter() < deadline:  # a first screen came
            await asyncio.sleep(0.05)


async def audience(port: int, n: int) -> None:
    """Its own process (niced): N followers, one at each size reading its screen (the lag sample), the rest
    counting bytes; at each line on stdin, prints what each saw since the last."""
    followers: list[Watcher | Counter] = [Watcher(SIZES[j]) if j < len(SIZES) else Counter() for j in range(n)]
    for i in range(0, n, 25):
        await asyncio.gather(*(f.open(port, SIZES[j % len(SIZES)]) for j, f in enumerate(followers[i:i + 25], i)))
    await asyncio.gather(*(f.ready("following the presenter") for f in followers))
    print("READY", flush=True)
    loop = asyncio.get_running_loop()
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line.strip():
            break
        print(json.dumps([{"seen": f.seen, "bytes": f.bytes} for f in followers]), flush=True)
        for f in followers:
            f.seen, f.bytes = {}, 0
    for f in followers:
        f.close()


def _apart() -> None:
    """In the crowd's process before exec: a session of its own (so, with autogroup, a scheduling group of
    its own) at the group's lowest priority. Without it the crowd shares the bench's group, and so the
    server's: nice 10 then only orders it within that group, and the group as a whole competes with the
    presenter's simulator and the renderers (each a group of its own)."""
    os.setsid()
    try:
        with open("/proc/self/autogroup", "w") as f:
            f.write("19")
    except OSError:
        pass


async def hall(srv: Server, n: int, seconds: float, presses: int = 5, apart: bool = False) -> list[dict[str, float]]:
    """One hall of N followers: `presses` of ↓/↑ a phase sample the presenter's frame (--presses); `apart`:
    the followers' clients in a scheduling group of their own at the lowest priority (--crowd-apart)."""
    presenter = Watcher((100, 30))
    await presenter.open(srv.port, (100, 30), "teacher", srv.key)
    await presenter.ready("presenting")
    crowd = None
    loop = asyncio.get_running_loop()
    if n:
        crowd = subprocess.Popen(["nice", "-n", "10", sys.executable, __file__, "--audience", str(n), "--port",
                                  str(srv.port)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                 preexec_fn=_apart if apart else None)
        assert crowd.stdout is not None and crowd.stdin is not None
        line = await loop.run_in_executor(None, crowd.stdout.readline)
        assert line.strip() == "READY", line
    await asyncio.sleep(1)
    results = []
    presenter.press(b"p")  # autoplay on, at the default speed
    for label, keys in SPEEDS:
        presenter.press(keys)
        await asyncio.sleep(2)  # the speed settles
        if crowd is not None:
            crowd.stdin.write("reset\n")  # type: ignore[union-attr]
            crowd.stdin.flush()  # type: ignore[union-attr]
            await loop.run_in_executor(None, crowd.stdout.readline)  # type: ignore[union-attr]
        presenter.seen = {}
        cpu0, own0, views0 = srv.cpu_seconds(), srv.cpu_seconds(srv.proc.pid), srv.cpu_seconds(niced=True)
        crowd0 = srv.cpu_seconds(crowd.pid) if crowd is not None else 0.0
        t0 = time.perf_counter()
        frames: list[float] = []
        spread = random.Random(presses)  # the same presses in every run
        for k in range(presses):  # the presenter's own frame, while the hall watches
            # At even gaps every press would land at the same point of autoplay's frame (15 and 30 frames a
            # second divide a third of a second), and the median of a run would be that one point's wait:
            # 6 ms in one run and 11 ms in the next, alone. A press lands anywhere in a frame instead.
            await asyncio.sleep(seconds / (presses + 1) * spread.uniform(0.5, 1.5))
            before = len(presenter.moves)
            pressed = time.perf_counter()
            presenter.press(b"\x1b[B" if k % 2 == 0 else b"\x1b[A")
            while len(presenter.moves) == before and time.perf_counter() - pressed < 5:
                await asyncio.sleep(0.002)
            if len(presenter.moves) > before:
                frames.append(1000 * (presenter.moves[before] - pressed))
                if os.environ.get("KPROBE"):  # for bench/loopprobe: the press and when its frame showed
                    with open(os.environ["KPROBE"] + ".bench", "a") as f:
                        f.write(f"{n} {label} {pressed:.6f} {presenter.moves[before]:.6f}\n")
        await asyncio.sleep(max(0.0, seconds - (time.perf_counter() - t0)))
        elapsed = time.perf_counter() - t0
        cores = (srv.cpu_seconds() - cpu0) / elapsed
        server = (srv.cpu_seconds(srv.proc.pid) - own0) / elapsed
        views = (srv.cpu_seconds(niced=True) - views0) / elapsed
        clients = (srv.cpu_seconds(crowd.pid) - crowd0) / elapsed if crowd is not None else 0.0
        shown = dict(presenter.seen)
        seen: list[dict[str, object]] = []
        if crowd is not None:
            crowd.stdin.write("report\n")  # type: ignore[union-attr]
            crowd.stdin.flush()  # type: ignore[union-attr]
            seen = json.loads(await loop.run_in_executor(None, crowd.stdout.readline))  # type: ignore[union-attr]
        lags = [1000 * (t - shown[int(k)]) for f in seen for k, t in f["seen"].items()  # type: ignore[union-attr]
                if int(k) in shown]
        rates = [f["bytes"] / 1024 / elapsed for f in seen]  # type: ignore[operator]
        its = (max(shown) - min(shown)) / elapsed if len(shown) > 1 else float("nan")
        results.append({"speed": label, "its": its, "p50": servekit.pct(lags, 0.5), "p95": servekit.pct(lags, 0.95),
                        "max": max(lags, default=float("nan")), "kbs": servekit.pct(rates, 0.5),
                        "kbs_max": max(rates, default=float("nan")), "cores": cores, "server": server, "views": views, "clients": clients, "pss": srv.pss_mb(),
                        "frame": servekit.pct(frames, 0.5), "frame_q1": servekit.pct(frames, 0.25),
                        "frame_q3": servekit.pct(frames, 0.75), "frame_mean": statistics.fmean(frames) if frames else float("nan"),
                        "frame_ci": 1.96 * statistics.stdev(frames) / len(frames) ** 0.5 if len(frames) > 1 else float("nan")})
    presenter.press(b"p")
    if crowd is not None:
        crowd.stdin.write("\n")  # type: ignore[union-attr]
        crowd.stdin.flush()  # type: ignore[union-attr]
        crowd.wait()
    presenter.close()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--followers", default="10,100,300")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--before", metavar="DIR", help="also run the code in DIR (an earlier checkout), as the anchor")
    parser.add_argument("--crowd-apart", action="store_true",
                        help="run the followers' clients in a scheduling group of their own at the lowest priority "
                             "(laptops that are not this machine), not in the server's")
    parser.add_argument("--presses", type=int, default=5, help="presses of ↓/↑ per phase for the presenter's frame "
                                                                     "(default 5)")
    parser.add_argument("--audience", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.audience:
        asyncio.run(audience(args.port, args.audience))
        return 0
    counts = [int(x) for x in args.followers.split(",")]
    print("| code | N | speed (drawn) | lag p50 | p95 | max | KB/s per follower p50 (max) | server cores (server process / renderers) "
          "| PSS | presenter's frame p50 (p25-p75) | vs alone | its mean ± 95% | vs alone | the clients' cores |")
    print("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|", flush=True)
    for label, code in (("this", None), ("before", args.before)):
        if label == "before" and not code:
            continue
        alone: dict[str, float] = {}
        alone_mean: dict[str, float] = {}
        for n in [0, *counts]:
            with tempfile.TemporaryDirectory() as tmp:
                srv = Server(Path(tmp), code)
                try:
                    results = asyncio.run(hall(srv, n, args.seconds, max(1, args.presses), args.crowd_apart))
                finally:
                    srv.stop()
            for r in results:
                if n == 0:
                    alone[str(r["speed"])] = r["frame"]
                    alone_mean[str(r["speed"])] = r["frame_mean"]
                ratio = r["frame"] / alone.get(str(r["speed"]), float("nan"))
                ratio_mean = r["frame_mean"] / alone_mean.get(str(r["speed"]), float("nan"))
                print(f"| {label} | {n} | {r['speed']} ({r['its']:.0f}/s) | {r['p50']:.0f} ms | {r['p95']:.0f} ms "
                      f"| {r['max']:.0f} ms | {r['kbs']:.1f} ({r['kbs_max']:.1f}) | {r['cores']:.2f} ({r['server']:.2f} / {r['views']:.2f}) | {r['pss']:.0f} MB "
                      f"| {r['frame']:.1f} ms ({r['frame_q1']:.1f}-{r['frame_q3']:.1f}) | {ratio:.2f}x "
                      f"| {r['frame_mean']:.1f} ± {r['frame_ci']:.1f} ms | {ratio_mean:.2f}x | {r['clients']:.2f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
