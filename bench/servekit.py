"""`knobtui serve` as a process for the benchmarks: start it on a free port, weigh its whole tree, stop it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from pathlib import Path


def knobtui_command() -> list[str]:
    """The knobtui console script installed beside this Python (not another on PATH), else `python -m knobtui`."""
    exe = Path(sys.executable).with_name("knobtui")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "knobtui"]


def pct(values: list[float], q: float) -> float:
    """The `q` quantile of `values` (nearest rank), NaN for none."""
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))] if values else float("nan")


class SSHClient:
    """An asyncssh client on 127.0.0.1 with a pty, handing each read to `received` with a window of the
    stream's last bytes (so a match may straddle two reads) and when it came (perf_counter)."""

    def __init__(self) -> None:
        self.tail = b""
        self.conn = None  # type: ignore[var-annotated]
        self.proc = None  # type: ignore[var-annotated]

    async def open(self, port: int, size: tuple[int, int], username: str = "student", key: object = None) -> None:
        import asyncio

        import asyncssh
        self.conn = await asyncssh.connect("127.0.0.1", port, username=username, known_hosts=None,
                                           client_keys=[key] if key else None, agent_path=None, config=[])
        self.proc = await self.conn.create_process(term_type="xterm-256color", term_size=size, encoding=None)
        asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        import time
        assert self.proc is not None
        while True:
            data = await self.proc.stdout.read(65536)
            if not data:
                return
            now = time.perf_counter()
            window = self.tail[-64:] + data
            self.tail = window[-4096:]
            self.received(data, window, now)

    def received(self, data: bytes, window: bytes, now: float) -> None:
        """One read (`data`), the stream's last bytes up to it (`window`), and when it came."""

    def press(self, keys: bytes) -> None:
        assert self.proc is not None
        self.proc.stdin.write(keys)

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()


class ScreenClient(SSHClient):
    """An SSH client that reads what it receives into a screen model (a shared view sends changes, so
    "iteration 12" may arrive as the one cell "2"): when each iteration first shows in the status line,
    and the bytes received."""

    ITERATION = re.compile(r"iteration (\d+) ")

    def __init__(self, size: tuple[int, int] = (100, 30)) -> None:
        from knobtui.serve.screen import Screen
        super().__init__()
        self.screen = Screen(*size)
        self.seen: dict[int, float] = {}
        self.bytes = 0

    def received(self, data: bytes, window: bytes, now: float) -> None:
        self.bytes += len(data)
        if self.screen.feed(data):
            self.drawn(self.rows(), now)

    def rows(self) -> list[str]:
        from knobtui.serve.screen import text_of
        return text_of(self.screen.snapshot())

    def drawn(self, rows: list[str], now: float) -> None:
        """A whole screen came (`rows`, at `now`)."""
        for row in rows[-4:]:  # the status line is near the bottom
            m = self.ITERATION.search(row)
            if m:
                self.seen.setdefault(int(m.group(1)), now)
                break

    async def ready(self, text: str, timeout: float = 300) -> None:
        import asyncio
        import time
        deadline = time.perf_counter() + timeout
        while not any(text in row for row in self.rows()) and time.perf_counter() < deadline:
            await asyncio.sleep(0.05)


class Server:
    """`knobtui serve --port 0` with the limits opened wide (a benchmark is one address with many visitors)."""

    def __init__(self, tmp: Path, *args: str) -> None:
        cmd = [sys.executable, "-m", "knobtui", "serve", "--port", "0", "--host-key", str(tmp / "host"),
               "--rate-limit", "100000", "--max-per-address", "1000", "--max-sessions", "1000", *args]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True)
        self.port = 0
        self.web_url = ""
        ready = threading.Event()
        doors = (0 if "--no-ssh" in args else 1) + (1 if "--web-port" in args else 0)

        def read() -> None:
            nonlocal doors
            assert self.proc.stderr is not None
            for line in self.proc.stderr:
                m = re.search(r"listening on [\d.]+:(\d+)", line)
                if m:
                    self.port = int(m.group(1))
                    doors -= 1
                m = re.search(r"browser door on ([\d.]+:\d+) \((https?)\b", line)
                if m:
                    self.web_url = f"{m.group(2)}://{m.group(1)}/"
                    doors -= 1
                if doors == 0:
                    ready.set()
        threading.Thread(target=read, daemon=True).start()
        if not ready.wait(60):
            raise RuntimeError("the server did not start")

    def pss_mb(self) -> float:
        """Proportional memory of the server and all its descendants (shared pages split between them)."""
        out = subprocess.run(["ps", "-e", "-o", "pid=,ppid="], capture_output=True, text=True).stdout
        kids: dict[int, list[int]] = {}
        for line in out.splitlines():
            pid, ppid = map(int, line.split())
            kids.setdefault(ppid, []).append(pid)
        todo, total = [self.proc.pid], 0
        while todo:
            pid = todo.pop()
            todo += kids.get(pid, [])
            try:
                for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
            except OSError:
                pass
        return total / 1024

    def tree(self) -> list[int]:
        """The server and all its descendants."""
        out = subprocess.run(["ps", "-e", "-o", "pid=,ppid="], capture_output=True, text=True).stdout
        kids: dict[int, list[int]] = {}
        for line in out.splitlines():
            pid, ppid = map(int, line.split())
            kids.setdefault(ppid, []).append(pid)
        todo, found = [self.proc.pid], []
        while todo:
            pid = todo.pop()
            found.append(pid)
            todo += kids.get(pid, [])
        return found

    def cpu_seconds(self, pid: int | None = None, niced: bool = False) -> float:
        """CPU time used so far by the server and its descendants (user + system); of `pid` alone if given;
        `niced`: of the descendants at a lower priority only (the shared views' renderers)."""
        tick = os.sysconf("SC_CLK_TCK")
        total = 0
        for pid in self.tree() if pid is None else [pid]:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                if niced and int(fields[16]) <= 0:
                    continue
                total += int(fields[11]) + int(fields[12])
            except (OSError, IndexError):
                pass
        return total / tick

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(120)
        except subprocess.TimeoutExpired:
            self.proc.kill()
