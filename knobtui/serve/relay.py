"""Presenter mode's relay: the presenter's state, as small messages, to every follower's simulator.

Every `knobtui` child of `knobtui serve` connects to one Unix socket. The presenter's children send
their state (a recipe of a few hundred bytes: knobs, method, iteration, preset, lesson note) after each
change; the relay keeps the latest and hands it to each follower. Each follower has one slot that
holds only the newest state, so a follower that stops reading falls behind alone: the presenter and
the other followers never wait for it.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import shutil
import tempfile

MAX_LINE = 16 * 1024 * 1024  # a recipe grows ~130 bytes per knob change after a step


class _Slot:
    """The newest state not yet written to one follower, and the task that writes it."""

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self.writer = writer
        self.pending: bytes | None = None
        self.ready = asyncio.Event()
        self.task = asyncio.ensure_future(self._run())

    def put(self, line: bytes) -> None:
        self.pending = line  # older states are simply replaced: a slow follower skips to the newest
        self.ready.set()

    async def _run(self) -> None:
        try:
            while True:
                await self.ready.wait()
                self.ready.clear()
                line, self.pending = self.pending, None
                if line is not None:
                    self.writer.write(line)
                    await self.writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass


class Relay:
    """The Unix socket the children connect to; a token says who is a presenter."""

    def __init__(self) -> None:
        self._dir = tempfile.mkdtemp(prefix="knobtui-relay-")
        os.chmod(self._dir, 0o700)
        self.path = os.path.join(self._dir, "relay.sock")
        self.presenter_token = secrets.token_hex(16)
        self.latest: bytes | None = None
        self.followers: dict[asyncio.StreamWriter, _Slot] = {}
        self.presenters: set[asyncio.StreamWriter] = set()
        self._server: asyncio.AbstractServer | None = None

    async def start(self) -> None:
        self._server = await asyncio.start_unix_server(self._handle, self.path, limit=MAX_LINE)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for slot in self.followers.values():
            slot.task.cancel()
        for writer in list(self.followers) + list(self.presenters):
            writer.close()
        shutil.rmtree(self._dir, ignore_errors=True)

    def child_env(self, presenter: bool) -> dict[str, str]:
        """What a child needs to join: the socket, and the presenter's token if it presents."""
        env = {"KNOBTUI_RELAY": self.path, "KNOBTUI_ROLE": "presenter" if presenter else "follower"}
        if presenter:
            env["KNOBTUI_RELAY_TOKEN"] = self.presenter_token
        return env

    def _count_changed(self) -> None:
        line = (json.dumps({"followers": len(self.followers)}) + "\n").encode()
        for writer in list(self.presenters):
            if not writer.is_closing():
                writer.write(line)  # tiny; a presenter reads its socket all the time

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        role = None
        try:
            hello = json.loads(await reader.readline() or b"{}")
            if not isinstance(hello, dict):
                hello = {}
            if hello.get("role") == "presenter" and secrets.compare_digest(
                    str(hello.get("token", "")), self.presenter_token):
                role = "presenter"
                self.presenters.add(writer)
                self._count_changed()
            else:
                role = "follower"
                slot = self.followers[writer] = _Slot(writer)
                if self.latest is not None:
                    slot.put(self.latest)
                self._count_changed()
            while True:
                line = await reader.readline()
                if not line:
                    break
                if role == "presenter" and line.startswith(b'{"state"'):
                    self.latest = line
                    for slot in self.followers.values():
                        slot.put(line)
        except (ConnectionError, ValueError, asyncio.LimitOverrunError, asyncio.IncompleteReadError,
                asyncio.CancelledError):
            pass
        finally:
            if role == "presenter":
                self.presenters.discard(writer)
            elif writer in self.followers:
                self.followers.pop(writer).task.cancel()
                self._count_changed()
            writer.close()
