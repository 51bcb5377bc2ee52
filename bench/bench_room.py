#!/usr/bin/env python3
"""A question for the room: a presenter and N followers over SSH on loopback, in shared views.

Usage: python bench/bench_room.py [--followers 20,100,300]

For each N: N followers at ten terminal sizes (80x24 .. 200x60). The anchor, in the same run: the
presenter steps once (space), and each follower's time until its screen shows the new iteration. Then
the presenter asks (a): each follower's time until the renderer's panel shows the question (the server's
own line, "Press a key to answer", comes from the ballot at once and would time nothing); all N
press their key at the same moment (3 in 5 up): each follower's time until its own answer shows, the
bytes that cost it, and the presenter's time until its screen counts all N exactly; then the presenter
closes (space): each follower's time until it reads whether it was right. p50 / p95 over followers.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
import tempfile
import time
from pathlib import Path

import asyncssh
import pyte

sys.path.insert(0, str(Path(__file__).resolve().parent))
import servekit  # noqa: E402

SIZES = [(80, 24), (90, 28), (100, 30), (110, 35), (120, 40), (132, 43), (150, 45), (160, 50), (180, 55), (200, 60)]
UP, DOWN = b"\x1b[A", b"\x1b[B"


class Client(servekit.SSHClient):
    """One SSH client; remembers when a marker first appears in what it receives, and bytes received."""

    def __init__(self, screen: tuple[int, int] | None = None) -> None:
        super().__init__()
        self.received_bytes = 0
        self.seen: dict[bytes, float] = {}
        self.markers: list[bytes] = []
        self.screen = pyte.Screen(*screen) if screen else None
        self.stream = pyte.ByteStream(self.screen) if self.screen else None

    def received(self, data: bytes, window: bytes, now: float) -> None:
        self.received_bytes += len(data)
        for marker in self.markers:
            if marker not in self.seen and marker in window:
                self.seen[marker] = now
        if self.stream is not None:
            self.stream.feed(data)

    def watch(self, marker: bytes) -> None:
        self.seen.pop(marker, None)
        self.markers.append(marker)

    def text(self) -> str:
        return "\n".join(self.screen.display) if self.screen else ""


async def until(test, timeout: float = 120) -> None:  # type: ignore[no-untyped-def]
    deadline = time.perf_counter() + timeout
    while not test():
        if time.perf_counter() > deadline:
            raise TimeoutError("not seen in time")
        await asyncio.sleep(0.01)


async def timed(followers: list[Client], marker: bytes, start: float) -> tuple[float, float, int]:
    """p50, p95 (ms) of the followers' times from `start` until `marker`; how many never showed it."""
    try:
        await until(lambda: all(marker in f.seen for f in followers), 60)
    except TimeoutError:
        pass
    times = [(f.seen[marker] - start) * 1000 for f in followers if marker in f.seen]
    return servekit.pct(times, 0.5), servekit.pct(times, 0.95), len(followers) - len(times)


async def presenter_key(teacher: Client, followers: list[Client], key: bytes, marker: bytes) -> tuple[float, float, int]:
    """The presenter presses `key`: each follower's time until `marker` shows."""
    for f in followers:
        f.watch(marker)
    t0 = time.perf_counter()
    teacher.press(key)
    return await timed(followers, marker, t0)


async def one_room(n: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        key = asyncssh.generate_private_key("ssh-ed25519")
        (Path(tmp) / "keys").write_bytes(key.export_public_key())
        srv = servekit.Server(Path(tmp), "--presenter-key", str(Path(tmp) / "keys"))
        teacher = Client((100, 30))
        followers = [Client() for _ in range(n)]
        try:
            await teacher.open(srv.port, (100, 30), "teacher", key)
            for f in followers:
                f.watch(b"following the presenter")
            for i in range(0, n, 25):
                await asyncio.gather(*(f.open(srv.port, SIZES[j % len(SIZES)], f"student{j}")
                                       for j, f in enumerate(followers[i:i + 25], i)))
            await until(lambda: all(b"following the presenter" in f.seen for f in followers))
            await until(lambda: f"presenting to {n} followers" in teacher.text())
            await asyncio.sleep(2)  # the renderers settle

            step = await presenter_key(teacher, followers, b" ", b"iteration 1 ")
            await asyncio.sleep(1)
            asked = await presenter_key(teacher, followers, b"a", b"Will the weight go up or down?")
            await asyncio.sleep(1)

            ups = sum(1 for i in range(n) if i % 5 < 3)
            before = [f.received_bytes for f in followers]
            for f in followers:
                f.watch(b"Your answer: ")
            t0 = time.perf_counter()
            for i, f in enumerate(followers):
                f.press(UP if i % 5 < 3 else DOWN)
            bars = re.compile(rf"↑ up +[█░]+ +{ups}\b[\s\S]*↓ down +[█░]+ +{n - ups}\b")
            await until(lambda: f"{n} of {n} answered" in teacher.text() and bars.search(teacher.text()) is not None)
            counted = (time.perf_counter() - t0) * 1000
            answered = await timed(followers, b"Your answer: ", t0)
            await asyncio.sleep(1)
            per_answer = sorted(f.received_bytes - b for f, b in zip(followers, before))

            revealed = await presenter_key(teacher, followers, b" ", b"You said")
            return {"n": n, "step": step, "asked": asked, "answered": answered, "counted": counted,
                    "bytes": servekit.pct([float(b) for b in per_answer], 0.5), "revealed": revealed}
        finally:
            for c in [teacher, *followers]:
                c.close()
            srv.stop()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--followers", default="20,100,300")
    args = ap.parse_args()
    rows = [asyncio.run(one_room(int(n))) for n in args.followers.split(",")]
    print("followers in shared views; times in ms from the presenter's key (or the room's), p50 / p95 over followers")
    print(f"{'N':>4} | {'anchor: a step':>16} | {'question shown':>16} | {'own answer shown':>16} | "
          f"{'all counted':>11} | {'bytes/answer':>12} | {'verdict shown':>16}")
    for r in rows:
        def cell(v: tuple[float, float, int]) -> str:
            return f"{v[0]:.0f} / {v[1]:.0f}" + (f" ({v[2]} missing)" if v[2] else "")
        print(f"{r['n']:>4} | {cell(r['step']):>16} | {cell(r['asked']):>16} | {cell(r['answered']):>16} | "  # type: ignore[arg-type]
              f"{r['counted']:>11.0f} | {r['bytes']:>12.0f} | {cell(r['revealed']):>16}")  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
