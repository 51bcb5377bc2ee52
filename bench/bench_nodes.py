#!/usr/bin/env python3
"""One room on 1, 2 and 3 `knobtui serve` nodes joined by Redis (`--bus`), on this one machine.

Usage: python bench/bench_nodes.py [--nodes 1,2,3] [--followers 100] [--presses 10]

For each number of nodes: a throwaway redis-server, the nodes (each with the same presenter key), the
presenter on the first node (100x30), and --followers followers on every node at ten terminal sizes,
their clients in a process of their own at nice 10. The presenter presses space once a second
(--presses times), then `p` (autoplay, 15 a second, on the gradient preset: until it converges at 39).

Reported per run:
- follower p50 / p95 from the presenter's key to the follower's screen showing the new iteration,
  and during autoplay, from the presenter's screen showing an iteration to the follower's;
- followers not on the final iteration 30 s after the presenter's screen showed it;
- the presenter's cost: its own frame (key to its screen), and the CPU of its node's whole tree
  (server, renderers, the presenter's simulator) per press;
- the bus per presenter step: entries added to the room's stream, and bytes into and out of Redis
  (Redis's own INFO counters, so every node's reads are in them).
The anchor, in the same run, first and last: one node without a bus (serving as before the bus existed).
The machine's load average is printed with each row: on a shared machine it moves during a run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import asyncssh

sys.path.insert(0, str(Path(__file__).resolve().parent))
import servekit  # noqa: E402

SIZES = [(80, 24), (90, 28), (100, 30), (110, 35), (120, 40), (132, 43), (150, 45), (160, 50), (180, 55), (200, 60)]
LAST = 39  # the gradient preset converges here: autoplay stops


class Watcher(servekit.SSHClient):
    """One SSH client: when each iteration first appeared in what it received."""

    MARKS = (b"following the presenter", b"presenting")

    def __init__(self) -> None:
        super().__init__()
        self.seen: dict[int, float] = {}
        self.marks: set[bytes] = set()

    def received(self, data: bytes, window: bytes, now: float) -> None:
        for m in re.finditer(rb"iteration (\d+) ", window):
            self.seen.setdefault(int(m.group(1)), now)
        self.marks.update(m for m in self.MARKS if m in window)

    async def ready(self, text: bytes, timeout: float = 300) -> None:
        deadline = time.perf_counter() + timeout
        while text not in self.marks and time.perf_counter() < deadline:
            await asyncio.sleep(0.05)


async def audience(ports: list[int], n: int) -> None:
    """Its own process: n followers on each port; prints READY, then (on a line from stdin) when each
    follower saw each iteration."""
    followers = [(Watcher(), port) for port in ports for _ in range(n)]
    for i in range(0, len(followers), 25):
        await asyncio.gather(*(f.open(port, SIZES[j % len(SIZES)], f"s{j}")
                               for j, (f, port) in enumerate(followers[i:i + 25], i)))
    await asyncio.gather(*(f.ready(b"following the presenter") for f, _ in followers))
    print("READY", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    deadline = time.perf_counter() + 30  # the presenter is done: give every follower time to catch up
    while time.perf_counter() < deadline and not all(LAST in f.seen for f, _ in followers):
        await asyncio.sleep(0.1)
    print(json.dumps([{str(k): t for k, t in f.seen.items()} for f, _ in followers]), flush=True)
    for f, _ in followers:
        f.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Redis:
    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.proc = subprocess.Popen([shutil.which("redis-server") or "redis-server", "--port", str(self.port),
                                      "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(folder)],
                                     stdout=subprocess.DEVNULL)
        while self.cli("PING").strip() != "PONG":
            time.sleep(0.05)

    def cli(self, *args: str) -> str:
        return subprocess.run(["redis-cli", "-p", str(self.port), "--raw", *args], capture_output=True, text=True).stdout

    def net(self) -> tuple[int, int]:
        info = dict(line.split(":", 1) for line in self.cli("INFO", "stats").splitlines() if ":" in line)
        return int(info["total_net_input_bytes"]), int(info["total_net_output_bytes"])

    def entries(self) -> int:
        return int(self.cli("XLEN", "knobtui:{bench}:stream").strip() or 0)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


async def room(nodes: int, n: int, presses: int, bus: bool) -> dict[str, float]:
    tmp = Path(tempfile.mkdtemp(prefix="bench-nodes-"))
    key = asyncssh.generate_private_key("ssh-ed25519")
    (tmp / "keys").write_bytes(key.export_public_key())
    redis = Redis(tmp) if bus else None
    extra = ("--bus", f"redis://127.0.0.1:{redis.port}/0", "--room", "bench") if redis else ()
    servers = [servekit.Server(tmp, "--presenter-key", str(tmp / "keys"), *extra) for _ in range(nodes)]
    presenter = Watcher()
    crowd = None
    try:
        await presenter.open(servers[0].port, (100, 30), "teacher", key)
        await presenter.ready(b"presenting")
        crowd = subprocess.Popen(["nice", "-n", "10", sys.executable, __file__, "--audience", str(n), "--ports",
                                  ",".join(str(s.port) for s in servers)],
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert crowd.stdout is not None and crowd.stdin is not None
        line = await asyncio.get_running_loop().run_in_executor(None, crowd.stdout.readline)
        assert line.strip() == "READY", line
        await asyncio.sleep(3)
        cpu0, net0 = servers[0].cpu_seconds(), redis.net() if redis else (0, 0)
        entries0 = redis.entries() if redis else 0
        pressed: dict[int, float] = {}
        for k in range(1, presses + 1):
            pressed[k] = time.perf_counter()
            presenter.press(b" ")
            await asyncio.sleep(1.0)
        cpu1, net1 = servers[0].cpu_seconds(), redis.net() if redis else (0, 0)
        entries1 = redis.entries() if redis else 0
        presenter.press(b"p")  # autoplay to convergence
        deadline = time.perf_counter() + 60
        while LAST not in presenter.seen and time.perf_counter() < deadline:
            await asyncio.sleep(0.1)
        crowd.stdin.write("done\n")
        crowd.stdin.flush()
        out = await asyncio.get_running_loop().run_in_executor(None, crowd.stdout.readline)
        seen = [{int(k): t for k, t in d.items()} for d in json.loads(out)]
        crowd.wait(60)
    finally:
        presenter.close()
        for s in servers:
            s.stop()
        if redis is not None:
            redis.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    lat = [1000 * (f[k] - pressed[k]) for f in seen for k in pressed if k in f]
    auto = [1000 * (f[k] - presenter.seen[k]) for f in seen for k in range(presses + 1, LAST + 1)
            if k in f and k in presenter.seen]
    own = [1000 * (presenter.seen[k] - pressed[k]) for k in pressed if k in presenter.seen]
    return {"followers": len(seen), "p50": servekit.pct(lat, 0.5), "p95": servekit.pct(lat, 0.95),
            "auto50": servekit.pct(auto, 0.5), "auto95": servekit.pct(auto, 0.95),
            "behind": sum(1 for f in seen if LAST not in f), "own": servekit.pct(own, 0.5),
            "cpu": 1000 * (cpu1 - cpu0) / presses, "entries": (entries1 - entries0) / presses,
            "in": (net1[0] - net0[0]) / presses, "out": (net1[1] - net0[1]) / presses}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", default="1,2,3")
    parser.add_argument("--followers", type=int, default=100, help="followers on each node")
    parser.add_argument("--presses", type=int, default=10)
    parser.add_argument("--audience", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--ports", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.audience:
        asyncio.run(audience([int(p) for p in args.ports.split(",")], args.audience))
        return 0
    # The anchor runs first and again last: on a shared machine the load moves under a run of minutes.
    runs = ([("1 node, no bus (anchor)", 1, False)]
            + [(f"{k} node{'s' if k > 1 else ''} + Redis", k, True) for k in map(int, args.nodes.split(","))]
            + [("1 node, no bus (anchor, again)", 1, False)])
    header = ("| room | load | followers | step p50 | p95 | autoplay lag p50 | p95 | not on the last | presenter's frame "
              "| presenter node CPU/step | bus entries/step | bytes into Redis/step | bytes out of Redis/step |")
    rows = []
    for label, k, bus in runs:
        r = asyncio.run(room(k, args.followers, args.presses, bus))
        load = Path("/proc/loadavg").read_text().split()[0]
        row = (f"| {label} | {load} | {r['followers']:.0f} | {r['p50']:.0f} ms | {r['p95']:.0f} ms | {r['auto50']:.0f} ms "
               f"| {r['auto95']:.0f} ms | {r['behind']:.0f} | {r['own']:.0f} ms | {r['cpu']:.0f} ms "
               f"| {r['entries']:.1f} | {r['in']:.0f} | {r['out']:.0f} |")
        rows.append(row)
        print(row, flush=True)
    print()
    print(header)
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        print(row)
    return 0


if __name__ == "__main__":
    sys.exit(main())
