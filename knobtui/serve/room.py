"""Shared views: followers who would see the same screen get the bytes of one renderer.

In presenter mode every follower used to be a whole simulator that drew every presenter step itself
(~15 ms of CPU and ~30 MB each): at 150 followers the room was seconds behind. A view is one follower
simulator (the *renderer*) at one size and terminal type; the server reads its pty once and writes
what it draws to every follower in the view, the way terminal-sharing tools do. A follower costs
bytes, not a render.

- Sizes are grouped: a follower gets the largest size on a short ladder (80..200 columns, 24..60
  rows) that fits its terminal, the rest of its terminal left blank; a terminal smaller than 80x24
  gets its own size. So a room at many sizes needs only a handful of renderers.
- Terminal types are not mixed: the view key holds TERM, COLORTERM, NO_COLOR and the locale, so every
  follower gets exactly what a simulator of its own would have drawn for its terminal.
- A newcomer gets the terminal modes and a full repaint (the renderer redraws on Ctrl+L).
- A follower whose channel backs up (it stopped reading) is skipped, never waited for; when it drains,
  it gets a full repaint. Nobody else notices.
- `d` gives a follower a private simulator (from the presenter's state); `F` in it returns them here.
- Renderers run at a lower CPU priority than the presenter's own simulator, whose screen is projected.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from ..presenter.quiz import ANSWER_TITLE, ASKS_TITLE
from .child import Child, read_pty
from .overlay import Escapes

PANEL_TITLES = (ASKS_TITLE.encode(), ANSWER_TITLE.encode())  # the renderer drew a follower's question panel
TITLE_OVERLAP = max(len(t) for t in PANEL_TITLES)
LADDER_COLS = (80, 100, 120, 160, 200)
LADDER_ROWS = (24, 30, 40, 50, 60)
RENDERER_NICE = 19  # renderers yield the CPU to the presenter's simulator (its screen is projected)
REPAINT = b"\x0c"  # Ctrl+L: the simulator redraws its whole screen
ENTER_VIEW = (
    "\x1b[?1049h"  # the alternate screen, as the simulator's own start does
    "\x1b[?25l"  # no cursor
    "\x1b[?7l"  # no line wrap
    "\x1b[0m\x1b[2J\x1b[H"  # a clean screen for the repaint
).encode()
EMPTY_GRACE = 5.0  # seconds a view with no followers keeps its renderer (a resize passing through)


def view_size(cols: int, rows: int) -> tuple[int, int]:
    """The size of the shared view a terminal of `cols` x `rows` gets."""
    fit_cols = max((c for c in LADDER_COLS if c <= cols), default=cols)
    fit_rows = max((r for r in LADDER_ROWS if r <= rows), default=rows)
    return fit_cols, fit_rows


@dataclass(frozen=True)
class ViewKey:
    """What makes two followers' screens identical."""

    cols: int
    rows: int
    term: str
    colorterm: str = ""
    no_color: str = ""
    locale: str = ""

    @classmethod
    def of(cls, size: tuple[int, int], env: dict[str, str]) -> ViewKey:
        cols, rows = view_size(*size)
        loc = env.get("LC_ALL") or env.get("LC_CTYPE") or env.get("LANG") or ""
        return cls(cols, rows, env.get("TERM", ""), env.get("COLORTERM", ""), env.get("NO_COLOR", ""), loc)


class Member(Protocol):
    """A follower in a view: where its bytes go."""

    def view_write(self, data: bytes) -> bool:
        """Write to the follower; False when its channel is backed up (it is then skipped until it drains)."""

    def view_lost(self) -> None:
        """The view's renderer ended without being asked to: the follower joins a fresh one."""

    def view_overlay(self, key: ViewKey) -> bytes:
        """The follower's own line over the view (their answer to the room's question), or b"" (overlay.py)."""


StartRenderer = Callable[[ViewKey], Awaitable[Child]]


