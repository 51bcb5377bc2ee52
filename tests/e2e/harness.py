"""What the end-to-end tests drive: a real terminal (tmux), a real server process, real SSH clients."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import asyncssh
import pyte


def knobtui_command() -> list[str]:
    exe = Path(sys.executable).with_name("knobtui")  # the console script beside this Python, not another on PATH
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "knobtui"]


class Tmux:
    """One tmux server of our own (its own socket), one pane running a command."""

    def __init__(self, tmp: Path, width: int = 100, height: int = 30) -> None:
        self.socket = f"knobtui-e2e-{uuid.uuid4().hex[:8]}"
        self.status_file = tmp / "exit-status"
        self.width, self.height = width, height

    def tmux(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True, check=check,
                              timeout=20)

    def start(self, argv: list[str], env: dict[str, str] | None = None) -> None:
        cmd = " ".join(_quote(a) for a in argv)
        shell = f"{cmd}; echo $? > {_quote(str(self.status_file))}; sleep 30"
        # Not the size of whatever terminal ran the tests (pytest-xdist's workers carry COLUMNS): the pane's.
        full_env = {k: v for k, v in {**os.environ, **(env or {})}.items() if k not in ("COLUMNS", "LINES", "ROWS")}
        for attempt in range(5):  # a tmux server that just exited can refuse a new session briefly
            r = subprocess.run(["tmux", "-L", self.socket, "new-session", "-d", "-x", str(self.width), "-y",
                                str(self.height), shell], capture_output=True, text=True, env=full_env, timeout=20)
            if r.returncode == 0:
                return
            time.sleep(0.2 * (attempt + 1))
        raise RuntimeError(f"tmux new-session failed: {r.stderr}")

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-J").stdout

    def keys(self, *keys: str) -> None:
        self.tmux("send-keys", *keys)

    def wait_for(self, text: str | re.Pattern[str], timeout: float = 15.0) -> str:
        """Wait until the screen holds `text` (or matches a pattern)."""
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if (text.search(screen) if isinstance(text, re.Pattern) else text in screen):
                return screen
            time.sleep(0.05)
        raise AssertionError(f"{text!r} never appeared; the screen was:\n{screen}")

    def wait_for_row(self, iteration: int, *numbers: str, timeout: float = 15.0) -> str:
        """Wait until the iteration log shows a row: the iteration (with its trend mark), then these numbers."""
        row = re.compile(r"(^|[\s|│])" + str(iteration) + r"[↑↓^v ]?\s+" + r"\s+".join(re.escape(n) for n in numbers)
                         + r"(\s|$)", re.M)
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if row.search(screen):
                return screen
            time.sleep(0.05)
        raise AssertionError(f"row {iteration} {numbers} never appeared; the screen was:\n{screen}")

    def exit_status(self, timeout: float = 10.0) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.status_file.exists() and self.status_file.read_text().strip():
                return int(self.status_file.read_text())
            time.sleep(0.05)
        raise AssertionError(f"the program did not exit; the screen was:\n{self.screen()}")

    def close(self) -> None:
        self.tmux("kill-server", check=False)


def _quote(s: str) -> str:
    return "'" + s.replace("'", "'\\''") + "'"


BOOK_LINE_1 = re.compile(r"\b1\s+0\.30250000000000005\s+0\.25\b")
"""The iteration log's first row (iteration, error, prediction) for the gradient preset."""


