"""Shared views: followers who would see the same screen get the bytes of one renderer.

In presenter mode every follower used to be a whole simulator that drew every presenter step itself
(~15 ms of CPU and ~30 MB each): at 150 followers the room was seconds behind. A view is one follower
simulator (the *renderer*) at one size and terminal type; the server reads its pty once and writes
what it draws to every follower in the view, the way terminal-sharing tools do. A follower costs
bytes, not a render.

- Sizes are grouped: a follower gets the largest size on a short ladder (80..200 columns, 24..59
  rows) that fits its terminal with a row to spare, the rest of its terminal left blank; a terminal
  smaller than 80x24 gets its own size. So a room at many sizes needs only a handful of renderers.
- Terminal types are not mixed: the view key holds TERM, COLORTERM, NO_COLOR and the locale, so every
  follower gets exactly what a simulator of its own would have drawn for its terminal.
- The server keeps a model of each view's screen (screen.py) and sends changes, not frames: followers
  that are up to date share one diff per frame, about 3 bytes a changed cell instead of Textual's 17-29.
- A newcomer gets the terminal modes and the whole screen from the model (the renderer draws nothing
  for it).
- A follower whose channel backs up (it stopped reading) is skipped, never waited for; when it drains,
  it gets one diff from the screen it has to the newest. Nobody else notices.
- A follower's own line (their answer to the room's question, from the ballot the server holds) goes
  on a row the server owns: the view renders one row short and the row below it is the follower's
  (`own_row`). At 24 rows the lesson layout needs every row, so there the server borrows the view's last
  row (the key bar) while it has something to say and puts the model's row back after.
- `d` gives a follower a private simulator (from the presenter's state); `F` in it returns them here.
- Renderers run at a lower CPU priority than the presenter's own simulator, whose screen is projected.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable
import textwrap
from dataclasses import dataclass
from typing import Protocol

from .child import Child, read_pty
from .screen import Screen, Snap, blank, diff, paint

LADDER_COLS = (80, 100, 120, 160, 200)
LADDER_ROWS = (24, 29, 39, 49, 59)
"""A renderer's rows: one short of the terminals they fit (30, 40, ...), the row below is the follower's own.
The smallest keeps 24: the lesson layout needs 24 rows (tui/layout.py), so an 80x24 follower's own line
borrows the view's last row."""
OWN_LINES = 2  # rows a notice from the server may take (it wraps onto the row above its own)
RENDERER_NICE = 19  # renderers yield the CPU to the presenter's simulator (its screen is projected)
ENTER_VIEW = (
    "\x1b[?1049h"  # the alternate screen, as the simulator's own start does
    "\x1b[?25l"  # no cursor
    "\x1b[?7l"  # no line wrap
    "\x1b[0m\x1b[2J\x1b[H"  # a clean screen for the repaint
).encode()
EMPTY_GRACE = 5.0  # seconds a view with no followers keeps its renderer (a resize passing through)


def view_size(cols: int, rows: int) -> tuple[int, int]:
    """The size of the shared view a terminal of `cols` x `rows` gets: a rung with a row to spare below it,
    or (24 rows and fewer) the smallest rung or the terminal's own size."""
    fit_cols = max((c for c in LADDER_COLS if c <= cols), default=cols)
    fit_rows = max((r for r in LADDER_ROWS if r < rows), default=min(rows, LADDER_ROWS[0]))
    return fit_cols, fit_rows


def own_row(view_rows: int, rows: int) -> int:
    """The row (from 0) of a follower's own line, in a terminal of `rows` watching a view of `view_rows`: the
    one below the view, or the view's last when the terminal has no row to spare (80x24)."""
    return view_rows if rows > view_rows else view_rows - 1


@dataclass(frozen=True)
class OwnLine:
    """What the server writes on one follower's own row: their answer to the room's question (in
    presenter/quiz.py's `own_line` words, tone 'right', 'wrong' or ''), or a notice (`lines` 2: it may wrap
    onto the row above)."""

    text: str
    tone: str = ""
    lines: int = 1


