"""The simulator's side of presenter mode: send the presenter's state, or follow it.

A presenter's simulator sends `{"state": ...}` lines after each change; a follower's receives them
and, while it follows, becomes that state (Session.follow). `d` detaches to play alone from where the
presenter was; `F` follows again.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable


REJOIN_STATUS = 3
"""A follower's private simulator exits with this when `F` asks to go back to the room's shared view."""


def parse_message(line: bytes) -> dict[str, object] | None:
    """One relay message, or None for anything that is not a JSON object (nesting too deep included)."""
    try:
        message = json.loads(line)
    except (ValueError, RecursionError):
        return None
    return message if isinstance(message, dict) else None


class RelayLink:
    """One connection to `knobtui serve`'s relay socket."""

    def __init__(self, path: str, role: str, token: str) -> None:
        self.path, self.role, self.token = path, role, token
        self.writer: asyncio.StreamWriter | None = None
        self._last_sent: bytes | None = None

    @property
    def presenter(self) -> bool:
        return self.role == "presenter"

    async def run(self, on_message: Callable[[dict[str, object]], None]) -> None:
        """Connect, say who we are, then hand every message to `on_message` until the relay goes."""
        reader, writer = await asyncio.open_unix_connection(self.path, limit=16 * 1024 * 1024)
        hello = {"role": self.role, "token": self.token} if self.presenter else {"role": "follower"}
        writer.write((json.dumps(hello) + "\n").encode())
        if self.presenter:
            # The relay first sends the room's latest state: a presenter who reconnects resumes from it
            # (the app adopts it and sends it back) instead of resetting the room to where it started.
            first = parse_message(await reader.readline())
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
            message = parse_message(line)
            if message is not None:
                on_message(message)

    def send_state(self, state: dict[str, object]) -> None:
        """Send the presenter's state if it changed (never waits: the relay reads all the time)."""
        line = (json.dumps({"state": state}, separators=(",", ":")) + "\n").encode()
        if line == self._last_sent:
            return
        self._last_sent = line
        if self.writer is not None and not self.writer.is_closing():
            self.writer.write(line)
