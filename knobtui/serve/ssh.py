"""`knobtui serve`: an SSH server that gives every visitor their own simulator, and nothing else.

Every SSH session gets its own `knobtui` child on its own pseudo-terminal (child.py). The server only
carries bytes between the SSH channel and the pty; it never runs a shell, a command or a subsystem,
and refuses port, agent and X11 forwarding. What it admits is decided by the small policies in
gates.py, applied where they belong:

    connection  → rate per address, the open-connection ceiling
    login       → followers need none; the presenter user name is asked for a password
                  (guesses limited per connection and per address, with a growing lock-out)
    channel     → one simulator per connection
    session     → a real terminal, room left, simulators per address
    life        → idle (no keys and no screen changes), a session opened within the login timeout
"""

from __future__ import annotations

import asyncio
import codecs
import os
import resource
import secrets
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import asyncssh

from .child import Child, Spawner, python_command, read_pty, start_direct
from ..tui.follow import REJOIN_STATUS
from .gates import (TERMINAL_RESET, Addresses, AuthPolicy, End, EndKind, RateLimitedLog, cap_size, clean,
                    describe, terminal_type)
from .keys import default_host_key_path, load_or_create_host_key, read_authorized_keys
from .relay import Relay, remove_stale
from .room import RENDERER_NICE, Room, ViewKey

DEFAULT_PORT = 2222
PRIVATE_PREFIX = "knobtui-serve-"
INPUT_BACKLOG = 64 * 1024  # keys a visitor typed that the simulator has not read yet; more is dropped
VIEW_BACKLOG = 256 * 1024  # bytes a follower in a shared view may have unsent before it is skipped
PRESENTER_QUIET = 0.012  # seconds of silence that end the presenter's frame
PRESENTER_FIRST_CAP = 0.08  # the room waits at most this long for it
RESIZE_SETTLE = 0.25  # seconds a follower's size must hold before it moves to another shared view
CLIENT_ENV = {"LANG", "LC_ALL", "LC_CTYPE", "NO_COLOR", "COLORTERM"}


def log(message: str) -> None:
    """One line on stderr, with a timestamp (the server's log)."""
    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    print(f"{stamp} knobtui serve: {message}", file=sys.stderr, flush=True)


@dataclass
class ServeOptions:
    """How the server listens, whom it admits, its limits, and what each visitor's simulator starts with.

    The defaults fit a lecture hall of 300 on one machine (docs/benchmarks.md has the figures).
    """

    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    host_key: Path | None = None
    authorized_keys: Path | None = None
    max_sessions: int = 300
    max_per_address: int = 40  # a classroom behind one NAT
    idle_timeout: float = 900.0
    login_timeout: float = 30.0
    rate_limit: int = 60  # new connections per address per minute
    child_args: list[str] = field(default_factory=list)  # passed on to every `knobtui` child
    presenter_keys: Path | None = None  # these keys log in as the presenter
    presenter_password: str | None = None  # so does this password
    presenter_user: str = "teacher"  # the user name that is asked for them
    lesson: str | None = None  # the presenter's lesson (everyone's, without a presenter)
    auth: AuthPolicy = field(default_factory=AuthPolicy)
    warm: bool = True  # start simulators from the warm spawner
    shared_views: bool = True  # followers watch shared renderers (False: a simulator each)

    @property
    def presenting(self) -> bool:
        return self.presenter_keys is not None or bool(self.presenter_password)

    @property
    def max_connections(self) -> int:
        """Open connections at once, logged in or not: room for everyone plus a queue at the door."""
        return self.max_sessions * 2 + 32


