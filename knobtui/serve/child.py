"""One visitor's `knobtui` process on its own pseudo-terminal, started warm.

Textual drives one terminal per process, so every session needs its own process. Starting Python
and importing Textual costs ~0.6 s of CPU per visitor: 60 arriving at once on 2 cores waited 18 s.
So the server keeps a *spawner* (`knobtui/spawner.py`, outside serve/: it starts simulators, the server only asks it): one process that has imported the simulator already
and forks a child per visitor on request. The server opens the pty, hands the spawner its slave
side over a Unix socket, and keeps the master; the spawner forks, the child makes the pty its
controlling terminal (so window changes arrive as SIGWINCH) and runs `knobtui`. The spawner reaps its
children and reports their exit status back. If the spawner is gone, a child is started the slow
way (fork and exec of `python -P -m knobtui`).

Every child runs with `python -P` semantics: the visitor's working folder is never on `sys.path`.
"""

from __future__ import annotations

import array
import asyncio
import fcntl
import os
import pty
import signal
import socket
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Callable, Sequence

from ..process import background, default_signals
from ..wire import (NO_EXEC_STATUS, SPAWNER, UNKNOWN_STATUS, Exited, Failed, Ready, Refused, Spawn, Spawned,
                    SpawnerMessage, plain)

KILL_GRACE = 1.0  # seconds a hung-up child gets before SIGTERM, and again before SIGKILL


def set_size(fd: int, cols: int, rows: int) -> None:
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


def read_pty(fd: int) -> bytes | None:
    """What a child drew: None when there is nothing yet, b"" once it has exited (EOF, or EIO on Linux)."""
    try:
        return os.read(fd, 65536)
    except BlockingIOError:
        return None
    except OSError:
        return b""


def python_command(*args: str) -> list[str]:
    """`python -P ...`: the current folder (the visitor's) is not put on sys.path."""
    return [sys.executable, "-P", *args]


class Child:
    """A `knobtui` process on a pty: the pty's master side, the process id, and its exit status once known."""

    def __init__(self, pid: int, fd: int, reaped: Callable[[], int | None]) -> None:
        self.pid, self.fd = pid, fd
        self._reaped = reaped  # the exit status if the process has ended and been reaped, else None
        self.status: int | None = None

    def resize(self, cols: int, rows: int) -> None:
        """Tell the pty its new size; the kernel sends the child SIGWINCH."""
        if self.fd >= 0 and cols > 0 and rows > 0:
            set_size(self.fd, cols, rows)

    def stop(self) -> bool:
        """Stop the process where it is (SIGSTOP: nothing it could do first). True if it was signalled."""
        return self._signal(signal.SIGSTOP)

    def go(self) -> None:
        """Let a stopped process run on from where it stopped (SIGCONT)."""
        self._signal(signal.SIGCONT)

    def _signal(self, sig: int) -> bool:
        if self.reap():
            return False  # it has ended: its pid may be another process's now
        try:
            os.killpg(self.pid, sig)
        except (ProcessLookupError, PermissionError):
            return False
        return True

    def reap(self) -> bool:
        if self.status is None:
            self.status = self._reaped()
        return self.status is not None

    def close_fd(self) -> None:
        if self.fd >= 0:
            try:
                os.close(self.fd)
            except OSError:
                pass
            self.fd = -1

    async def end(self) -> int:
        """Hang up (close the pty), then SIGTERM, then SIGKILL if it lingers. The exit status."""
        self.close_fd()
        for sig in (signal.SIGHUP, signal.SIGTERM, signal.SIGKILL):
            if self.reap():
                break
            try:
                os.killpg(self.pid, sig)
                os.killpg(self.pid, signal.SIGCONT)  # a stopped process (Room.hold) acts on it at once
            except (ProcessLookupError, PermissionError):
                pass
            deadline = time.monotonic() + KILL_GRACE
            while time.monotonic() < deadline and not self.reap():
                await asyncio.sleep(0.02)
        while not self.reap():  # SIGKILL cannot be refused; its status arrives in a moment
            await asyncio.sleep(0.02)
        return self.status if self.status is not None else UNKNOWN_STATUS


def start_direct(argv: Sequence[str], env: dict[str, str], cols: int, rows: int, cwd: str, nice: int = 0) -> Child:
    """The slow way: fork, make the pty the controlling terminal, exec a fresh Python (at `nice`, as
    process.background lowers it)."""
    pid, fd = pty.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        try:
            set_size(0, cols, rows)
            os.chdir(cwd)
            default_signals(forked=False)
            background(nice)
            os.execvpe(argv[0], list(argv), env)
        finally:
            os._exit(NO_EXEC_STATUS)
    os.set_blocking(fd, False)
    set_size(fd, cols, rows)

    def reaped() -> int | None:
        try:
            done, wstatus = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return UNKNOWN_STATUS
        return os.waitstatus_to_exitcode(wstatus) if done else None

    return Child(pid, fd, reaped)