def draw_own(line: OwnLine | None, cols: int, row: int) -> tuple[bytes, frozenset[int]]:
    """The bytes of `line` ending on `row` (from 0) of a `cols` wide terminal, and the rows they cover: whole
    rows in reverse video (the terminal's own colours, whatever the theme), bold when it says right or
    wrong. Printable ASCII only: nothing a follower's terminal would obey, whatever their locale."""
    if line is None or not line.text or cols < 4:
        return b"", frozenset()
    width = cols - 2
    plain = "".join(ch if " " <= ch <= "~" else "?" for ch in line.text)
    parts = (textwrap.wrap(plain, width, max_lines=line.lines, placeholder="...") if line.lines > 1
             else [plain[:width]]) or [""]
    top = max(0, row - len(parts) + 1)
    sgr = "0;1;7" if line.tone else "0;7"
    drawn = "".join(f"\x1b[{top + n + 1};1H\x1b[{sgr}m {part.ljust(width)} " for n, part in enumerate(parts))
    return (drawn + "\x1b[0m").encode(), frozenset(range(top, top + len(parts)))


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

    def view_ready(self) -> bool:
        """Whether the follower can take bytes now (False while its channel is backed up: it is skipped, and
        later gets one diff from the screen it has to the newest)."""

    def view_write(self, data: bytes) -> None:
        """Write to the follower."""

    def view_lost(self) -> None:
        """The view's renderer ended without being asked to: the follower joins a fresh one."""

    def view_own(self) -> OwnLine | None:
        """The follower's own line: their answer to the room's question (from the ballot the server holds),
        a notice from the server, or None."""


StartRenderer = Callable[[ViewKey], Awaitable[Child]]
Diffs = dict[int, tuple[Snap | None, bytes, frozenset[int]]]  # one frame's diffs, by the screen they start from

FRAME_QUIET = 0.003  # seconds of renderer silence that end a frame (a frame may come in several reads)
FRAME_GAP = 1 / 30  # the least time between two diffs of a view: changes in between go out together
FRAME_WAIT = 0.05  # the longest a frame waits for the renderer to fall silent
PUMP_TURN = 0.001  # seconds of a room's deferred work (renderers' output, frames' fan-out) a turn of the loop
CATCH_UP = 0.1  # how often a follower that fell behind is looked at again when nothing else happens


class Pump:
    """The deferrable work of a room's views, PUMP_TURN of it a turn of the server's event loop, one view
    after another: reading a renderer's output into the view's model, and writing a frame to its followers.

    Measured (bench/bench_hall_autoplay.py with a probe, 300 followers at autoplay): a presenter's key that
    reached the server while a frame was going out waited for a slice of every view's fan-out and every
    renderer's output read in that turn of the loop (up to 11 ms; +0.8 ms on its mean). Here it waits for
    one turn, whatever the number of views. `pause` (Room.hold) stops it until `go`."""

    def __init__(self, turn: float = PUMP_TURN) -> None:
        self.turn = turn
        self._queue: deque[View] = deque()
        self._handle: asyncio.Handle | None = None
        self._paused = False

    def want(self, view: View) -> None:
        """`view` has work (View.work): it gets turns until it has none."""
        if view not in self._queue:
            self._queue.append(view)
        self._arm()

    def pause(self) -> None:
        self._paused = True
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def go(self) -> None:
        self._paused = False
        self._arm()

    def _arm(self) -> None:
        if self._handle is None and not self._paused and self._queue:
            self._handle = asyncio.get_running_loop().call_soon(self._run)

    def _run(self) -> None:
        """One turn: views in order, each until it is done or the turn is over (at least one piece of work
        a turn); one with work left goes to the back of the queue, so every view moves on."""
        self._handle = None
        deadline = time.perf_counter() + self.turn
        while self._queue:
            view = self._queue.popleft()
            if view.work(deadline):
                self._queue.append(view)
            if time.perf_counter() >= deadline:
                break
        self._arm()

    def __len__(self) -> int:
        return len(self._queue)


