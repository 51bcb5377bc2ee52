#!/usr/bin/env python3
"""The browser door over HTTPS (and WSS) against plain HTTP, in one run: what TLS adds for a learner.

Usage: python bench/bench_tls.py [--presses 15] [--runs 3]
Starts two `knobtui serve --no-ssh --web-port 0` servers, one with `--web-cert/--web-key` from a
throwaway certificate authority (trustme) that chromium is made to trust (an NSS database in a HOME of
its own, as tests/e2e/test_class_door.py does), and times the same page in Debian's headless chromium
through each (bench_web.py's measure: page navigation to the first screen, a space's first and last
byte, bytes per press, the server's CPU while the page sits idle). Medians over the runs; plain HTTP is
the anchor.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests" / "e2e"))
from bench_web import through_browser  # noqa: E402
from browser import certificate, trusting_home  # noqa: E402
from servekit import Server  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--presses", type=int, default=15)
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp())
    ca, cert, key = certificate(tmp, "127.0.0.1")
    home = trusting_home(tmp, ca)
    plain = Server(tmp, "--no-ssh", "--web-port", "0")
    secure = Server(tmp, "--no-ssh", "--web-port", "0", "--web-cert", str(cert), "--web-key", str(key))
    try:
        assert secure.web_url.startswith("https://"), secure.web_url
        https, http = [], []
        size = (0, 0)
        for _ in range(a.runs):  # interleaved, so both see the same machine
            figures, size, _ = asyncio.run(through_browser(secure.web_url, a.presses, secure, home))
            https.append(figures)
            http.append(asyncio.run(through_browser(plain.web_url, a.presses, plain, home))[0])
        print(f"terminal {size[0]}x{size[1]}, {a.runs} runs of {a.presses} presses, medians")
        print(f"{'figure':<18}{'https':>12}{'http':>12}{'added':>10}")
        for fig in ("startup_ms", "first_frame_ms", "first_byte_ms", "last_byte_ms", "bytes_per_press",
                    "idle_cpu_pct"):
            w = statistics.median(x[fig] for x in https)
            s = statistics.median(x[fig] for x in http)
            print(f"{fig:<18}{w:>12.2f}{s:>12.2f}{w - s:>+10.2f}")
    finally:
        plain.stop()
        secure.stop()


if __name__ == "__main__":
    main()
