#!/usr/bin/env python3
"""Through the browser door versus SSH, in one run: what a learner in a browser waits for and costs.

Usage: python bench/bench_web.py [--presses 15] [--runs 3]
Starts `knobtui serve --web-port 0` (no presenter) and, per run, opens the page in Debian's headless
chromium (Playwright) and an asyncssh client at the same terminal size. For each it times startup
(connect, or page navigation, to the first screen's first and last byte) and, for each press of
space, the first and last byte of the update, and counts the bytes per press. The browser's times
are taken in this process when Playwright reports each websocket frame, so they include the
browser's event delivery; the SSH client's are taken as bytes arrive. Then the page sits open for
IDLE seconds and the CPU time of the server's whole process tree is read. Medians over the runs.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests" / "e2e"))
from bench_serve import through_ssh  # noqa: E402
from browser import Tab, chromium  # noqa: E402
from servekit import Server  # noqa: E402

IDLE = 10.0  # seconds an open page is left alone to weigh what it costs the server
QUIET = 0.15  # an update is over when no frame came for this long


async def _settle(times: list[float], since: int, hard: float) -> None:
    start = time.perf_counter()
    while time.perf_counter() - start < hard:
        if len(times) > since and time.perf_counter() - times[-1] > QUIET:
            return
        await asyncio.sleep(0.005)


async def through_browser(url: str, presses: int, server: Server,
                          home: Path | None = None) -> tuple[dict[str, float], tuple[int, int], int]:
    """`home`: chromium's HOME, whose NSS database trusts the certificate of an https `url`."""
    async with chromium(home) as browser:
        page = await browser.new_page(viewport={"width": 1000, "height": 620})
        times: list[float] = []
        sizes: list[int] = []
        page_bytes = 0

        def on_socket(ws) -> None:  # type: ignore[no-untyped-def]
            def frame(payload: str | bytes) -> None:
                if isinstance(payload, bytes):
                    times.append(time.perf_counter())
                    sizes.append(len(payload))
            ws.on("framereceived", frame)

        async def on_response(response) -> None:  # type: ignore[no-untyped-def]
            nonlocal page_bytes
            try:
                page_bytes += len(await response.body())
            except Exception:
                pass

        page.on("websocket", on_socket)
        page.on("response", lambda r: asyncio.ensure_future(on_response(r)))
        tab = Tab(page)
        t0 = time.perf_counter()
        await page.goto(url)
        await _settle(times, 0, 20)
        await asyncio.sleep(0.5)  # the first screen's late frames (the curve) are part of startup
        startup_first, startup_last = times[0] - t0, times[-1] - t0
        await page.focus(".xterm-helper-textarea")
        lat, done, per = [], [], []
        for _ in range(presses):
            n = len(times)
            ts = time.perf_counter()
            await page.keyboard.press("Space")
            await _settle(times, n, 5)
            if len(times) > n:
                lat.append(1000 * (times[n] - ts))
                done.append(1000 * (times[-1] - ts))
                per.append(sum(sizes[n:]))
        size = tab.size
        await asyncio.sleep(1.0)
        cpu = server.cpu_seconds()
        await asyncio.sleep(IDLE)
        idle_cpu = 100 * (server.cpu_seconds() - cpu) / IDLE
        await page.close()
    return ({"startup_ms": 1000 * startup_last, "first_frame_ms": 1000 * startup_first,
             "first_byte_ms": statistics.median(lat), "last_byte_ms": statistics.median(done),
             "bytes_per_press": statistics.median(per), "idle_cpu_pct": idle_cpu}, size, page_bytes)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--presses", type=int, default=15)
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp())
    server = Server(tmp, "--web-port", "0")
    try:
        web, ssh, page_bytes = [], [], 0
        size = (0, 0)
        for _ in range(a.runs):
            figures, size, page_bytes = asyncio.run(through_browser(server.web_url, a.presses, server))
            web.append(figures)
            ssh.append(asyncio.run(through_ssh(server.port, size[0], size[1], a.presses)))
        print(f"terminal {size[0]}x{size[1]} (the page's size at 1000x620 px); page and assets "
              f"{page_bytes / 1024:.0f} KiB on the first visit")
        print(f"{'figure':<18}{'browser':>12}{'ssh':>12}{'added':>10}")
        for fig in ("startup_ms", "first_byte_ms", "last_byte_ms", "bytes_per_press"):
            w = statistics.median(x[fig] for x in web)
            s = statistics.median(x[fig] for x in ssh)
            print(f"{fig:<18}{w:>12.1f}{s:>12.1f}{w - s:>+10.1f}")
        print(f"{'first_frame_ms':<18}{statistics.median(x['first_frame_ms'] for x in web):>12.1f}"
              f"{'':>12}  (navigation to the first screen byte)")
        print(f"{'idle_cpu_pct':<18}{statistics.median(x['idle_cpu_pct'] for x in web):>12.2f}"
              f"{'':>12}  (the server's whole tree, while one page sits open {IDLE:g} s)")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