class Server:
    """`knobtui serve --port 0` as a child process; its log is collected line by line."""

    def __init__(self, tmp: Path, *args: str, env: dict[str, str] | None = None,
                 preexec_fn: object = None, prefix: tuple[str, ...] = ()) -> None:
        self.key = tmp / "host_key"
        # `prefix` runs the server through another command that execs it (netns.py: in a network of its own).
        cmd = [*prefix, sys.executable, "-m", "knobtui", "serve", "--port", "0", "--host-key", str(self.key), *args]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     text=True, errors="replace", env={**os.environ, **(env or {})},
                                     preexec_fn=preexec_fn)  # type: ignore[arg-type]
        self.lines: list[str] = []
        self._listening = threading.Event()
        self._doors = 0 if "--no-ssh" in args else 1
        self._doors += 1 if "--web-port" in args else 0
        self.port = 0
        self.web_port = 0
        threading.Thread(target=self._read, daemon=True).start()
        if not self._listening.wait(30):
            self.stop()
            raise RuntimeError("the server did not start:\n" + "\n".join(self.lines))

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append(line.rstrip("\n"))
            m = re.search(r"listening on [\d.]+:(\d+)", line)
            if m:
                self.port = int(m.group(1))
                self._doors -= 1
            m = re.search(r"browser door on [\d.:\[\]]+:(\d+) \(http", line)
            if m:
                self.web_port = int(m.group(1))
                self._doors -= 1
            if self._doors == 0:
                self._listening.set()

    def children(self) -> list[tuple[int, str]]:
        """(pid, state) of every visitor's simulator: the server's descendants, zombies included, but not
        the warm spawner itself (whose children the simulators are)."""
        out = subprocess.run(["ps", "-ww", "-e", "-o", "pid=,ppid=,stat=,args="], capture_output=True, text=True)
        rows = [line.split(None, 3) for line in out.stdout.splitlines() if line.strip()]
        kids: dict[int, list[tuple[int, str, str]]] = {}
        for row in rows:
            pid, ppid, stat, args = int(row[0]), int(row[1]), row[2], row[3] if len(row) > 3 else ""
            kids.setdefault(ppid, []).append((pid, stat, args))
        found: list[tuple[int, str]] = []
        todo = [self.proc.pid]
        while todo:
            parent = todo.pop()
            for pid, stat, args in kids.get(parent, []):
                todo.append(pid)
                if not (parent == self.proc.pid and "knobtui.spawner" in args):
                    found.append((pid, stat))
        return found

    def spawner(self) -> int | None:
        """The warm spawner's pid, if it runs."""
        out = subprocess.run(["ps", "-ww", "-o", "pid=,args=", "--ppid", str(self.proc.pid)], capture_output=True, text=True)
        return next((int(line.split()[0]) for line in out.stdout.splitlines() if "knobtui.spawner" in line), None)

    async def wait_no_children(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.children():
                return
            await asyncio.sleep(0.1)
        raise AssertionError(f"children left behind: {self.children()}\n" + "\n".join(self.lines[-10:]))

    def log_has(self, text: str, timeout: float = 5.0) -> bool:
        """Whether the log says `text` (waiting a little: the log is read by another thread)."""
        deadline = time.monotonic() + timeout
        while True:
            if any(text in line for line in self.lines):
                return True
            if time.monotonic() > deadline:
                return False
            time.sleep(0.02)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}/"

    def pid_of(self, text: str, timeout: float = 10.0) -> int:
        """The simulator pid of the newest "connect" line that contains `text`."""
        assert self.log_has(text, timeout), "\n".join(self.lines[-10:])
        line = [line for line in self.lines if "connect " in line and text in line][-1]
        return int(re.search(r"pid=(\d+)", line).group(1))  # type: ignore[union-attr]

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                return self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        return self.proc.wait()


class AudienceClient(asyncssh.SSHClient):
    """Answers keyboard-interactive with no prompts, as OpenSSH does: how an audience gets in beside a presenter."""

    def kbdint_auth_requested(self) -> str:
        return ""

    def kbdint_challenge_received(self, name, instructions, lang, prompts):  # type: ignore[no-untyped-def]
        return [] if not prompts else None


class Visitor:
    """An asyncssh client with a pty, rendering what it receives on a pyte screen."""

    def __init__(self, conn: asyncssh.SSHClientConnection, proc: asyncssh.SSHClientProcess,  # type: ignore[type-arg]
                 cols: int, rows: int) -> None:
        self.conn, self.proc = conn, proc
        self.screen = pyte.Screen(cols, rows)
        self.stream = pyte.ByteStream(self.screen)
        self.received = 0
        self.raw = bytearray()  # every byte received, for checks on escape sequences
        self._reader = asyncio.ensure_future(self._read())

    @classmethod
    async def open(cls, port: int, cols: int = 100, rows: int = 30, username: str = "anyone",
                   client_keys: list[asyncssh.SSHKey] | None = None, term_type: str = "xterm-256color",
                   asked: tuple[int, int] | None = None) -> Visitor:
        """A visitor with a `cols` x `rows` screen (asking the server for `asked` if given)."""
        conn = await asyncssh.connect("127.0.0.1", port, username=username, known_hosts=None,
                                      client_keys=client_keys or None, agent_path=None, config=[],
                                      client_factory=AudienceClient)
        proc = await conn.create_process(term_type=term_type, term_size=asked or (cols, rows), encoding=None)
        return cls(conn, proc, cols, rows)

    async def _read(self) -> None:
        while True:
            data = await self.proc.stdout.read(65536)
            if not data:
                return
            self.received += len(data)
            self.raw += data
            self.stream.feed(data)

    def text(self) -> str:
        return "\n".join(self.screen.display)

    async def wait_for(self, text: str | re.Pattern[str], timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if (text.search(self.text()) if isinstance(text, re.Pattern) else text in self.text()):
                return self.text()
            await asyncio.sleep(0.05)
        raise AssertionError(f"{text!r} never appeared; the screen was:\n{self.text()}")

    def press(self, keys: bytes) -> None:
        self.proc.stdin.write(keys)

    def resize(self, cols: int, rows: int) -> None:
        self.screen.resize(rows, cols)
        self.proc.change_terminal_size(cols, rows)

    async def exit_status(self, timeout: float = 15.0) -> int | None:
        await asyncio.wait_for(self.proc.wait_closed(), timeout)
        return self.proc.exit_status

    def stop_reading(self) -> None:
        """Stop reading what the server sends (a stalled client): its SSH window fills."""
        self._reader.cancel()

    def close(self) -> None:
        self._reader.cancel()
        self.conn.close()