class Hub:
    """What all sessions share: options, the sessions open now, per-address bookkeeping, the spawner."""

    def __init__(self, options: ServeOptions) -> None:
        self.options = options
        self.sessions: set[KnobSession] = set()
        self.connections = 0
        self.addresses = Addresses(options.rate_limit, options.max_per_address, options.auth)
        self.rare = RateLimitedLog(log)
        self.folder = tempfile.mkdtemp(prefix=f"{PRIVATE_PREFIX}{os.getpid()}-")  # mode 0700
        self.relay: Relay | None = Relay(self.folder) if options.presenting else None
        self.presenter_keys = read_authorized_keys(options.presenter_keys) if options.presenter_keys else None
        self.authorized_keys = read_authorized_keys(options.authorized_keys) if options.authorized_keys else None
        self.spawner: Spawner | None = None
        self._serial = 0
        if self.relay is not None:
            self.relay.audience = lambda: sum(1 for s in self.sessions if not s.presenter)
            self.relay.hold = self._hold
        self._release: Callable[[], None] | None = None
        self._release_timers: list[asyncio.TimerHandle] = []
        self.room: Room | None = (Room(self.start_renderer, log, lambda member: member.view_lost())  # type: ignore[attr-defined]
                                  if self.relay is not None and options.shared_views else None)

    @property
    def closed(self) -> bool:
        """Only listed keys get in (followers too)."""
        return self.authorized_keys is not None

    def child_args(self, presenter: bool) -> list[str]:
        lesson = self.options.lesson
        # With a presenter, the lesson is the presenter's: followers see its notes through the relay.
        extra = ["--lesson", lesson] if lesson and (presenter or self.relay is None) else []
        return [*self.options.child_args, *extra]

    def child_env(self, term: str, client_env: dict[str, str], presenter: bool) -> dict[str, str]:
        """The whole environment of a visitor's simulator: a short whitelist, nothing of the server's."""
        self._serial += 1
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "TERM": term,
            "LANG": "C.UTF-8",
            "TEXTUAL_FPS": "240",
            "KNOBTUI_SERVED": "1",
            "KNOBTUI_CRASH_LOG": os.path.join(self.folder, f"crash-{self._serial}.log"),
        }
        for name in CLIENT_ENV & set(client_env):
            value = str(client_env[name])
            if len(value) <= 64 and value.isprintable():
                env[name] = value
        if self.relay is not None:
            env.update(self.relay.child_env(presenter))
            if self.room is not None and not presenter:
                env["KNOBTUI_ROOM"] = "1"  # `F` in a private simulator returns to the shared view
        return env

    async def start_spawner(self) -> None:
        if not self.options.warm:
            return
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", "TEXTUAL_FPS": "240",
               "HOME": self.folder}
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
        return start_direct(python_command("-m", "knobtui", *args), env, cols, rows, cwd)

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
    def _hold(self, release: Callable[[], None]) -> None:
        if not any(s.presenter and s.child is not None for s in self.sessions):
            release()
            return
        self._release = release
        loop = asyncio.get_running_loop()
        self._release_timers.append(loop.call_later(PRESENTER_FIRST_CAP, self._let_go))

    def presenter_drew(self) -> None:
        """The presenter's simulator wrote: the room waits until it is quiet for PRESENTER_QUIET."""
        if self._release is not None:
            self._release_timers.append(asyncio.get_running_loop().call_later(PRESENTER_QUIET, self._quiet))
            self._last_draw = time.monotonic()

    _last_draw = 0.0

    def _quiet(self) -> None:
        if self._release is not None and time.monotonic() - self._last_draw >= PRESENTER_QUIET * 0.9:
            self._let_go()

    def _let_go(self) -> None:
        for timer in self._release_timers:
            timer.cancel()
        self._release_timers.clear()
        release, self._release = self._release, None
        if release is not None:
            release()

    def close(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


class KnobServer(asyncssh.SSHServer):
    """One SSH connection: admits followers openly (or by key), asks the presenter user for a password,
    opens one simulator session, forwards nothing."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.conn: asyncssh.SSHServerConnection | None = None
        self.username = ""
        self.address = "?"
        self.presenter = False
        self.session: KnobSession | None = None  # the newest; `sessions` holds the open ones
        self.sessions: list[KnobSession] = []
        self.failures = 0
        self._deadline: asyncio.TimerHandle | None = None
        self._counted = False

    # ---- the connection ------------------------------------------------------------------------
    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self.conn = conn
        peer = conn.get_extra_info("peername") or ("?", 0)
        self.address = str(peer[0])
        hub = self.hub
        why = hub.addresses.connection(self.address)
        if why is None and hub.connections >= hub.options.max_connections:
            why = f"{hub.connections} connections are open"
        if why is not None:
            hub.rare(f"refused {self.address}", f"refused {clean(self.address)}: {why}")
            asyncio.get_running_loop().call_soon(
                conn.disconnect, asyncssh.DISC_TOO_MANY_CONNECTIONS, "too many connections; try again in a minute")
            return
        hub.connections += 1
        self._counted = True

    def connection_lost(self, exc: Exception | None) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
        if self._counted:
            self.hub.connections -= 1
            self._counted = False

    # ---- login ---------------------------------------------------------------------------------
    def begin_auth(self, username: str) -> bool:
        self.username = username
        if self.hub.closed:
            return True  # only listed keys (or the presenter) get in
        # Open: followers need no authentication at all (no prompt, nothing to press; PuTTY and OpenSSH
        # alike land straight in the simulator). Only the presenter's user name is asked.
        return self.hub.options.presenting and username == self.hub.options.presenter_user

    def public_key_auth_supported(self) -> bool:
        return self.hub.authorized_keys is not None or self.hub.presenter_keys is not None

    # Which login succeeded decides the role: each method below sets `presenter` from its own result, so
    # the last one tried (the one that let the client in) wins. asyncssh asks validate_public_key when
    # a key is merely offered, before its signature is checked: offering the presenter's public key and
    # then logging in another way must not make anyone the presenter.
    def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
        host, addr = self.address, self.address
        self.presenter = (self.hub.presenter_keys is not None
                          and self.hub.presenter_keys.validate(key, host, addr) is not None)
        if self.presenter:
            return True
        return self.hub.authorized_keys is not None and self.hub.authorized_keys.validate(key, host, addr) is not None

    def password_auth_supported(self) -> bool:
        return bool(self.hub.options.presenter_password)

    async def validate_password(self, username: str, password: str) -> bool:
        return await self._presenter_answer(password)

    def kbdint_auth_supported(self) -> bool:
        return bool(self.hub.options.presenter_password) or (self.hub.options.presenting and not self.hub.closed)

    def get_kbdint_challenge(self, username: str, lang: str, submethods: str) -> object:
        self.presenter = False
        if self.hub.options.presenter_password:
            prompt = "Presenter password: " if self.hub.closed else "Presenter password (Enter to follow): "
        else:
            prompt = "No presenter key was accepted. Press Enter to follow: "
        return ("knobtui", "", "", [(prompt, False)])

    async def validate_kbdint_response(self, username: str, responses: list[str]) -> bool:
        if len(responses) != 1:
            return False
        return await self._presenter_answer(responses[0])

    async def _presenter_answer(self, answer: str) -> bool:
        """The presenter's password makes a presenter; an empty answer follows (open servers); else a failure."""
        self.presenter = False
        expected = self.hub.options.presenter_password or ""
        if answer == "" and not self.hub.closed:
            return True  # "Enter to follow"
        addresses, policy = self.hub.addresses, self.hub.options.auth
        locked = addresses.presenter_locked(self.address)
        if locked:
            self.hub.rare(f"locked {self.address}", f"presenter password from {clean(self.address)} not checked: "
                          f"locked out for {locked:.0f} s more")
            await asyncio.sleep(policy.delay)
            self._count_failure(locked_now=False)
            return False
        if expected and secrets.compare_digest(answer.encode(), expected.encode()):
            self.presenter = True
            return True
        locked_now = addresses.presenter_failed(self.address)
        log(f"wrong presenter password from {clean(self.address)} user={clean(self.username)!r} "
            f"(attempt {self.failures + 1} on this connection)")
        if locked_now:
            log(f"presenter login locked for {clean(self.address)} for "
                f"{addresses.presenter_locked(self.address):.0f} s after {policy.per_address} wrong passwords")
        await asyncio.sleep(policy.delay)  # a wrong guess costs time
        self._count_failure(locked_now)
        return False

    def _count_failure(self, locked_now: bool) -> None:
        self.failures += 1
        if self.failures >= self.hub.options.auth.per_connection and self.conn is not None:
            conn = self.conn
            asyncio.get_running_loop().call_soon(
                conn.disconnect, asyncssh.DISC_NO_MORE_AUTH_METHODS_AVAILABLE, "too many wrong presenter passwords")

    def auth_completed(self) -> None:
        self.role_settled = True
        # A logged-in connection must open its session soon, or it only holds a descriptor.
        self._deadline = asyncio.get_running_loop().call_later(self.hub.options.login_timeout, self._no_session)

    role_settled = False

    def _no_session(self) -> None:
        if self.session is None and self.conn is not None:
            log(f"closed {clean(self.address)} user={clean(self.username)!r}: "
                f"no session within {self.hub.options.login_timeout:g} s of logging in")
            self.conn.disconnect(asyncssh.DISC_BY_APPLICATION, "no session opened")

    # ---- channels --------------------------------------------------------------------------------
    def session_requested(self) -> KnobSession | bool:
        self.sessions = [s for s in self.sessions if s.open]
        if len(self.sessions) >= 2:  # one simulator, and perhaps a refused request closing beside it
            log(f"refused another session on one connection from {clean(self.address)} "
                f"user={clean(self.username)!r}")
            return False
        presenter = self.presenter and self.role_settled if self.hub.options.presenting else False
        session = KnobSession(self.hub, self.address, self.username, presenter, owner=self)
        self.sessions.append(session)
        self.session = session
        return session

    def holds_simulator(self, other_than: KnobSession) -> bool:
        """Whether another session on this connection already has a simulator (one per connection)."""
        return any(s is not other_than and s.open and s.counted for s in self.sessions)

    def connection_requested(self, *args: object) -> bool:
        log(f"refused port forwarding from {clean(self.address)}")
        return False

    def server_requested(self, *args: object) -> bool:
        log(f"refused remote port forwarding from {clean(self.address)}")
        return False

    def unix_connection_requested(self, *args: object) -> bool:
        return False

    def unix_server_requested(self, *args: object) -> bool:
        return False


class KnobSession(asyncssh.SSHServerSession):  # type: ignore[type-arg]
    """One visitor's simulator: SSH channel bytes to and from a `knobtui` child's pty."""

    def __init__(self, hub: Hub, address: str, username: str, presenter: bool = False,
                 owner: KnobServer | None = None) -> None:
        self.hub = hub
        self.owner = owner
        self.presenter = presenter
        self.address = address
        self.username = username
        self.chan: asyncssh.SSHServerChannel | None = None  # type: ignore[type-arg]
        self.term: str | None = None
        self.asked: tuple[int, int] | None = None  # the size the client asked for, when it was capped
        self.asked_term: str | None = None  # the TERM it asked for, when it was not a terminal name
        self.size = (80, 24)
        self.child: Child | None = None
        self.started = time.monotonic()
        self.last_activity = time.monotonic()  # a key pressed or the screen changed
        self._pending = bytearray()
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._reading = False
        self._ending: asyncio.Future[None] | None = None
        self._workdir: str | None = None
        self._env: dict[str, str] = {}
        self._counted = False
        self.watching = False  # a follower in a shared view (no simulator of its own)
        self._resize_timer: asyncio.TimerHandle | None = None

    @property
    def counted(self) -> bool:
        """Holds a simulator slot (from admission until its end)."""
        return self._counted

    @property
    def open(self) -> bool:
        """Not yet ended: a connection has one open session at a time."""
        return self._ending is None

    @property
    def role(self) -> str:
        return "presenter" if self.presenter else ("follower" if self.hub.relay else "")

    def _describe(self, event: str, **extra: object) -> str:
        return describe(event, self.address, self.username, self.term, self.size, **extra)

    # ---- requests ----------------------------------------------------------------------------
    def connection_made(self, chan: asyncssh.SSHServerChannel) -> None:  # type: ignore[override,type-arg]
        self.chan = chan

    def _set_size(self, cols: int, rows: int) -> None:
        self.size = cap_size(cols, rows)
        self.asked = (cols, rows) if self.size != (cols, rows) else None

    def pty_requested(self, term_type: str, term_size: tuple[int, int, int, int], term_modes: object) -> bool:
        self.term = term_type
        if term_size[0] and term_size[1]:
            self._set_size(term_size[0], term_size[1])
        return True

    def shell_requested(self) -> bool:
        return True

    def exec_requested(self, command: str) -> bool:
        log(f"refused a command from {clean(self.address)} ({clean(self.username)}): {clean(command)!r}")
        return False

    def subsystem_requested(self, subsystem: str) -> bool:
        log(f"refused subsystem {clean(subsystem)!r} from {clean(self.address)} ({clean(self.username)})")
        return False

    # ---- the session -------------------------------------------------------------------------
    def _turn_away(self, message: str, why: str) -> None:
        assert self.chan is not None
        self.chan.write(f"{message}\r\n".encode())
        self.chan.exit(1)
        log(self._describe("turned away", why=why))

    def session_started(self) -> None:
        hub, chan = self.hub, self.chan
        assert chan is not None
        term, refusal = terminal_type(self.term)
        if refusal is not None or term is None:
            self._turn_away(refusal or "a terminal is needed", "no usable terminal")
            return
        if self.owner is not None and self.owner.holds_simulator(self):
            self._turn_away("One simulator per connection: this connection already has one.", "a second simulator")
            return
        if len(hub.sessions) >= hub.options.max_sessions:
            self._turn_away(f"\r\nSorry, knobtui is full ({hub.options.max_sessions} simulators running). "
                            "Please try again in a minute.", "full")
            return
        refusal = hub.addresses.simulator_refusal(self.address)
        if refusal is not None:
            self._turn_away(f"Sorry: {refusal}.", f"{hub.options.max_per_address} simulators for this address")
            return
        # The slot is taken now, before the child starts: a surge cannot overshoot the limits.
        hub.sessions.add(self)
        hub.addresses.get(self.address).simulators += 1
        self._counted = True
        if hub.relay is not None:
            hub.relay.announce()
        self._workdir = tempfile.mkdtemp(prefix="knobtui-visitor-")
        self._env = {**hub.child_env(term, chan.get_environment(), self.presenter), "HOME": self._workdir,
                     "XDG_CONFIG_HOME": self._workdir}  # a visitor's theme choice stays with the visitor
        self.asked_term = None if term == self.term else clean(self.term)
        self.term = term
        if hub.room is not None and not self.presenter:
            self._watch()
            log(self._describe("connect", asked=self.asked, asked_term=self.asked_term,
                               view=self._view_name(), sessions=len(hub.sessions), role=self.role))
            return
        asyncio.ensure_future(self._start())

    # ---- a follower in a shared view ---------------------------------------------------------------
    def _view_name(self) -> str:
        view = self.hub.room.view_of(self) if self.hub.room is not None else None
        return f"{view.key.cols}x{view.key.rows}" if view is not None else ""

    def _watch(self) -> None:
        """Join (or rejoin) the room's shared view for this terminal."""
        assert self.hub.room is not None
        self.watching = True
        self.last_activity = time.monotonic()
        self.hub.room.join(self, ViewKey.of(self.size, self._env))

    def view_write(self, data: bytes) -> bool:
        chan = self.chan
        if chan is None or self._ending is not None:
            return True
        if chan.get_write_buffer_size() > VIEW_BACKLOG:
            return False
        self.last_activity = time.monotonic()  # a changing screen is not idle
        self._say(chan, data)
        return True

    def view_lost(self) -> None:
        """The view's renderer ended (not by us): join a fresh one."""
        if self.watching and self._ending is None:
            self._watch()

    def _view_keys(self, data: bytes) -> None:
        """Keys in a shared view: q (or Ctrl+C) leaves, d plays alone; the view belongs to the room."""
        for byte in data:
            if byte in (ord("q"), 0x03):
                asyncio.ensure_future(self.end(End(EndKind.QUIT)))
                return
            if byte == ord("d"):
                self._detach()
                return

    def _detach(self) -> None:
        """A private simulator of one's own, from the presenter's state (`F` in it comes back)."""
        assert self.hub.room is not None
        self.hub.room.leave(self)
        self.watching = False
        self._env["KNOBTUI_START_DETACHED"] = "1"
        self._pending.clear()
        if self.chan is not None:
            self._say(self.chan, b"\x1b[0m\x1b[2J\x1b[H")
        asyncio.ensure_future(self._start())

    async def _start(self) -> None:
        assert self.chan is not None and self._workdir is not None
        try:
            child = await self.hub.start_child(self.hub.child_args(self.presenter), self._env, *self.size,
                                               cwd=self._workdir)
        except OSError as exc:
            self.chan.write(f"knobtui could not start: {clean(exc, 200)}\r\n".encode())
            await self.end(End(EndKind.FAILED, clean(exc, 200)))
            return
        if self._ending is not None:  # the visitor left while it started
            await child.end()
            return
        self.child = child
        self.last_activity = time.monotonic()
        self._start_reading()
        self._flush_input()
        asked = f"{self.asked[0]}x{self.asked[1]}" if self.asked else None
        log(self._describe("connect", asked=asked, asked_term=self.asked_term, pid=child.pid, sessions=len(self.hub.sessions),
                           role=self.role))

    def data_received(self, data: bytes, datatype: object) -> None:  # type: ignore[override]
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
        self._flush_input()

    def terminal_size_changed(self, width: int, height: int, pixwidth: int, pixheight: int) -> None:
        if width and height:
            self._set_size(width, height)
            if self.child is not None:
                self.child.resize(*self.size)
            elif self.watching:  # another view, once the size holds still (a drag passes many sizes)
                if self._resize_timer is not None:
                    self._resize_timer.cancel()
                self._resize_timer = asyncio.get_running_loop().call_later(RESIZE_SETTLE, self._rewatch)

    def _rewatch(self) -> None:
        self._resize_timer = None
        if self.watching and self._ending is None:
            self._watch()

    def break_received(self, msec: int) -> bool:
        return False

    def signal_received(self, signal: str) -> None:
        pass

    def eof_received(self) -> bool:
        asyncio.ensure_future(self.end(End(EndKind.LEFT, "end of input")))
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        detail = "disconnected" if exc is None else f"connection lost: {clean(exc, 120)}"
        asyncio.ensure_future(self.end(End(EndKind.LEFT, detail)))

    # ---- flow control: a slow client slows only its own child --------------------------------
    def pause_writing(self) -> None:
        self._stop_reading()

    def resume_writing(self) -> None:
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
        if self.chan is not None:
            self.chan.write(data)
        if self.presenter:
            self.hub.presenter_drew()

    def _flush_input(self) -> None:
        child = self.child
        if child is None:
            return  # kept until the simulator starts
        if child.fd < 0:
            self._pending.clear()
            return
        loop = asyncio.get_running_loop()
        try:
            n = os.write(child.fd, self._pending)
            del self._pending[:n]
        except BlockingIOError:
            pass
        except OSError:
            self._pending.clear()
        if self._pending:
            loop.add_writer(child.fd, self._retry_input)

    def _retry_input(self) -> None:
        child = self.child
        if child is not None and child.fd >= 0:
            asyncio.get_running_loop().remove_writer(child.fd)
        self._flush_input()

    async def _child_exited(self) -> None:
        """The simulator ended: the session ends with its status, or `F` took the follower back to the room."""
        child = self.child
        if child is not None and self.hub.room is not None and not self.presenter and self._ending is None:
            if child.fd >= 0:
                asyncio.get_running_loop().remove_writer(child.fd)
            self._drain_output(child)
            status = await child.end()
            if status == REJOIN_STATUS and self._ending is None:
                self.child = None
                self._env.pop("KNOBTUI_START_DETACHED", None)
                self._watch()
                return
            child.status = status
        await self.end(End(EndKind.EXITED))

    # ---- ending --------------------------------------------------------------------------------
    async def end(self, end: End) -> None:
        """End the session once: the visitor's terminal restored if the server ended it, the child reaped,
        its status passed on, the disconnect logged."""
        if self._ending is not None:
            await asyncio.shield(self._ending)
            return
        self._ending = asyncio.get_running_loop().create_future()
        try:
            status = 0
            child = self.child
            chan = self.chan
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
            if chan is not None and (child is not None or watching):
                if end.kind.by_server:
                    self._say(chan, (TERMINAL_RESET + f"\r\n{end.goodbye()}\r\n").encode())
                elif end.kind is EndKind.QUIT:
                    self._say(chan, TERMINAL_RESET.encode())
            if child is not None:
                status = await child.end()
            if end.kind.by_server:
                status = 0  # a clean end the visitor did not choose is still a clean end
            if chan is not None and end.kind is not EndKind.LEFT:
                try:
                    chan.exit(status if end.kind is not EndKind.FAILED else 1)
                except (OSError, asyncssh.Error, BrokenPipeError, AttributeError):
                    pass
            if self._counted:
                self.hub.sessions.discard(self)
                self.hub.addresses.get(self.address).simulators -= 1
                self._counted = False
                if self.hub.relay is not None:
                    self.hub.relay.announce()
            if self.hub.relay is not None:
                self.hub.relay.revoke(self._env)
            crash_log = self._env.get("KNOBTUI_CRASH_LOG")
            if crash_log and os.path.exists(crash_log):
                self.hub.report_crash(crash_log, f"{clean(self.address)} user={clean(self.username)!r}")
            if child is not None or watching:
                log(self._describe("disconnect", duration=f"{time.monotonic() - self.started:.1f}s",
                                   status=status, role=self.role) + f" ({end})")
        finally:
            if self._workdir:
                shutil.rmtree(self._workdir, ignore_errors=True)
            self._ending.set_result(None)

    @staticmethod
    def _say(chan: asyncssh.SSHServerChannel, data: bytes) -> None:  # type: ignore[type-arg]
        try:
            chan.write(data)
        except (OSError, asyncssh.Error, BrokenPipeError, AttributeError):
            pass

    def _drain_output(self, child: Child) -> None:
        """Send what the child wrote just before exiting (its last frame, the terminal restored)."""
        while child.fd >= 0:
            try:
                data = os.read(child.fd, 65536)
            except OSError:
                return
            if not data:
                return
            if self.chan is not None:
                self._say(self.chan, data)


def _raise_descriptor_limit() -> int:
    """Use the hard limit on open files: each visitor needs a few (connection, pty, relay)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY:
        hard = max(soft, 65536)
    if soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
        except (ValueError, OSError):
            pass
    return soft


def _quiet_exceptions(hub: Hub) -> None:
    """asyncio's own errors (EMFILE on accept, a client's broken handshake) become one rate-limited line,
    never a traceback per event: at the descriptor limit the default handler wrote 147 MB in 30 s."""
    def handler(loop: asyncio.AbstractEventLoop, context: dict[str, object]) -> None:
        exc = context.get("exception")
        what = str(context.get("message") or "error")
        key = f"{what}:{type(exc).__name__ if exc else ''}"
        hub.rare(key, f"{clean(what, 120)}" + (f": {clean(exc, 200)}" if exc else "") + "; still serving")
    asyncio.get_running_loop().set_exception_handler(handler)


async def serve(options: ServeOptions, ready: asyncio.Future[tuple[str, int]] | None = None) -> int:
    """Run the server until SIGINT or SIGTERM; then end every child, reap them all, and return 0.

    Raises KeyFileError for an unusable key file and OSError when it cannot listen; either way nothing
    is left behind (the private folder, the relay socket and the spawner are removed on every path).
    """
    remove_stale((PRIVATE_PREFIX, "knobtui-relay-"))
    key_path = options.host_key or default_host_key_path()
    key, warning = load_or_create_host_key(key_path)
    if warning:
        log(warning)
    hub = Hub(options)
    loop = asyncio.get_running_loop()
    server: asyncssh.SSHAcceptor | None = None
    idle: asyncio.Future[None] | None = None
    try:
        _quiet_exceptions(hub)
        limit = _raise_descriptor_limit()
        if hub.relay is not None:
            await hub.relay.start()
            log(f"presenter mode: followers get the presenter's state through the relay {hub.relay.path}")
        server = await asyncssh.create_server(
            lambda: KnobServer(hub), options.host, options.port,
            server_host_keys=[key], encoding=None, line_editor=False,
            login_timeout=options.login_timeout, agent_forwarding=False, x11_forwarding=False,
            allow_scp=False, config=[], keepalive_interval=30)
        await hub.start_spawner()
        sockets = server.sockets or []
        host, port = sockets[0].getsockname()[:2] if sockets else (options.host, options.port)
        access = "keys in " + str(options.authorized_keys) if options.authorized_keys else "anyone, no password"
        if options.presenting:
            how = " or ".join(x for x in (f"a key in {options.presenter_keys}" if options.presenter_keys else "",
                                          "the presenter password" if options.presenter_password else "") if x)
            access += f"; the presenter logs in as {options.presenter_user!r} with {how}, everyone else follows"
        log(f"host key {key.get_fingerprint('sha256')} ({key_path})")
        log(f"limits: {options.max_sessions} simulators, {options.max_per_address} per address, "
            f"{options.rate_limit} connections a minute per address, idle {options.idle_timeout:g} s, "
            f"login {options.login_timeout:g} s, {limit} open files"
            + ("" if hub.spawner else "; simulators start cold"))
        log(f"listening on {host}:{port} ({access}); connect with: ssh -p {port} anyone@{host}")
        if ready is not None:
            ready.set_result((host, port))
        stop = asyncio.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        idle = asyncio.ensure_future(hub.watch_idle())
        await stop.wait()
        log("stopping: no new connections; ending every simulator")
    finally:
        if server is not None:
            server.close()
        if idle is not None:
            idle.cancel()
        await hub.end_all()
        if server is not None:
            await server.wait_closed()
        if hub.relay is not None:
            await hub.relay.close()
        if hub.spawner is not None:
            await hub.spawner.close()
        hub.close()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
    log("stopped")
    return 0