class Seat:
    """What one follower's terminal shows: a screen of the view, and their own line on their own row."""

    __slots__ = ("shown", "row", "own", "drawn", "rows")

    def __init__(self, row: int) -> None:
        self.shown: Snap | None = None  # None: nothing yet (it gets the view's modes and the whole screen)
        self.row = row  # the follower's own row (own_row)
        self.own: OwnLine | None = None  # the own line shown
        self.drawn = b""  # its bytes
        self.rows: frozenset[int] = frozenset()  # the rows they cover


SAME = OwnLine("\0same")
"""`View._send`'s own line when it did not change (drawn again only where the changes wrote over it)."""


class View:
    """One renderer, a model of its screen, and the followers who watch it.

    The renderer's output goes into the model (screen.py); once it falls silent (a frame is complete),
    every follower gets the changes from the screen it has to the screen now. Followers that are up to
    date share one diff, computed once; one that fell behind (its channel backed up) gets one diff from
    where it stopped when it can take bytes again. A follower's own line goes on its own row (own_row),
    from what the member says (`view_own`), never found in the renderer's bytes."""

    def __init__(self, key: ViewKey, start: StartRenderer, on_empty: Callable[[View], None],
                 log: Callable[[str], None], on_lost: Callable[[Member], None] = lambda member: None,
                 pump: Pump | None = None) -> None:
        self.key = key
        self._pump = pump if pump is not None else Pump()  # the room's: one view's work at a time
        self._on_lost = on_lost  # a follower whose renderer ended unasked: the room gives it a new view
        self.members: dict[Member, Seat] = {}
        self.child: Child | None = None
        self.screen = Screen(key.cols, key.rows)
        self.shown: Snap = blank(key.cols, key.rows)  # the newest screen sent
        self.frames = 0  # diffs sent (to anyone): for the benches
        self._start, self._on_empty, self._log = start, on_empty, log
        self._starting: asyncio.Task[None] | None = asyncio.ensure_future(self._run())
        self._closing: asyncio.TimerHandle | None = None
        self._flush: asyncio.TimerHandle | None = None
        self._pending_since = 0.0
        self._last_flush = 0.0
        self._catch_up: asyncio.TimerHandle | None = None
        self._ended = False
        self._held = False  # the presenter's key is being drawn: frames wait (Room.hold)
        self._owed = False  # a frame came due while held
        self._inbox: deque[bytes] = deque()  # the renderer's output, read, not yet in the model
        self._fanning: tuple[Snap, deque[Member], Diffs] | None = None  # a frame's fan-out: who it has yet to reach

    @property
    def ended(self) -> bool:
        """The view is closed (or never started): a follower goes to another."""
        return self._ended

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
        self._inbox.append(data)  # into the model on the room's pump: a presenter's key may be waiting
        self._pump.want(self)

    def work(self, deadline: float) -> bool:
        """The room's pump's turn (Pump): a frame's fan-out first (one follower at a time), then the
        renderer's output into the model (one read at a time), until `deadline` (perf_counter) after at
        least one piece. True: there is more."""
        if self._ended:
            self._inbox.clear()
            self._fanning = None
            return False
        done = False
        while True:
            fanning = self._fanning is not None and not self._held
            if not (fanning or self._inbox):
                return False
            if done and time.perf_counter() >= deadline:
                return True
            if fanning:
                self._fan_one()
            elif self.screen.feed(self._inbox.popleft()):
                self._frame_soon()
            done = True

    def _frame_soon(self) -> None:
        """A frame ends when the renderer is quiet for FRAME_QUIET (at most FRAME_WAIT after it began), and
        no sooner than FRAME_GAP after the last."""
        loop = asyncio.get_running_loop()
        now = loop.time()
        if self._flush is None:
            self._pending_since = now
        elif now - self._pending_since >= FRAME_WAIT:
            return  # it has waited long enough: it goes out as planned
        else:
            self._flush.cancel()
        self._flush = loop.call_at(max(now + FRAME_QUIET, self._last_flush + FRAME_GAP), self.frame)

    def frame(self) -> None:
        """Send every follower the changes since the screen it has (up-to-date ones share one diff)."""
        if self._flush is not None:
            self._flush.cancel()  # called before its time (go): the timer would send a second frame
            self._flush = None
        if self._held:
            self._owed = True
            return
        self._last_flush = asyncio.get_running_loop().time()
        snap = self.screen.snapshot()
        old = self.shown
        self.shown = snap
        if snap is old:
            return
        self.frames += 1
        # every follower, on the room's pump; those the last frame has not reached yet are caught up by this one
        self._fanning = (old, deque(self.members), {}) if self.members else None
        if self._fanning is not None:
            self._pump.want(self)

    def _fan_one(self) -> None:
        """The newest frame to the next follower of the fan-out (View.work). Followers that had the same
        screen share one diff (by that screen: the frame's `old` for those up to date, an older one for those
        a frame cut short never reached)."""
        assert self._fanning is not None
        old, members, diffs = self._fanning
        member = members.popleft()
        seat = self.members.get(member)
        if seat is not None and seat.shown is not self.shown and member.view_ready():  # not gone, caught up or
            start = seat.shown  # backed up (it catches up once drained)
            known = diffs.get(id(start))
            if known is None or known[0] is not start:  # the entry keeps its start alive: ids are not reused
                known = diffs[id(start)] = (start, *diff(start or blank(self.key.cols, self.key.rows), self.shown))
            _, changes, touched = known
            self._send(member, seat, changes, touched, SAME if seat.shown is old else member.view_own())
        if not members:
            self._fanning = None
            self._watch_behind()

    def _send(self, member: Member, seat: Seat, changes: bytes, touched: frozenset[int],
              own: OwnLine | None) -> None:
        """Write `changes` (which bring `seat` to the view's newest screen) and what the follower's own line
        needs on top: drawn again where the changes wrote over it, or changed (`own`), the rows it left
        put back (the model's, over the view; cleared, below it)."""
        snap = self.shown
        parts = [ENTER_VIEW, changes] if seat.shown is None else [changes]
        if own is not SAME and own != seat.own:
            drawn, rows = draw_own(own, self.key.cols, seat.row)
            gone = sorted(seat.rows - rows)
            parts.append(paint(snap, [y for y in gone if y < self.key.rows], 0, self.key.cols - 1))
            parts += [f"\x1b[{y + 1};1H\x1b[0m\x1b[2K".encode() for y in gone if y >= self.key.rows]
            parts.append(drawn)
            seat.own, seat.drawn, seat.rows = own, drawn, rows
        elif seat.drawn and touched & seat.rows:
            parts.append(seat.drawn)
        data = b"".join(parts)
        seat.shown = snap
        if data:
            member.view_write(data)

    def _catch(self, member: Member, seat: Seat) -> None:
        """One follower to the newest screen in one diff (a newcomer, or one that fell behind), its own line
        as it is now."""
        if not member.view_ready():
            return
        start = seat.shown if seat.shown is not None else blank(self.key.cols, self.key.rows)
        changes, touched = diff(start, self.shown) if start is not self.shown else (b"", frozenset())
        self._send(member, seat, changes, touched, member.view_own())

    def _watch_behind(self) -> None:
        """While a follower is behind, look again now and then: it catches up without waiting for a frame."""
        behind = any(seat.shown is not self.shown for seat in self.members.values())
        if behind and self._catch_up is None:
            self._catch_up = asyncio.get_running_loop().call_later(CATCH_UP, self._catch_behind)

    def _catch_behind(self) -> None:
        self._catch_up = None
        if self._held:
            self._watch_behind()
            return
        for member, seat in list(self.members.items()):
            if seat.shown is not self.shown:
                self._catch(member, seat)
        self._watch_behind()

    def hold(self) -> None:
        """No frame of the renderer's goes out until `go` (the server's thread is the presenter's while its
        key is drawn); a newcomer's first screen, a drained follower's catch-up and own lines still do."""
        self._held = True

    def go(self) -> None:
        """Frames go out again: the rest of the one cut short on the pump's next turn, and one that came due
        meanwhile once the renderer (stopped anywhere in its frame) has gone quiet again."""
        self._held = False
        if self._ended:
            return
        if self._fanning is not None:
            self._pump.want(self)
        if self._owed:
            self._owed = False
            self._frame_soon()

    def own_changed(self, member: Member | None = None) -> None:
        """Each follower's own line again (or one follower's): they answered, the question changed, or the
        server has a notice for them. One that is behind gets it when it catches up."""
        for who in [member] if member is not None else list(self.members):
            seat = self.members.get(who)
            if seat is not None and seat.shown is self.shown and who.view_ready():
                self._send(who, seat, b"", frozenset(), who.view_own())


    def join(self, member: Member, row: int | None = None) -> None:
        """A follower comes in; `row`: its own row (the one below the view when not given)."""
        if self._closing is not None:
            self._closing.cancel()
            self._closing = None
        seat = self.members[member] = Seat(self.key.rows if row is None else row)
        self._catch(member, seat)
        self._watch_behind()

    def leave(self, member: Member) -> None:
        self.members.pop(member, None)
        if not self.members and self._closing is None and not self._ended:
            self._closing = asyncio.get_running_loop().call_later(EMPTY_GRACE, self._close_if_empty)

    def drained(self, member: Member) -> None:
        """A backed-up follower can take bytes again: one diff to the newest screen, and its own line if it
        changed meanwhile."""
        seat = self.members.get(member)
        if seat is not None and (seat.shown is not self.shown or member.view_own() != seat.own):
            self._catch(member, seat)

    def _close_if_empty(self) -> None:
        self._closing = None
        if not self.members:
            asyncio.ensure_future(self.close())

    async def close(self) -> None:
        if self._ended and self.child is None:
            return
        self._ended = True
        for timer in (self._closing, self._flush, self._catch_up):
            if timer is not None:
                timer.cancel()
        self._fanning = None
        self._inbox.clear()
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
        self._stopped: list[Child] = []  # renderers held (hold) until go
        self._held = False
        self.pump = Pump()  # every view's deferred work, a turn at a time

    # ---- the presenter's key first: the renderers stand still while it is drawn --------------------
    def hold(self) -> None:
        """Stop every renderer where it is, and hold every view's frames (the hub does this while the
        presenter's simulator draws a key): on a machine of few cores a renderer in the middle of a state,
        and the server's thread writing its frame to every follower, slow the projected screen whatever
        their priority. A renderer's driver takes the SIGCONT that follows as nothing to redraw
        (tui/driver.py)."""
        self.pump.pause()
        for view in self.views.values():
            view.hold()
            child = view.child
            if child is not None and child not in self._stopped and child.stop():
                self._stopped.append(child)
        self._held = True

    def go(self) -> None:
        """Every renderer `hold` stopped runs on from where it stood; frames that came due go out."""
        stopped, self._stopped = self._stopped, []
        self._held = False
        for child in stopped:
            child.go()
        for view in list(self.views.values()):
            view.go()
        self.pump.go()

    @property
    def held(self) -> bool:
        """Between `hold` and `go` (a view that starts meanwhile is not held)."""
        return self._held

    def join(self, member: Member, key: ViewKey, row: int | None = None) -> View:
        """Put a follower in the view for `key` with its own line on `row` (leaving any other view), starting
        its renderer if needed."""
        current = self._where.get(member)
        seat = current.members.get(member) if current is not None else None
        if (current is not None and current.key == key and not current.ended and seat is not None
                and seat.row == (key.rows if row is None else row)):
            return current
        self.leave(member)
        view = self.views.get(key)
        if view is None or view.ended:
            view = View(key, self._start, self._forget, self._log, self._lost, self.pump)
            self.views[key] = view
        view.join(member, row)
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

    def own_changed(self, member: Member | None = None) -> None:
        """One follower's own line again (they answered, or the server has a notice for them)."""
        view = self._where.get(member) if member is not None else None
        if view is not None:
            view.own_changed(member)

    def quiz_changed(self) -> None:
        """The room's question changed (asked, revealed or cleared): every follower's own line from the ballot."""
        for view in list(self.views.values()):
            view.own_changed()

    def _forget(self, view: View) -> None:
        if self.views.get(view.key) is view:
            del self.views[view.key]

    async def close(self) -> None:
        self.go()
        await asyncio.gather(*(v.close() for v in list(self.views.values())))

    def renderers(self) -> int:
        return sum(1 for v in self.views.values() if v.child is not None)
