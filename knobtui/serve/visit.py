"""One visitor's time on the server, whatever door they came through: admission, their simulator (or a
seat in a shared view), keys in, screen out, and one end.

A door (ssh.py, web.py) owns the transport and hands the visit a `Channel`: somewhere to write the
screen's bytes, how much of that is still unsent, and how to close. Everything else, the door's gates
included, is the same for an SSH terminal and a browser tab:

    start      → the door's seat gates (door.py): a simulator of its own, or a seat in a shared view
    keys       → invalid UTF-8 made U+FFFD, a bounded backlog, q/d in a shared view
    screen     → a slow channel slows only its own simulator; a backed-up follower is skipped
    end        → once: the terminal restored if the server ended it, the child reaped, one log line
"""

from __future__ import annotations

import asyncio
import codecs
import os
import re
import secrets
import shutil
import tempfile
import time
from collections.abc import Callable, Mapping
from typing import Protocol

from ..presenter.quiz import own_line
from ..wire import CRASH_LOG_ENV, REJOIN_STATUS, START_DETACHED_ENV, VOTER_ENV
from .child import Child, read_pty
from .door import Knock, Refusal, SeatInView
from .gates import TERMINAL_RESET, End, EndKind, clean, describe
from .hub import Hub, log
from .room import OWN_LINES, OwnLine, ViewKey, own_row
from .screen import Mirror

INPUT_BACKLOG = 64 * 1024  # keys a visitor typed that the simulator has not read yet; more is dropped
VIEW_BACKLOG = 32 * 1024  # bytes a follower in a shared view may have unsent before it is skipped (a few diffs)
RESIZE_SETTLE = 0.25  # seconds a follower's size must hold before it moves to another shared view

MOTION = re.compile(rb"(?:\x1b\[<(\d+);\d+;\d+[Mm])+")  # SGR mouse reports (Textual asks for any motion)
ARROWS = {b"\x1b[A": "up", b"\x1bOA": "up", b"\x1b[B": "down", b"\x1bOB": "down"}  # either cursor mode
CSI_OR_STRING = re.compile(rb"\x1b\[[\x20-\x3f]*[\x40-\x7e]?|\x1b[\]P_^X][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1bO.?|\x1b.?",
                           re.DOTALL)


def view_keys(data: bytes) -> list[str]:
    """The keys in what a follower in a shared view typed: each escape sequence whole (an arrow is "up"
    or "down"; anything else, a terminal's reply included, is no key), every other byte a key."""
    keys: list[str] = []
    at = 0
    while at < len(data):
        if data[at] == 0x1B:
            m = CSI_OR_STRING.match(data, at)
            end = m.end() if m else at + 1
            arrow = ARROWS.get(data[at:end])
            if arrow:
                keys.append(arrow)
            at = end
        else:
            keys.append(chr(data[at]))
            at += 1
    return keys


def pointer_moved(data: bytes) -> bool:
    """`data` is only the mouse moving (no button changed): the presenter pointing at the projected screen,
    which draws nothing and holds up nobody (Hub.presenter_pressed)."""
    match = MOTION.fullmatch(data)
    return match is not None and all(int(b) & 32 for b in re.findall(rb"\x1b\[<(\d+);", data))


class Channel(Protocol):
    """What a door gives a visit: the transport, seen from the server."""

    door: str  # "ssh" or "web", for the log

    def write(self, data: bytes) -> None:
        """Send screen bytes (never raises: a broken transport is the door's to notice)."""

    def backlog(self) -> int:
        """Bytes written but not yet sent."""

    def close(self, status: int) -> None:
        """End the transport, passing on the simulator's exit status where the transport has one."""


