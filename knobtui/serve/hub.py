"""What every door of `knobtui serve` shares: its options, the visits open now, the policies' bookkeeping,
the relay, the room of shared views and the warm spawner.

A visitor arrives through a door (ssh.py, web.py); the door turns its transport into a `Visit`
(visit.py), and the hub's `door` (door.py) decides, the same for both, whether it comes in and as what:
a simulator of its own or a seat in a shared view. The hub counts what each visit holds.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from .child import Child, Spawner, python_command, start_direct
from .door import Door, standard_gates
from .gates import Addresses, AuthPolicy, End, EndKind, RateLimitedLog, clean
from .keys import read_authorized_keys
from ..presenter.relay import Relay
from ..wire import CRASH_LOG_ENV, JOIN_ENV, ROOM_ENV, SERVED_ENV, JoinInfo
from .room import RENDERER_NICE, Member, Room, ViewKey
from .voters import Voters

if TYPE_CHECKING:
    from .bus import Bus

DEFAULT_PORT = 2222
PRIVATE_PREFIX = "knobtui-serve-"
PRESENTER_QUIET = 0.012  # seconds of silence that end the presenter's frame
PRESENTER_FIRST_CAP = 0.08  # the room waits at most this long for it
KEY_HOLD_CAP = 0.05  # the longest the renderers stand still for one presenter's key
KEY_HOLD_REST = 0.05  # and the least they run between two such holds (a key held down, typing)
ROOM_GAP = 1 / 8  # the least time between two states to the room: each renderer draws each state it gets
CLIENT_ENV = {"LANG", "LC_ALL", "LC_CTYPE", "NO_COLOR", "COLORTERM"}


def same_code() -> dict[str, str]:
    """The server's own PYTHONPATH, if it has one, for the simulators and the warm spawner: they run the
    knobtui the server runs (a checkout named by PYTHONPATH, not the one installed), whatever else of the
    server's environment they do not get. Found by the hall bench's anchor run: its server ran the older
    checkout and its simulators the installed code."""
    path = os.environ.get("PYTHONPATH")
    return {"PYTHONPATH": path} if path else {}


def log(message: str) -> None:
    """One line on stderr, with a timestamp (the server's log)."""
    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    print(f"{stamp} knobtui serve: {message}", file=sys.stderr, flush=True)


class Guest(Member, Protocol):
    """What the hub needs of a visit holding a slot (visit.py's Visit is one): the hub never imports the visit."""

    address: str
    presenter: bool
    child: Child | None
    voter: str
    watching: bool
    last_activity: float

    async def end(self, end: End) -> None: ...


@dataclass
class ServeOptions:
    """How the server listens, whom it admits, its limits, and what each visitor's simulator starts with.

    The defaults fit a lecture hall of 300 on one machine (docs/benchmarks.md has the figures).
    """

    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    ssh: bool = True  # the SSH door (False: the browser door alone)
    web_port: int | None = None  # the browser door, when set
    host_key: Path | None = None
    authorized_keys: Path | None = None
    max_sessions: int = 300  # simulators: processes of their own
    max_per_address: int = 40  # simulators from one address
    max_seats: int = 600  # followers watching shared views: a connection and a screen's bytes each
    max_seats_per_address: int = 400  # a class behind one NAT
    idle_timeout: float = 900.0
    login_timeout: float = 30.0
    rate_limit: int = 600  # new connections per address per minute: a class of 300 arriving at once, twice
    child_args: list[str] = field(default_factory=list)  # passed on to every `knobtui` child
    presenter_keys: Path | None = None  # these keys log in as the presenter
    presenter_password: str | None = None  # so does this password
    presenter_user: str = "teacher"  # the user name that is asked for them
    lesson: str | None = None  # the presenter's lesson (everyone's, without a presenter)
    auth: AuthPolicy = field(default_factory=AuthPolicy)
    warm: bool = True  # start simulators from the warm spawner
    shared_views: bool = True  # followers watch shared renderers (False: a simulator each)
    web_cert: Path | None = None  # with web_key: the browser door speaks HTTPS (and WSS)
    web_key: Path | None = None
    web_proxies: tuple[str, ...] = ()  # reverse proxies whose X-Forwarded-* headers are believed
    web_origins: tuple[str, ...] = ()  # other origins whose pages may open the door's websocket
    web_insecure_presenter: bool = False  # the presenter may log in over plain HTTP from elsewhere
    web_url: str | None = None  # the address learners type when a proxy stands in front
    bus: str | None = None  # redis://HOST:PORT/DB: this node serves the room `room` with the bus's other nodes
    room: str = "lecture"

    @property
    def presenting(self) -> bool:
        return self.presenter_keys is not None or bool(self.presenter_password)

    @property
    def max_connections(self) -> int:
        """Open connections at once, logged in or not: room for everyone plus a queue at the door."""
        return self.max_sessions + self.max_seats + 32


class Hub:
    """What all sessions share: options, the sessions open now, per-address bookkeeping, the spawner."""

    def __init__(self, options: ServeOptions) -> None:
        self.options = options
        self.sessions: set[Guest] = set()  # every visit holding a slot (a simulator or a seat), whatever its door
        self.seats = 0  # of those, followers in a shared view
        self.connections = 0  # open connections of both doors, logged in or not
        self.addresses = Addresses(options.rate_limit, options.max_per_address, options.auth,
                                   max_seats_per_address=options.max_seats_per_address)
        self.rare = RateLimitedLog(log)
        self.folder = tempfile.mkdtemp(prefix=f"{PRIVATE_PREFIX}{os.getpid()}-")  # mode 0700
        self.relay: Relay | None = Relay(self.folder, log) if options.presenting else None
        self.presenter_keys = read_authorized_keys(options.presenter_keys) if options.presenter_keys else None
        self.authorized_keys = read_authorized_keys(options.authorized_keys) if options.authorized_keys else None
        self.door = Door(standard_gates(
            self, self.addresses, ceiling=options.max_connections, max_seats=options.max_seats,
            max_sessions=options.max_sessions, password=options.presenter_password or "", keys=self.presenter_keys,
            auth=options.auth, log=log, rare=self.rare), delay=options.auth.delay, rare=self.rare)
        """What both doors (ssh.py, web.py) let in: one ordered admit() of small gates (door.py)."""
        self.spawner: Spawner | None = None
        self._serial = 0
        if self.relay is not None:
            self.relay.audience = lambda: sum(1 for s in self.sessions if not s.presenter)
            self.relay.hold = self._hold
        self._release: Callable[[], None] | None = None
        self._release_timers: list[asyncio.TimerHandle] = []
        self.room: Room | None = (Room(self.start_renderer, log, lambda member: member.view_lost())
                                  if self.relay is not None and options.shared_views else None)
        self.voters = Voters()  # followers' answers to the room's questions count once each (voters.py)
        self.join: JoinInfo | None = None  # how learners come in, once the doors listen (join.py)
        if self.relay is not None:
            self.relay.on_quiz = self._quiz_changed
        self.bus: Bus | None = None  # server.py joins the room's other nodes when options.bus is set

    def join_bus(self) -> Bus | None:
        """The link to the room's other nodes (serve/bus.py), when the options name a bus."""
        if self.options.bus is None or self.relay is None:
            return None
        from .bus import Bus  # redis only when a bus is used
        self.bus = Bus(self.options.bus, self.options.room, self.relay, log, self.rare)
        self.voters.key = lambda: self.bus.salt if self.bus is not None else None
        self.relay.on_answer = self._answer_counted
        return self.bus

    def _answer_counted(self, voter: str) -> None:
        """A follower's answer counts in the room's order (it came back from the bus): a follower of this
        node in a shared view sees their own line say so."""
        if self.room is None:
            return
        for visit in list(self.sessions):
            if visit.voter == voter and visit.watching:
                self.room.own_changed(visit)

    def _quiz_changed(self, asked: bool) -> None:
        """The room's question changed: shared views' followers see their own line; a question over (a new
        one, or none) lets the server forget who answered the last."""
        if self.room is not None:
            self.room.quiz_changed()
        if asked or (self.relay is not None and self.relay.ballot.quiz is None):
            self.voters.prune()

    @property
    def closed(self) -> bool:
        """Only listed keys get in (followers too)."""
        return self.authorized_keys is not None

    def child_args(self, presenter: bool) -> list[str]:
        lesson = self.options.lesson
        # With a presenter, the lesson is the presenter's: followers see its notes through the relay.
        extra = ["--lesson", lesson] if lesson and (presenter or self.relay is None) else []
        return [*self.options.child_args, *extra]

    def child_env(self, term: str, client_env: Mapping[str, str], presenter: bool) -> dict[str, str]:
        """The whole environment of a visitor's simulator: a short whitelist, nothing of the server's."""
        self._serial += 1
        env = {
            **same_code(),
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "TERM": term,
            "LANG": "C.UTF-8",
            "TEXTUAL_FPS": "240",
            SERVED_ENV: "1",
            CRASH_LOG_ENV: os.path.join(self.folder, f"crash-{self._serial}.log"),
        }
        for name in CLIENT_ENV & set(client_env):
            value = str(client_env[name])
            if len(value) <= 64 and value.isprintable():
                env[name] = value
        if self.relay is not None:
            env.update(self.relay.child_env(presenter))
            if self.room is not None and not presenter:
                env[ROOM_ENV] = "1"  # `F` in a private simulator returns to the shared view
            if presenter and self.join is not None:
                env[JOIN_ENV] = self.join.to_env()  # the presenter's join screen (j)
        return env

    async def start_spawner(self) -> None:
        if not self.options.warm:
            return
        env = {**same_code(), "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8",
               "TEXTUAL_FPS": "240", "HOME": self.folder}
        spawner = Spawner(env, log)
        try:
            await asyncio.wait_for(spawner.start(), 120)
        except (OSError, ValueError, asyncio.TimeoutError) as exc:
            await spawner.close()
            log(f"the warm spawner did not start ({clean(exc, 200)}); simulators start the slow way")
            return
        self.spawner = spawner

    async def start_renderer(self, key: ViewKey) -> Child:
        """The simulator that draws one shared view: a follower at the view's size and terminal type."""
        client = {"COLORTERM": key.colorterm, "NO_COLOR": key.no_color, "LANG": key.locale}
        env = self.child_env(key.term, {k: v for k, v in client.items() if v}, presenter=False)
        workdir = os.path.join(self.folder, f"view-{self._serial}")
        os.makedirs(workdir, mode=0o700, exist_ok=True)
        env.update(HOME=workdir, XDG_CONFIG_HOME=workdir)
        child = await self.start_child(self.child_args(False), env, key.cols, key.rows, workdir, nice=RENDERER_NICE)
        log(f"shared view {key.cols}x{key.rows} term={clean(key.term)} pid={child.pid} "
            f"views={len(self.room.views) if self.room else 0}")
        return child

    async def start_child(self, args: list[str], env: dict[str, str], cols: int, rows: int, cwd: str,
                          nice: int = 0) -> Child:
        if self.spawner is not None and self.spawner.alive:
            try:
                return await self.spawner.spawn(args, env, cols, rows, cwd, nice=nice)
            except (OSError, asyncio.TimeoutError) as exc:
                self.rare("spawner", f"the warm spawner failed ({clean(exc, 200)}); starting the slow way")
        return start_direct(python_command("-m", "knobtui", *args), env, cols, rows, cwd, nice)

    # ---- slots: what a visit holds, counted by what it costs ------------------------------------------
    @property
    def simulators(self) -> int:
        return len(self.sessions) - self.seats

    def take_slot(self, visit: Guest, seat: bool) -> None:
        """Count `visit` as holding a seat or a simulator (admitted by the door first)."""
        self.sessions.add(visit)
        entry = self.addresses.get(visit.address)
        if seat:
            self.seats += 1
            entry.seats += 1
        else:
            entry.simulators += 1

    def free_slot(self, visit: Guest, seat: bool) -> None:
        """`visit` no longer holds the seat or simulator it was counted for."""
        self.sessions.discard(visit)
        entry = self.addresses.get(visit.address)
        if seat:
            self.seats -= 1
            entry.seats -= 1
        else:
            entry.simulators -= 1

    def report_crash(self, path: str, who: str) -> None:
        """A simulator's traceback (it showed its visitor a short apology) into the server's log."""
        try:
            with open(path, encoding="utf-8", errors="replace") as f:
                text = f.read(64 * 1024)
        except OSError:
            return
        finally:
            try:
                os.unlink(path)
            except OSError:
                pass
        if text.strip():
            log(f"crash in the simulator of {who}; its traceback:")
            for line in text.rstrip("\n").splitlines()[-200:]:
                log("  | " + clean(line, 400))

    async def end_all(self) -> None:
        if self._key_hold is not None:
            self._key_go()
        await asyncio.gather(*(s.end(End(EndKind.SHUTDOWN)) for s in list(self.sessions)))
        if self.room is not None:
            await self.room.close()

    async def watch_idle(self) -> None:
        timeout = self.options.idle_timeout
        while True:
            await asyncio.sleep(min(5.0, max(0.2, timeout / 4)))
            now = time.monotonic()
            for s in list(self.sessions):
                if (s.child is not None or s.watching) and now - s.last_activity > timeout:
                    asyncio.ensure_future(s.end(End(EndKind.IDLE, f"for {timeout:g} s")))

    # ---- the presenter's frame first ----------------------------------------------------------------
    # Measured (bench/bench_hall.py, 100 followers): when the room's renderers start drawing at the same
    # moment as the presenter's simulator, the projected screen took 53 ms instead of 8 ms. So a new
    # state goes to the room once the presenter's screen has gone quiet (its frame is out), at most
    # PRESENTER_FIRST_CAP later.
    # Measured (bench/bench_hall_autoplay.py): at autoplay the room's renderers, one per shared view, drew
    # every state the presenter's simulator published (30 a second at 100 it/s), over a core between them.
    # The room gets the newest state at most every ROOM_GAP (the relay keeps only the newest while held).
    def _hold(self, release: Callable[[], None]) -> None:
        self._release = release
        if not any(s.presenter and s.child is not None for s in self.sessions):
            self._let_go()
            return
        loop = asyncio.get_running_loop()
        self._release_timers.append(loop.call_later(PRESENTER_FIRST_CAP, self._let_go))

    def presenter_drew(self) -> None:
        """The presenter's simulator wrote: the room waits until it is quiet for PRESENTER_QUIET."""
        if self._release is not None:
            self._release_timers.append(asyncio.get_running_loop().call_later(PRESENTER_QUIET, self._quiet))
            self._last_draw = time.monotonic()
        if self._key_hold is not None:
            self._key_hold.cancel()
            loop = asyncio.get_running_loop()
            self._key_drawn = now = loop.time()
            self._key_hold = loop.call_later(max(0.0, min(PRESENTER_QUIET, self._key_since + KEY_HOLD_CAP - now)),
                                             self._key_quiet)

    _last_draw = 0.0

    # Measured (bench/bench_hall_autoplay.py, 300 followers at autoplay): the presenter's key took 7-12 ms
    # to its frame against 5-9 ms alone, and as alone with the renderers stopped; at nice 19 and SCHED_IDLE
    # they still slowed it (two cores, shared caches, the server's loop busy with their frames). So the
    # renderers stand still (Room.hold) from a presenter's key until the presenter's simulator has drawn
    # and gone quiet for PRESENTER_QUIET, at most KEY_HOLD_CAP (a simulator that never goes quiet, autoplay
    # at full speed, lets them go at the cap), and then run at least KEY_HOLD_REST.
    def presenter_pressed(self) -> None:
        """The presenter typed something for its simulator: the room's renderers stand still until it is drawn."""
        if self.room is None or self._key_hold is not None:
            return
        loop = asyncio.get_running_loop()
        if loop.time() < self._key_rested or not self.room.views:
            return
        self._key_since = loop.time()
        self._key_drawn = 0.0
        self._key_hold = loop.call_later(KEY_HOLD_CAP, self._key_go)  # first: whatever happens, they go on
        self.room.hold()

    def _key_quiet(self) -> None:
        now = asyncio.get_running_loop().time()
        if now - self._key_since >= KEY_HOLD_CAP * 0.99 or now - self._key_drawn >= PRESENTER_QUIET * 0.9:
            self._key_go()
        else:
            self._key_hold = asyncio.get_running_loop().call_later(
                max(0.0, min(PRESENTER_QUIET, self._key_since + KEY_HOLD_CAP - now)), self._key_quiet)

    def _key_go(self) -> None:
        if self._key_hold is not None:
            self._key_hold.cancel()
            self._key_hold = None
        if self.room is not None:
            self.room.go()
        self._key_rested = asyncio.get_running_loop().time() + KEY_HOLD_REST

    _key_hold: asyncio.TimerHandle | None = None
    _key_since = 0.0
    _key_drawn = 0.0
    _key_rested = -1.0

    def _quiet(self) -> None:
        if self._release is not None and time.monotonic() - self._last_draw >= PRESENTER_QUIET * 0.9:
            self._let_go()

    def _let_go(self) -> None:
        for timer in self._release_timers:
            timer.cancel()
        self._release_timers.clear()
        loop = asyncio.get_running_loop()
        if loop.time() < self._last_release + ROOM_GAP:
            self._release_timers.append(loop.call_at(self._last_release + ROOM_GAP, self._let_go))
            return
        release, self._release = self._release, None
        if release is not None:
            self._last_release = loop.time()
            release()

    _last_release = -1.0

    def close(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)
