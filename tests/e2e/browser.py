"""A real browser for the end-to-end tests: Debian's chromium, headless, driven by Playwright.

The page draws the terminal on a canvas, so what a learner sees is read the way the page reads it:
every binary websocket frame the page receives is fed to a pyte screen of the page's own size (taken
from the size the page tells the server, in its first URL and in each "resize" message).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pyte
import trustme
from playwright.async_api import Browser, Page, WebSocket, async_playwright

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless=new", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run", "--disable-default-apps"]
if os.geteuid() == 0:
    FLAGS.append("--no-sandbox")  # chromium refuses to run as root with its sandbox


def certificate(tmp: Path, *hosts: str) -> tuple[trustme.CA, Path, Path]:
    """A throwaway certificate authority, and a certificate (with its chain) and key it issued for `hosts`,
    written to `tmp` as cert.pem and key.pem."""
    ca = trustme.CA()
    leaf = ca.issue_cert(*hosts)
    cert, key = tmp / "cert.pem", tmp / "key.pem"
    leaf.private_key_pem.write_to_path(str(key))
    cert.write_bytes(b"".join(blob.bytes() for blob in leaf.cert_chain_pems))
    return ca, cert, key


def trusting_home(tmp: Path, ca: trustme.CA) -> Path:
    """A HOME whose NSS database (what chromium on Linux trusts) holds the authority `ca`: give it to
    `chromium(home)`."""
    home = tmp / "home"
    db = home / ".pki" / "nssdb"
    db.mkdir(parents=True)
    ca_file = tmp / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    subprocess.run(["certutil", "-d", f"sql:{db}", "-N", "--empty-password"], check=True, capture_output=True)
    subprocess.run(["certutil", "-d", f"sql:{db}", "-A", "-t", "C,,", "-n", "knobtui test CA", "-i", str(ca_file)],
                   check=True, capture_output=True)
    return home


@asynccontextmanager
async def chromium(home: Path | None = None) -> AsyncIterator[Browser]:
    """Debian's chromium (apt install chromium); Playwright never downloads a browser here. With `home`,
    chromium runs with that HOME: the certificates it trusts are in HOME/.pki/nssdb."""
    if not os.path.exists(CHROMIUM):
        raise RuntimeError("the browser tests need Debian's chromium: apt-get install chromium (.ci/run does)")
    env = {**os.environ, "HOME": str(home)} if home is not None else None
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, env=env)
        try:
            yield browser
        finally:
            await browser.close()


class Tab:
    """One page of the browser door, and the screen its terminal shows."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.screen = pyte.Screen(80, 24)
        self.stream = pyte.ByteStream(self.screen)
        self.requests: list[str] = []
        self.received = 0
        self.closed = asyncio.Event()
        self.close_reason = ""
        self.socket: WebSocket | None = None
        page.on("request", lambda r: self.requests.append(r.url))
        page.on("websocket", self._on_socket)

    @classmethod
    async def open(cls, browser: Browser, url: str, width: int = 1000, height: int = 620) -> Tab:
        page = await browser.new_page(viewport={"width": width, "height": height})
        tab = cls(page)
        await page.goto(url)
        return tab

    def _on_socket(self, ws: WebSocket) -> None:
        self.socket = ws
        self.screen.reset()  # a reload: a new socket, a new screen
        query = parse_qs(urlparse(ws.url).query)
        cols, rows = int(query.get("width", ["80"])[0]), int(query.get("height", ["24"])[0])
        self.screen.resize(rows, cols)
        ws.on("framereceived", self._on_frame)
        ws.on("framesent", self._on_sent)
        ws.on("close", lambda _ws: self.closed.set())

    def _on_frame(self, payload: str | bytes) -> None:
        if isinstance(payload, bytes):
            self.received += len(payload)
            self.stream.feed(payload)

    def _on_sent(self, payload: str | bytes) -> None:
        if isinstance(payload, str) and payload.startswith('["resize"'):
            size = json.loads(payload)[1]
            self.screen.resize(size["height"], size["width"])

    @property
    def size(self) -> tuple[int, int]:
        return self.screen.columns, self.screen.lines

    def text(self) -> str:
        return "\n".join(self.screen.display)

    async def wait_for(self, text: str | re.Pattern[str], timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            screen = self.text()
            if (text.search(screen) if isinstance(text, re.Pattern) else text in screen):
                return screen
            await asyncio.sleep(0.05)
        raise AssertionError(f"{text!r} never appeared in the page; its screen was:\n{self.text()}")

    async def wait_until(self, check: Callable[[list[str]], bool], what: str, timeout: float = 30.0) -> list[str]:
        """Wait until `check(rows of the screen)` holds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            rows = self.screen.display
            if check(rows):
                return rows
            await asyncio.sleep(0.05)
        raise AssertionError(f"never {what}; the page's screen was:\n{self.text()}")

    async def press(self, key: str) -> None:
        await self.page.keyboard.press(key)

    async def type(self, text: str) -> None:
        await self.page.keyboard.type(text)

    async def close(self) -> None:
        if not self.page.is_closed():
            await self.page.close()
