"""Presenter mode, the simulator's side: one connection to the relay of `knobtui serve`.

A presenter's simulator sends its scene after each change; a follower's receives the presenter's
scenes. The messages are knobtui/wire.py's; what the app does with them is tui/presenting.py's.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from ..learning.scene import Scene
from ..wire import MAX_LINE, RELAY, Ballot, Hello, RelayMessage, Refused, Resume, RoomQuestion, State, quiz_message
from .protocol import LinkConfig


class RelayLink:
    """One connection to the relay socket."""

    def __init__(self, config: LinkConfig) -> None:
        self.config = config
        self.writer: asyncio.StreamWriter | None = None
        self._last_sent: bytes | None = None

    @property
    def presenter(self) -> bool:
        return self.config.presenter

    async def run(self, on_message: Callable[[RelayMessage], None]) -> None:
        """Connect, say who we are, then hand every message to `on_message` until the relay goes (a line
        that does not decode arrives as a Refused, for the app to say so)."""
        reader, writer = await asyncio.open_unix_connection(self.config.path, limit=MAX_LINE)
        writer.write(RELAY.encode(Hello(role="presenter", token=self.config.token) if self.presenter
                                  else Hello(role="follower", voter=self.config.voter)))
        if self.presenter:
            # The relay first sends the room's latest scene: a presenter who reconnects resumes from it
            # (the app adopts it and sends it back) instead of resetting the room to where it started.
            line = await reader.readline()
            if not line:
                return  # the relay went before it said anything: nothing to say, nothing refused
            first = RELAY.decode(line)
            self.writer = writer
            match first:
                case Resume(scene=None):
                    pass
                case Resume():
                    on_message(first)
                case _:
                    not_resume = f"the relay's first line was a {type(first).__name__}, not the room's scene"
                    on_message(first if isinstance(first, Refused) else Refused(why=not_resume))
            if (not isinstance(first, Resume) or first.scene is None) and self._last_sent is not None:
                writer.write(self._last_sent)  # the room has no scene of ours: it gets the one we showed last
        self.writer = writer
        while True:
            line = await reader.readline()
            if not line:
                return
            on_message(RELAY.decode(line))

    def send(self, scene: Scene) -> None:
        """Send the presenter's scene if it changed (never waits: the relay reads all the time)."""
        line = RELAY.encode(State.of(scene))
        if line == self._last_sent:
            return
        self._last_sent = line
        self._write(line)

    def send_quiz(self, quiz: RoomQuestion | None) -> None:
        """The presenter asks the room, reveals the answer, or clears the question (None)."""
        self._write(RELAY.encode(quiz_message(quiz)))

    def send_answer(self, qid: int, value: str) -> None:
        """A follower's answer to the room's open question (again: a changed mind)."""
        self._write(RELAY.encode(Ballot(id=qid, value=value)))

    def _write(self, line: bytes) -> None:
        if self.writer is not None and not self.writer.is_closing():
            self.writer.write(line)
