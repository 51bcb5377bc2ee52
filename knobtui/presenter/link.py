"""Presenter mode, the simulator's side: one connection to the relay of `knobtui serve`.

A presenter's simulator sends its scene after each change; a follower's receives the presenter's
scenes. What the app does with them is tui/presenting.py's.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from ..learning.scene import Scene
from .protocol import MAX_LINE, LinkConfig, encode, parse
from .quiz import RoomQuestion


class RelayLink:
    """One connection to the relay socket."""

    def __init__(self, config: LinkConfig) -> None:
        self.config = config
        self.writer: asyncio.StreamWriter | None = None
        self._last_sent: bytes | None = None

    @property
    def presenter(self) -> bool:
        return self.config.presenter

    async def run(self, on_message: Callable[[dict[str, object]], None]) -> None:
        """Connect, say who we are, then hand every message to `on_message` until the relay goes."""
        reader, writer = await asyncio.open_unix_connection(self.config.path, limit=MAX_LINE)
        hello: dict[str, object] = ({"role": "presenter", "token": self.config.token} if self.presenter
                                    else {"role": "follower", **({"voter": self.config.voter} if self.config.voter else {})})
        writer.write(encode(hello))
        if self.presenter:
            # The relay first sends the room's latest scene: a presenter who reconnects resumes from it
            # (the app adopts it and sends it back) instead of resetting the room to where it started.
            first = parse(await reader.readline())
            resume = first.get("resume") if first else None
            self.writer = writer
            if isinstance(resume, dict):
                on_message({"state": resume, "resume": True})
            elif self._last_sent is not None:
                writer.write(self._last_sent)
        self.writer = writer
        while True:
            line = await reader.readline()
            if not line:
                return
            message = parse(line)
            if message is not None:
                on_message(message)

    def send(self, scene: Scene) -> None:
        """Send the presenter's scene if it changed (never waits: the relay reads all the time)."""
        line = encode({"state": scene.as_dict()})
        if line == self._last_sent:
            return
        self._last_sent = line
        self._write(line)

    def send_quiz(self, quiz: RoomQuestion | None) -> None:
        """The presenter asks the room, reveals the answer, or clears the question (None)."""
        self._write(encode({"quiz": quiz.as_dict() if quiz is not None else None}))

    def send_answer(self, qid: int, value: str) -> None:
        """A follower's answer to the room's open question (again: a changed mind)."""
        self._write(encode({"answer": {"id": qid, "value": value}}))

    def _write(self, line: bytes) -> None:
        if self.writer is not None and not self.writer.is_closing():
            self.writer.write(line)