class Visit:
    """One visitor: a `knobtui` child on its own pty, or a seat in the room's shared view."""

    def __init__(self, hub: Hub, channel: Channel, address: str, username: str, presenter: bool = False,
                 holds_simulator: Callable[[Visit], bool] | None = None, identity: str = "") -> None:
        self.hub = hub
        self.channel = channel
        self.presenter = presenter
        self.address = address
        self.username = username
        self.holds_simulator = holds_simulator  # another simulator on the same connection (SSH)
        self.term: str | None = None
        self.asked: tuple[int, int] | None = None  # the size the client asked for, when it was capped
        self.asked_term: str | None = None  # the TERM it asked for, when it was not a terminal name
        self.size = (80, 24)
        self.child: Child | None = None
        self.started = time.monotonic()
        self.last_activity = time.monotonic()  # a key pressed or the screen changed
        self.watching = False  # a follower in a shared view (no simulator of its own)
        self._pending = bytearray()
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._reading = False
        self._ending: asyncio.Future[None] | None = None
        self._workdir: str | None = None
        self._env: dict[str, str] = {}
        self._seat: bool | None = None  # the slot it holds: a seat in a shared view, a simulator, or none yet
        self._resize_timer: asyncio.TimerHandle | None = None
        # Who answers the room's questions: what the door knows of the visitor (voters.py), or this visit.
        self.identity = identity or f"visit:{secrets.token_hex(8)}"
        self.voter = ""
        self.notice = ""  # a sentence from the server on a follower's own line (a refused `d`)
        self._mirror: Mirror | None = None  # the model of its own simulator's screen

    @property
    def counted(self) -> bool:
        """Holds a slot, a simulator or a seat (from admission until its end)."""
        return self._seat is not None

    @property
    def open(self) -> bool:
        """Not yet ended."""
        return self._ending is None

    @property
    def role(self) -> str:
        return "presenter" if self.presenter else ("follower" if self.hub.relay else "")

    def _describe(self, event: str, **extra: object) -> str:
        return describe(event, self.address, self.username, self.term, self.size, door=self.channel.door, **extra)

    def set_size(self, cols: int, rows: int) -> None:
        self.size = self.hub.door.cap(cols, rows)
        self.asked = (cols, rows) if self.size != (cols, rows) else None

    # ---- admission ---------------------------------------------------------------------------------
    def _turn_away(self, message: str, why: str) -> None:
        self.channel.write(f"{message}\r\n".encode())
        self.channel.close(1)
        log(self._describe("turned away", why=why))

    def knock(self) -> Knock:
        """What the door knows of this visit, for its seat gates (door.py)."""
        return Knock(self.channel.door, self.address, self.username, presenter=self.presenter, term=self.term,
                     size=self.asked or self.size, shared=self.hub.room is not None and not self.presenter,
                     holds_simulator=self.holds_simulator is not None and self.holds_simulator(self))

    def start(self, term: str | None, client_env: Mapping[str, str]) -> bool:
        """Admit the visitor through the door's seat gates (or turn them away with a sentence) and start
        their simulator or seat."""
        hub = self.hub
        self.term = term
        admitted = hub.door.seat(self.knock())
        if isinstance(admitted, Refusal):
            self._turn_away(admitted.words, admitted.why)
            return False
        usable, seat = admitted.term, isinstance(admitted, SeatInView)
        self.size = admitted.size
        # The slot is taken now, before the child starts: a surge cannot overshoot the limits.
        hub.take_slot(self, seat)
        self._seat = seat
        if hub.relay is not None:
            hub.relay.announce()
        self._workdir = tempfile.mkdtemp(prefix="knobtui-visitor-")
        self._env = {**hub.child_env(usable, client_env, self.presenter), "HOME": self._workdir,
                     "XDG_CONFIG_HOME": self._workdir}  # a visitor's theme choice stays with the visitor
        if hub.relay is not None and not self.presenter:
            self.voter = hub.voters.seat(self.identity, self)
            self._env[VOTER_ENV] = self.voter  # playing alone, their simulator answers as them
        self.asked_term = None if usable == term else clean(term)
        self.term = usable
        if seat:
            self._watch()
            log(self._describe("connect", asked=self._asked(), asked_term=self.asked_term,
                               view=self._view_name(), sessions=len(hub.sessions), role=self.role))
            return True
        asyncio.ensure_future(self._start_child())
        return True

    def _asked(self) -> str | None:
        return f"{self.asked[0]}x{self.asked[1]}" if self.asked else None

    async def _start_child(self) -> None:
        assert self._workdir is not None
        try:
            child = await self.hub.start_child(self.hub.child_args(self.presenter), self._env, *self.size,
                                               cwd=self._workdir)
        except OSError as exc:
            self.channel.write(f"knobtui could not start: {clean(exc, 200)}\r\n".encode())
            await self.end(End(EndKind.FAILED, clean(exc, 200)))
            return
        if self._ending is not None:  # the visitor left while it started
            await child.end()
            return
        self.child = child
        self._mirror = Mirror(*self.size)
        self.last_activity = time.monotonic()
        self._start_reading()
        self._flush_input()
        log(self._describe("connect", asked=self._asked(), asked_term=self.asked_term, pid=child.pid,
                           sessions=len(self.hub.sessions), role=self.role))

    # ---- a follower in a shared view ---------------------------------------------------------------
    def _view_name(self) -> str:
        view = self.hub.room.view_of(self) if self.hub.room is not None else None
        return f"{view.key.cols}x{view.key.rows}" if view is not None else ""

    def _watch(self) -> None:
        """Join (or rejoin) the room's shared view for this terminal."""
        assert self.hub.room is not None
        self.watching = True
        self.last_activity = time.monotonic()
        key = ViewKey.of(self.size, self._env)
        self.hub.room.join(self, key, own_row(key.rows, self.size[1]))

    def view_ready(self) -> bool:
        return self._ending is None and self.channel.backlog() <= VIEW_BACKLOG

    def view_write(self, data: bytes) -> None:
        if self._ending is None:
            self.last_activity = time.monotonic()  # a changing screen is not idle
            self.channel.write(data)

    def view_lost(self) -> None:
        """The view's renderer ended (not by us): join a fresh one."""
        if self.watching and self._ending is None:
            self._watch()

    def view_own(self) -> OwnLine | None:
        """This follower's own line under the shared view: a notice from the server, or their answer to the
        room's question, from the ballot the server holds (in presenter/quiz.py's `own_line` words)."""
        if self.notice:
            return OwnLine(self.notice, "wrong", lines=OWN_LINES)
        relay = self.hub.relay
        if relay is None or not self.voter:
            return None
        text, tone = own_line(relay.ballot.quiz, relay.ballot.answer_of(self.voter))
        return OwnLine(text, tone) if text else None

    def _view_keys(self, data: bytes) -> None:
        """Keys in a shared view: q (or Ctrl+C) leaves, d plays alone, a choice answers the room's open
        question; the view belongs to the room. Escape sequences are read whole: a terminal's reply to
        the renderer's queries (`ESC [ ? 2026 ; 2 $ y`) is not a key."""
        if data and self.notice and self.hub.room is not None:
            self.notice = ""  # read: the screen under it comes back from the view's model
            self.hub.room.own_changed(self)
        for key in view_keys(data):
            if key in ("q", "\x03"):
                asyncio.ensure_future(self.end(End(EndKind.QUIT)))
                return
            if key == "d":
                self._detach()
                return
            self._answer(key)

    def _answer(self, key: str) -> None:
        """A key that may answer the room's open question, as this follower; their own line shows it."""
        relay, room = self.hub.relay, self.hub.room
        quiz = relay.ballot.quiz if relay is not None else None
        choice = quiz.question.choice(key) if quiz is not None and not quiz.revealed else None
        if relay is None or room is None or quiz is None or choice is None:
            return
        relay.vote(self.voter, quiz.id, choice.value)
        if relay.outbox is None:  # with a bus, once the room's order counts it (Hub._answer_counted)
            room.own_changed(self)

    def _detach(self) -> None:
        """A private simulator of one's own, from the presenter's state (`F` in it comes back), if the
        simulators' limits leave room: the seat becomes a simulator."""
        hub = self.hub
        assert hub.room is not None
        knock = self.knock()
        knock.shared = False  # a simulator of its own, through the same seat gates
        admitted = hub.door.seat(knock)
        if isinstance(admitted, Refusal):
            log(self._describe("refused a simulator of its own", why=admitted.why))
            self.notice = admitted.words.strip()
            hub.room.own_changed(self)
            return
        self._move_slot(seat=False)
        hub.room.leave(self)
        self.watching = False
        self._env[START_DETACHED_ENV] = "1"
        self._pending.clear()
        self.channel.write(b"\x1b[0m\x1b[2J\x1b[H")
        asyncio.ensure_future(self._start_child())

    def _move_slot(self, seat: bool) -> None:
        if self._seat is not None and self._seat != seat:
            self.hub.free_slot(self, self._seat)
            self.hub.take_slot(self, seat)
            self._seat = seat

    # ---- keys and sizes ----------------------------------------------------------------------------
    def keys(self, data: bytes) -> None:
        """What the visitor typed."""
        self.last_activity = time.monotonic()
        # Textual's input reader ends the app on one invalid UTF-8 byte (a Latin-1 terminal typing é):
        # invalid bytes become U+FFFD here, before they reach the simulator.
        clean_bytes = self._decoder.decode(data).encode("utf-8")
        if self.watching:
            self._view_keys(clean_bytes)
            return
        if len(self._pending) + len(clean_bytes) > INPUT_BACKLOG:
            self.hub.rare(f"backlog {id(self)}", f"dropped keys from {clean(self.address)}: "
                          "its simulator is not reading them")
            return
        self._pending += clean_bytes
        self._flush_input()  # the key to the simulator first, then the room stands still (0.1 ms with 10 views)
        if self.presenter and not pointer_moved(clean_bytes):
            self.hub.presenter_pressed()

    def resize(self, cols: int, rows: int) -> None:
        if not (cols and rows):
            return
        self.set_size(cols, rows)
        if self.child is not None:
            if self._mirror is not None:
                self._mirror.resize(*self.size)
            self.child.resize(*self.size)
        elif self.watching:  # another view, once the size holds still (a drag passes many sizes)
            if self._resize_timer is not None:
                self._resize_timer.cancel()
            self._resize_timer = asyncio.get_running_loop().call_later(RESIZE_SETTLE, self._rewatch)

    def _rewatch(self) -> None:
        self._resize_timer = None
        if self.watching and self._ending is None:
            self._watch()

    def _flush_input(self) -> None:
        child = self.child
        if child is None:
            return  # kept until the simulator starts
        if child.fd < 0:
            self._pending.clear()
            return
        try:
            n = os.write(child.fd, self._pending)
            del self._pending[:n]
        except BlockingIOError:
            pass
        except OSError:
            self._pending.clear()
        if self._pending:
            asyncio.get_running_loop().add_writer(child.fd, self._retry_input)

    def _retry_input(self) -> None:
        child = self.child
        if child is not None and child.fd >= 0:
            asyncio.get_running_loop().remove_writer(child.fd)
        self._flush_input()

    # ---- the screen: a slow channel slows only its own child ---------------------------------------
    def pause(self) -> None:
        """The channel is backed up: stop reading the simulator (it blocks on its pty, nobody else does)."""
        self._stop_reading()

    def resume(self) -> None:
        self._start_reading()
        if self.watching and self.hub.room is not None:
            self.hub.room.drained(self)

    def _start_reading(self) -> None:
        if not self._reading and self.child is not None and self.child.fd >= 0 and self._ending is None:
            asyncio.get_running_loop().add_reader(self.child.fd, self._on_output)
            self._reading = True

    def _stop_reading(self) -> None:
        if self._reading and self.child is not None and self.child.fd >= 0:
            asyncio.get_running_loop().remove_reader(self.child.fd)
        self._reading = False

    def _on_output(self) -> None:
        child = self.child
        assert child is not None
        data = read_pty(child.fd)
        if data is None:
            return
        if not data:
            self._stop_reading()
            asyncio.ensure_future(self._child_exited())
            return
        self.last_activity = time.monotonic()  # a changing screen (presenter, autoplay) is not idle
        self._send(data)
        if self.presenter:
            self.hub.presenter_drew()

    def _drain_output(self, child: Child) -> None:
        """Send what the child wrote just before exiting (its last frame, the terminal restored)."""
        while child.fd >= 0:
            try:
                data = os.read(child.fd, 65536)
            except OSError:
                return
            if not data:
                return
            self._send(data)

    def _send(self, data: bytes) -> None:
        """The simulator's output to the visitor: the changes of its screen (screen.Mirror), not its frames."""
        out = self._mirror.feed(data) if self._mirror is not None else data
        if out:
            self.channel.write(out)

    async def _child_exited(self) -> None:
        """The simulator ended: the visit ends with its status, or `F` took the follower back to the room."""
        child = self.child
        if child is not None and self.hub.room is not None and not self.presenter and self._ending is None:
            if child.fd >= 0:
                asyncio.get_running_loop().remove_writer(child.fd)
            self._drain_output(child)
            status = await child.end()
            if status == REJOIN_STATUS and self._ending is None:
                self._move_slot(seat=True)  # back to a seat: it frees a simulator, so no limit refuses it
                self.child = None
                self._env.pop(START_DETACHED_ENV, None)
                self._watch()
                return
            child.status = status
        await self.end(End(EndKind.EXITED))

    # ---- ending --------------------------------------------------------------------------------
    async def end(self, end: End) -> None:
        """End the visit once: the visitor's terminal restored if the server ended it, the child reaped,
        its status passed on, the disconnect logged."""
        if self._ending is not None:
            await asyncio.shield(self._ending)
            return
        self._ending = asyncio.get_running_loop().create_future()
        try:
            status = 0
            child = self.child
            if child is not None:
                self._stop_reading()
                if child.fd >= 0:
                    asyncio.get_running_loop().remove_writer(child.fd)
                    if end.kind is EndKind.EXITED:
                        self._drain_output(child)
            if self._resize_timer is not None:
                self._resize_timer.cancel()
            watching, self.watching = self.watching, False
            if watching and self.hub.room is not None:
                self.hub.room.leave(self)
            if child is not None or watching:
                if end.kind.by_server:
                    self.channel.write((TERMINAL_RESET + f"\r\n{end.goodbye()}\r\n").encode())
                elif end.kind is EndKind.QUIT:
                    self.channel.write(TERMINAL_RESET.encode())
            if child is not None:
                status = await child.end()
            if end.kind.by_server:
                status = 0  # a clean end the visitor did not choose is still a clean end
            if end.kind is not EndKind.LEFT:
                self.channel.close(status if end.kind is not EndKind.FAILED else 1)
            if self.voter:
                self.hub.voters.leave(self.identity, self)
            if self._seat is not None:
                self.hub.free_slot(self, self._seat)
                self._seat = None
                if self.hub.relay is not None:
                    self.hub.relay.announce()
            if self.hub.relay is not None:
                self.hub.relay.revoke(self._env)
            crash_log = self._env.get(CRASH_LOG_ENV)
            if crash_log and os.path.exists(crash_log):
                self.hub.report_crash(crash_log, f"{clean(self.address)} user={clean(self.username)!r}")
            if child is not None or watching:
                log(self._describe("disconnect", duration=f"{time.monotonic() - self.started:.1f}s",
                                   status=status, role=self.role) + f" ({end})")
        finally:
            if self._workdir:
                shutil.rmtree(self._workdir, ignore_errors=True)
            self._ending.set_result(None)