class Spawner:
    """The server's side of the warm spawner: ask for a child, learn when each one ends."""

    def __init__(self, env: dict[str, str], log: Callable[[str], None]) -> None:
        self._env, self._log = env, log
        self._sock: socket.socket | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._next = 0
        self._waiting: dict[int, asyncio.Future[int]] = {}
        self._statuses: dict[int, int] = {}
        self.pid = 0

    @property
    def alive(self) -> bool:
        return self._sock is not None and self._proc is not None and self._proc.poll() is None

    async def start(self) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            self._proc = subprocess.Popen(
                python_command("-m", "knobtui.spawner", str(theirs.fileno())), env=self._env,
                pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                cwd="/", start_new_session=True)
        finally:
            theirs.close()
        self.pid = self._proc.pid
        ours.setblocking(False)
        self._sock = ours
        hello = await self._receive_one()  # the spawner says Ready once the simulator is imported
        if not isinstance(hello, Ready):
            raise OSError(f"the spawner did not start: {plain(hello)}")
        asyncio.get_running_loop().add_reader(ours.fileno(), self._on_message)

    async def _receive_one(self) -> SpawnerMessage | Refused:
        assert self._sock is not None
        loop = asyncio.get_running_loop()
        data = await loop.sock_recv(self._sock, 65536)
        if not data:
            raise OSError("the spawner exited")
        return SPAWNER.decode(data)

    def _on_message(self) -> None:
        assert self._sock is not None
        while True:
            try:
                data = self._sock.recv(65536)
            except BlockingIOError:
                return
            except OSError:
                data = b""
            if not data:
                self._gone()
                return
            self.receive(data)

    def receive(self, data: bytes) -> None:
        """One packet from the spawner; one that does not decode, or is not the spawner's to send, is logged,
        never a crash."""
        message = SPAWNER.decode(data)
        match message:
            case Exited(pid=pid, status=status):  # a child ended and the spawner reaped it
                self._statuses[pid] = status
            case Spawned(id=ident, pid=pid):
                future = self._waiting.pop(ident, None)
                if future is not None and not future.done():
                    future.set_result(pid)
            case Failed(id=ident, error=error) if ident is not None:
                future = self._waiting.pop(ident, None)
                if future is not None and not future.done():
                    future.set_exception(OSError(plain(error)))
            case Failed(error=error):
                self._log(f"the warm spawner refused a request: {plain(error)}")
            case Refused(why=why):
                self._log(f"refused a message from the warm spawner: {plain(why)}")
            case _:
                self._log(f"refused a message from the warm spawner: a {type(message).__name__} is not its to send")

    def _drop_socket(self) -> bool:
        """Stop listening to the spawner; False if there was nothing to drop."""
        if self._sock is None:
            return False
        try:
            asyncio.get_running_loop().remove_reader(self._sock.fileno())
        except (ValueError, RuntimeError):
            pass
        self._sock.close()
        self._sock = None
        return True

    def _gone(self) -> None:
        """The spawner exited: later children start the slow way; children it started end on their own."""
        if self._drop_socket():
            self._log("the warm spawner has exited; new simulators start the slow way")
        for future in self._waiting.values():
            if not future.done():
                future.set_exception(OSError("the spawner exited"))
        self._waiting.clear()

    async def spawn(self, args: Sequence[str], env: dict[str, str], cols: int, rows: int, cwd: str,
                    nice: int = 0) -> Child:
        """A warm child running `knobtui ARGS` on a new pty of the given size (at `nice` priority)."""
        if self._sock is None:
            raise OSError("the spawner is not running")
        master, slave = os.openpty()
        try:
            set_size(master, cols, rows)
            self._next += 1
            request = SPAWNER.encode(Spawn(id=self._next, args=list(args), env=env, cwd=cwd, nice=nice))
            future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
            self._waiting[self._next] = future
            fds = array.array("i", [slave])
            self._sock.sendmsg([request], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, fds)])
            os.close(slave)
            slave = -1
            pid = await asyncio.wait_for(future, 30)
        except BaseException:
            os.close(master)
            if slave >= 0:
                os.close(slave)
            raise
        os.set_blocking(master, False)
        return Child(pid, master, lambda: self._statuses.pop(pid, None) if pid in self._statuses else
                     (None if self._alive_pid(pid) else UNKNOWN_STATUS))

    def _alive_pid(self, pid: int) -> bool:
        """Whether `pid` still runs (used only when the spawner is gone and cannot report it)."""
        if self._sock is not None:
            return True  # the spawner reports every exit
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True

    async def close(self) -> None:
        self._drop_socket()
        proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.terminate()
            for _ in range(100):
                if proc.poll() is not None:
                    break
                await asyncio.sleep(0.02)
            else:
                proc.kill()
                proc.wait()
