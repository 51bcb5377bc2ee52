"""`knobtui serve`: an SSH server that gives every visitor their own simulator, and nothing else.

Textual drives one terminal per process, so every SSH session gets its own `knobtui` child on its own
pseudo-terminal (made its controlling terminal by `pty.fork`, so window changes arrive as SIGWINCH).
The server only carries bytes between the SSH channel and the pty; it never runs a shell, a command
or a subsystem, and refuses port, agent and X11 forwarding.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import pty
import secrets
import shutil
import signal
import struct
import sys
import tempfile
import termios
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import asyncssh

from .relay import Relay

DEFAULT_PORT = 2222
KILL_GRACE = 1.0  # seconds a hung-up child gets before SIGTERM, and again before SIGKILL


def log(message: str) -> None:
    """One line on stderr, with a timestamp (the server's log)."""
    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    print(f"{stamp} knobtui serve: {message}", file=sys.stderr, flush=True)


@dataclass
class ServeOptions:
    """How the server listens, whom it admits, its limits, and what each visitor's simulator starts with."""

    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    host_key: Path | None = None
    authorized_keys: Path | None = None
    max_sessions: int = 32
    idle_timeout: float = 900.0
    login_timeout: float = 30.0
    rate_limit: int = 20  # new connections per address per minute
    child_args: list[str] = field(default_factory=list)  # passed on to every `knobtui` child
    presenter_keys: Path | None = None  # these keys log in as the presenter
    presenter_password: str | None = None  # so does this password
    lesson: str | None = None  # the presenter's lesson (everyone's, without a presenter)

    @property
    def presenting(self) -> bool:
        return self.presenter_keys is not None or bool(self.presenter_password)


def default_host_key_path() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "knobtui" / "ssh_host_ed25519_key"


def load_or_create_host_key(path: Path) -> asyncssh.SSHKey:
    """The server's ed25519 host key: read from `path`, or generated there (mode 0600) on first start."""
    if path.exists():
        return asyncssh.read_private_key(str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    key = asyncssh.generate_private_key("ssh-ed25519", comment="knobtui serve")
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(key.export_private_key())
    os.replace(tmp, path)
    os.chmod(path, 0o600)
    return key


class Child:
    """One `knobtui` process on its own pseudo-terminal."""

    def __init__(self, argv: Sequence[str], env: dict[str, str], cols: int, rows: int, cwd: str) -> None:
        self.argv = list(argv)
        self.pid = 0
        self.fd = -1
        self.status: int | None = None
        self._env, self._cols, self._rows, self._cwd = env, cols, rows, cwd

    def start(self) -> None:
        pid, fd = pty.fork()  # new session, the pty's slave as controlling terminal
        if pid == 0:  # pragma: no cover - runs in the child
            try:
                fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", self._rows, self._cols, 0, 0))
                os.chdir(self._cwd)
                os.execvpe(self.argv[0], self.argv, self._env)
            finally:
                os._exit(127)
        self.pid, self.fd = pid, fd
        os.set_blocking(fd, False)
        self.resize(self._cols, self._rows)

    def resize(self, cols: int, rows: int) -> None:
        """Tell the pty its new size; the kernel sends the child SIGWINCH."""
        if self.fd >= 0 and cols > 0 and rows > 0:
            fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))

    def reap(self, block: bool = False) -> bool:
        """Collect the child's exit status if it has ended; True once it has."""
        if self.status is not None:
            return True
        try:
            pid, wstatus = os.waitpid(self.pid, 0 if block else os.WNOHANG)
        except ChildProcessError:
            self.status = self.status if self.status is not None else 255
            return True
        if pid == 0:
            return False
        self.status = os.waitstatus_to_exitcode(wstatus)
        return True

    def close_fd(self) -> None:
        if self.fd >= 0:
            try:
                os.close(self.fd)
            except OSError:
                pass
            self.fd = -1

    async def end(self) -> int:
        """Hang up (close the pty), then SIGTERM, then SIGKILL if it lingers; always reaped. The exit status."""
        self.close_fd()
        for sig in (signal.SIGHUP, signal.SIGTERM, signal.SIGKILL):
            if self.reap():
                break
            try:
                os.killpg(self.pid, sig)
            except ProcessLookupError:
                pass
            deadline = time.monotonic() + KILL_GRACE
            while time.monotonic() < deadline and not self.reap():
                await asyncio.sleep(0.02)
        self.reap(block=True)
        return self.status if self.status is not None else 255