class View:
    """One renderer and the followers who watch it."""

    def __init__(self, key: ViewKey, start: StartRenderer, on_empty: Callable[[View], None],
                 log: Callable[[str], None]) -> None:
        self.key = key
        self.members: dict[Member, bool] = {}  # follower -> live (False while its channel is backed up)
        self.child: Child | None = None
        self.drawn = False  # the renderer has drawn its first screen
        self.escapes = Escapes()  # where the renderer's output stands: a follower's own line goes in at rest
        self.panel = False  # the renderer has drawn the room's question: followers' own lines go on it
        self._last = b""  # the end of the renderer's last chunk (a title may straddle two reads)
        self._start, self._on_empty, self._log = start, on_empty, log
        self._starting: asyncio.Task[None] | None = asyncio.ensure_future(self._run())
        self._closing: asyncio.TimerHandle | None = None
        self._ended = False

    async def _run(self) -> None:
        try:
            child = await self._start(self.key)
        except OSError as exc:
            self._log(f"a shared view {self.key.cols}x{self.key.rows} could not start: {exc}")
            self._ended = True
            self._on_empty(self)
            return
        self._starting = None
        if self._ended:
            await child.end()
            return
        self.child = child
        asyncio.get_running_loop().add_reader(child.fd, self._on_output)

    def _on_output(self) -> None:
        child = self.child
        assert child is not None
        data = read_pty(child.fd)
        if data is None:
            return
        if not data:
            asyncio.get_running_loop().remove_reader(child.fd)
            self._log(f"the renderer of a shared view {self.key.cols}x{self.key.rows} exited; "
                      "its followers get a new one")
            members = list(self.members)
            asyncio.ensure_future(self.close())
            for member in members:
                self._on_lost(member)
            return
        self.drawn = True
        for member, live in list(self.members.items()):
            if live and not member.view_write(data):
                self.members[member] = False  # backed up: skipped until it drains, then repainted
        if not self.panel:
            seen = self._last + data
            self.panel = any(title in seen for title in PANEL_TITLES)
        self._last = data[-TITLE_OVERLAP:]
        if self.escapes.feed(data):
            self.overlay()

    def overlay(self, member: Member | None = None, always: bool = False) -> None:
        """Each follower's own line (or one follower's), if the renderer's output is at rest now (else it
        comes after the renderer's next chunk); on the question's panel, unless `always` (a notice)."""
        if not self.escapes.at_rest or not (self.panel or always):
            return
        for who in [member] if member is not None else list(self.members):
            if self.members.get(who):
                extra = who.view_overlay(self.key)
                if extra and not who.view_write(extra):
                    self.members[who] = False

    _on_lost: Callable[[Member], None] = staticmethod(lambda member: None)  # set by the room

    def join(self, member: Member) -> None:
        if self._closing is not None:
            self._closing.cancel()
            self._closing = None
        self.members[member] = True
        member.view_write(ENTER_VIEW)
        if self.drawn:
            self.repaint()

    def leave(self, member: Member) -> None:
        self.members.pop(member, None)
        if not self.members and self._closing is None and not self._ended:
            self._closing = asyncio.get_running_loop().call_later(EMPTY_GRACE, self._close_if_empty)

    def drained(self, member: Member) -> None:
        """A backed-up follower can take bytes again: it gets the whole screen."""
        if member in self.members and not self.members[member]:
            self.members[member] = True
            member.view_write(ENTER_VIEW)
            self.repaint()

    def repaint(self) -> None:
        if self.child is not None and self.child.fd >= 0:
            try:
                os.write(self.child.fd, REPAINT)
            except OSError:
                pass

    def _close_if_empty(self) -> None:
        self._closing = None
        if not self.members:
            asyncio.ensure_future(self.close())

    async def close(self) -> None:
        if self._ended and self.child is None:
            return
        self._ended = True
        if self._closing is not None:
            self._closing.cancel()
        self._on_empty(self)
        child, self.child = self.child, None
        if child is not None:
            if child.fd >= 0:
                try:
                    asyncio.get_running_loop().remove_reader(child.fd)
                except (ValueError, RuntimeError):
                    pass
            await child.end()


class Room:
    """Every shared view of a presenter's room, by key."""

    def __init__(self, start: StartRenderer, log: Callable[[str], None],
                 on_lost: Callable[[Member], None]) -> None:
        self.views: dict[ViewKey, View] = {}
        self._start, self._log, self._on_lost = start, log, on_lost
        self._where: dict[Member, View] = {}

    def join(self, member: Member, key: ViewKey) -> View:
        """Put a follower in the view for `key` (leaving any other), starting its renderer if needed."""
        current = self._where.get(member)
        if current is not None and current.key == key and not current._ended:
            return current
        self.leave(member)
        view = self.views.get(key)
        if view is None or view._ended:
            view = View(key, self._start, self._forget, self._log)
            view._on_lost = self._lost
            self.views[key] = view
        view.join(member)
        self._where[member] = view
        return view

    def _lost(self, member: Member) -> None:
        self._where.pop(member, None)
        self._on_lost(member)

    def leave(self, member: Member) -> None:
        view = self._where.pop(member, None)
        if view is not None:
            view.leave(member)

    def drained(self, member: Member) -> None:
        view = self._where.get(member)
        if view is not None:
            view.drained(member)

    def view_of(self, member: Member) -> View | None:
        return self._where.get(member)

    def overlay(self, member: Member | None = None, always: bool = False) -> None:
        """One follower's own line again (they answered, or the server has a notice for them)."""
        view = self._where.get(member) if member is not None else None
        if view is not None:
            view.overlay(member, always)

    def quiz_changed(self, asked: bool) -> None:
        """The room's question changed: a new one (`asked`) waits for the renderers to draw its panel before
        followers' own lines go on it; a reveal rewrites them now; a cleared one takes the panel away."""
        for view in list(self.views.values()):
            if asked:
                view.panel = False
            view.overlay()

    def _forget(self, view: View) -> None:
        if self.views.get(view.key) is view:
            del self.views[view.key]

    async def close(self) -> None:
        await asyncio.gather(*(v.close() for v in list(self.views.values())))

    def renderers(self) -> int:
        return sum(1 for v in self.views.values() if v.child is not None)