class Hub:
    """What all sessions share: options, the sessions open now, and the per-address connection counts."""

    def __init__(self, options: ServeOptions) -> None:
        self.options = options
        self.sessions: set[KnobSession] = set()
        self._recent: dict[str, deque[float]] = {}
        self.relay: Relay | None = Relay() if options.presenting else None
        self.presenter_keys = (asyncssh.read_authorized_keys(str(options.presenter_keys))
                               if options.presenter_keys else None)
        self.authorized_keys = (asyncssh.read_authorized_keys(str(options.authorized_keys))
                                if options.authorized_keys else None)

    def admit_address(self, address: str) -> bool:
        """Count a new connection from `address`; False when it made too many in the last minute."""
        now = time.monotonic()
        times = self._recent.setdefault(address, deque())
        while times and now - times[0] > 60:
            times.popleft()
        if len(times) >= self.options.rate_limit:
            return False
        times.append(now)
        return True

    def child_command(self, presenter: bool) -> list[str]:
        lesson = self.options.lesson
        # With a presenter, the lesson is the presenter's: followers see its notes through the relay.
        extra = ["--lesson", lesson] if lesson and (presenter or self.relay is None) else []
        return [sys.executable, "-m", "knobtui", *self.options.child_args, *extra]

    async def end_all(self) -> None:
        await asyncio.gather(*(s.end("the server is shutting down") for s in list(self.sessions)))

    async def watch_idle(self) -> None:
        while True:
            await asyncio.sleep(min(5.0, max(0.2, self.options.idle_timeout / 4)))
            now = time.monotonic()
            for s in list(self.sessions):
                if s.child is not None and now - s.last_input > self.options.idle_timeout:
                    asyncio.ensure_future(s.end(f"idle for {self.options.idle_timeout:g} s"))


class KnobServer(asyncssh.SSHServer):
    """One SSH connection: admits by key or openly, opens only simulator sessions, forwards nothing."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.conn: asyncssh.SSHServerConnection | None = None
        self.username = ""
        self.address = "?"

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self.conn = conn
        peer = conn.get_extra_info("peername") or ("?", 0)
        self.address = str(peer[0])
        if not self.hub.admit_address(self.address):
            log(f"refused {self.address}: more than {self.hub.options.rate_limit} connections in a minute")
            asyncio.get_running_loop().call_soon(
                conn.disconnect, asyncssh.DISC_TOO_MANY_CONNECTIONS, "too many connections; try again in a minute")

    presenter = False

    def begin_auth(self, username: str) -> bool:
        self.username = username
        # Open demos without a presenter need no authentication at all.
        return self.hub.authorized_keys is not None or self.hub.options.presenting

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

    def validate_password(self, username: str, password: str) -> bool:
        expected = self.hub.options.presenter_password or ""
        self.presenter = bool(expected) and secrets.compare_digest(password.encode(), expected.encode())
        return self.presenter

    def kbdint_auth_supported(self) -> bool:
        # With a presenter but no key list, the audience gets in with no questions asked.
        return self.hub.options.presenting and self.hub.authorized_keys is None

    def get_kbdint_challenge(self, username: str, lang: str, submethods: str) -> bool:
        self.presenter = False
        return True  # accept, as a follower, without a prompt

    def auth_completed(self) -> None:
        self.role_settled = True

    role_settled = False

    def session_requested(self) -> KnobSession:
        return KnobSession(self.hub, self.address, self.username, self.presenter and self.role_settled
                           if self.hub.options.presenting else False)

    def connection_requested(self, *args: object) -> bool:
        log(f"refused port forwarding from {self.address}")
        return False

    def server_requested(self, *args: object) -> bool:
        log(f"refused remote port forwarding from {self.address}")
        return False

    def unix_connection_requested(self, *args: object) -> bool:
        return False

    def unix_server_requested(self, *args: object) -> bool:
        return False


class KnobSession(asyncssh.SSHServerSession):  # type: ignore[type-arg]
    """One visitor's simulator: SSH channel bytes to and from a `knobtui` child's pty."""

    def __init__(self, hub: Hub, address: str, username: str, presenter: bool = False) -> None:
        self.hub = hub
        self.presenter = presenter
        self.address = address
        self.username = username
        self.chan: asyncssh.SSHServerChannel | None = None  # type: ignore[type-arg]
        self.term: str | None = None
        self.size = (80, 24)
        self.child: Child | None = None
        self.started = time.monotonic()
        self.last_input = time.monotonic()
        self._pending = bytearray()
        self._reading = False
        self._ending: asyncio.Future[None] | None = None
        self._workdir: str | None = None

    # ---- requests ----------------------------------------------------------------------------
    def connection_made(self, chan: asyncssh.SSHServerChannel) -> None:  # type: ignore[override,type-arg]
        self.chan = chan

    def pty_requested(self, term_type: str, term_size: tuple[int, int, int, int], term_modes: object) -> bool:
        self.term = term_type or "xterm-256color"
        if term_size[0] and term_size[1]:
            self.size = (term_size[0], term_size[1])
        return True

    def shell_requested(self) -> bool:
        return True

    def exec_requested(self, command: str) -> bool:
        log(f"refused a command from {self.address} ({self.username}): {command[:60]!r}")
        return False

    def subsystem_requested(self, subsystem: str) -> bool:
        log(f"refused subsystem {subsystem!r} from {self.address} ({self.username})")
        return False

    # ---- the session -------------------------------------------------------------------------
    def session_started(self) -> None:
        chan = self.chan
        assert chan is not None
        if self.term is None:
            chan.write(b"knobtui serves an interactive simulator and needs a terminal: connect with ssh -t\r\n")
            chan.exit(1)
            return
        if len(self.hub.sessions) >= self.hub.options.max_sessions:
            chan.write(f"\r\nSorry, knobtui is full ({self.hub.options.max_sessions} simulators running). "
                       "Please try again in a minute.\r\n".encode())
            log(f"full: turned away {self.address} ({self.username})")
            chan.exit(1)
            return
        self._workdir = tempfile.mkdtemp(prefix="knobtui-visitor-")
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": self._workdir,
            "XDG_CONFIG_HOME": self._workdir,  # a visitor's theme choice stays with the visitor
            "TERM": self.term,
            "LANG": "C.UTF-8",
        }
        client_env = chan.get_environment()
        for name in ("LANG", "LC_ALL", "LC_CTYPE", "NO_COLOR", "COLORTERM"):
            if name in client_env:
                env[name] = client_env[name]
        if self.hub.relay is not None:
            env.update(self.hub.relay.child_env(self.presenter))
        self.child = Child(self.hub.child_command(self.presenter), env, *self.size, cwd=self._workdir)
        try:
            self.child.start()
        except OSError as exc:
            chan.write(f"knobtui could not start: {exc}\r\n".encode())
            chan.exit(1)
            return
        self.hub.sessions.add(self)
        self._start_reading()
        role = " role=presenter" if self.presenter else (" role=follower" if self.hub.relay else "")
        log(f"connect {self.address} user={self.username!r} term={self.term} size={self.size[0]}x{self.size[1]} "
            f"pid={self.child.pid} sessions={len(self.hub.sessions)}{role}")

    def data_received(self, data: bytes, datatype: object) -> None:  # type: ignore[override]
        self.last_input = time.monotonic()
        if self.child is None or self.child.fd < 0:
            return
        self._pending += data
        self._flush_input()

    def terminal_size_changed(self, width: int, height: int, pixwidth: int, pixheight: int) -> None:
        if width and height:
            self.size = (width, height)
            if self.child is not None:
                self.child.resize(width, height)

    def break_received(self, msec: int) -> bool:
        return False

    def signal_received(self, signal: str) -> None:
        pass

    def eof_received(self) -> bool:
        asyncio.ensure_future(self.end("the client sent EOF"))
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        asyncio.ensure_future(self.end("disconnected" if exc is None else f"connection lost: {exc}"))

    # ---- flow control: a slow client slows only its own child --------------------------------
    def pause_writing(self) -> None:
        self._stop_reading()

    def resume_writing(self) -> None:
        self._start_reading()

    def _start_reading(self) -> None:
        if not self._reading and self.child is not None and self.child.fd >= 0:
            asyncio.get_running_loop().add_reader(self.child.fd, self._on_output)
            self._reading = True

    def _stop_reading(self) -> None:
        if self._reading and self.child is not None and self.child.fd >= 0:
            asyncio.get_running_loop().remove_reader(self.child.fd)
        self._reading = False

    def _on_output(self) -> None:
        child = self.child
        assert child is not None
        try:
            data = os.read(child.fd, 65536)
        except BlockingIOError:
            return
        except OSError:  # EIO: the child closed its side (it exited)
            data = b""
        if not data:
            self._stop_reading()
            asyncio.ensure_future(self.end("the simulator exited"))
            return
        if self.chan is not None:
            self.chan.write(data)

    def _flush_input(self) -> None:
        child = self.child
        if child is None or child.fd < 0:
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

    # ---- ending --------------------------------------------------------------------------------
    async def end(self, why: str) -> None:
        """End the session once: hang up and reap the child, pass on its exit status, log the disconnect."""
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
                    loop = asyncio.get_running_loop()
                    loop.remove_writer(child.fd)
                    if "exited" in why:
                        self._drain_output(child)
                status = await child.end()
            self.hub.sessions.discard(self)
            chan = self.chan
            if chan is not None and child is not None:
                try:
                    if "exited" not in why and "disconnect" not in why and "lost" not in why:
                        chan.write(f"\r\nknobtui: {why}; goodbye.\r\n".encode())
                    chan.exit(status)
                except (OSError, asyncssh.Error, BrokenPipeError, AttributeError):
                    pass
            if child is not None:
                log(f"disconnect {self.address} user={self.username!r} term={self.term} "
                    f"size={self.size[0]}x{self.size[1]} duration={time.monotonic() - self.started:.1f}s "
                    f"status={status} ({why})")
        finally:
            if self._workdir:
                shutil.rmtree(self._workdir, ignore_errors=True)
            self._ending.set_result(None)

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
                self.chan.write(data)


async def serve(options: ServeOptions, ready: asyncio.Future[tuple[str, int]] | None = None) -> int:
    """Run the server until SIGINT or SIGTERM; then end every child, reap them all, and return 0."""
    key_path = options.host_key or default_host_key_path()
    key = load_or_create_host_key(key_path)
    hub = Hub(options)
    extra: dict[str, object] = {}
    if hub.relay is not None:
        await hub.relay.start()
        log(f"presenter mode: followers get the presenter's state through the relay {hub.relay.path}")
    server = await asyncssh.create_server(
        lambda: KnobServer(hub), options.host, options.port,
        server_host_keys=[key], encoding=None, line_editor=False,
        login_timeout=options.login_timeout, agent_forwarding=False, x11_forwarding=False,
        allow_scp=False, config=[], keepalive_interval=30, **extra)
    sockets = server.sockets or []
    host, port = sockets[0].getsockname()[:2] if sockets else (options.host, options.port)
    access = (f"keys in {options.authorized_keys}" if options.authorized_keys else "anyone, any user name, no password")
    if options.presenting:
        how = " and ".join(x for x in (f"keys in {options.presenter_keys}" if options.presenter_keys else "",
                                       "the presenter password" if options.presenter_password else "") if x)
        access += f"; the presenter logs in with {how}, everyone else follows"
    log(f"host key {key.get_fingerprint('sha256')} ({key_path})")
    log(f"listening on {host}:{port} ({access}); connect with: ssh -p {port} anyone@{host}")
    if ready is not None:
        ready.set_result((host, port))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    idle = asyncio.ensure_future(hub.watch_idle())
    try:
        await stop.wait()
    finally:
        log("stopping: no new connections; ending every simulator")
        server.close()
        idle.cancel()
        await hub.end_all()
        await server.wait_closed()
        if hub.relay is not None:
            await hub.relay.close()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
    log("stopped")
    return 0
