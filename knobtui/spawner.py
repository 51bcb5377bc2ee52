"""The warm spawner: imports the simulator once, then forks one `knobtui` per visitor (see serve/child.py).

Run by the server (serve/child.py asks it) as `python -P -m knobtui.spawner FD`, where FD is its end of a SOCK_SEQPACKET
socket pair. The messages are knobtui/wire.py's (SPAWNER): it says Ready once warm; each request is a
Spawn carrying the pty's slave side as an SCM_RIGHTS descriptor; the answer is Spawned (or Failed, also
for a request it cannot read: a refusal, never a crash). When a child ends, the spawner reaps it and
sends Exited. It exits when the server's end of the socket closes. It never starts a thread, so forking
it is safe.
"""

from __future__ import annotations

import array
import fcntl
import os
import select
import signal
import socket
import sys
import termios
import traceback

from .process import background, default_signals
from .wire import FAILED_STATUS, SPAWNER, Exited, Failed, Ready, Refused, Spawn, Spawned, request_id


def _warm() -> None:
    """Import what every simulator needs, so a forked child starts with it in memory."""
    import importlib
    for name in ("knobtui.cli", "knobtui.tui.app", "knobtui.tui.screens.compare", "knobtui.tui.screens.help"):
        importlib.import_module(name)
    from knobtui.tui.themes import theme_names
    theme_names()
    # One simulator drawn headless, once: the caches it fills (styles, glyphs, the curve) are then every
    # child's for free, about a fifth of a child's start-up. It starts no thread, and its loop is closed
    # before the first fork.
    import asyncio

    from knobtui.cli import build_parser, resolve_start
    from knobtui.tui.app import KnobApp

    async def draw_once() -> None:
        app = KnobApp(resolve_start(build_parser().parse_args([])))
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()

    try:
        asyncio.run(draw_once())
    except Exception:  # a warm-up is an optimisation: a child still starts without it
        traceback.print_exc()


def _run_child(sock: socket.socket, wake: tuple[int, int], slave: int, request: Spawn) -> None:
    """In the forked child: take the pty as the controlling terminal, become the visitor's knobtui."""
    code = FAILED_STATUS
    try:
        signal.set_wakeup_fd(-1)
        default_signals(forked=True)
        sock.close()
        for fd in wake:
            os.close(fd)
        os.setsid()
        fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
        for fd in (0, 1, 2):
            os.dup2(slave, fd)
        if slave > 2:
            os.close(slave)
        os.chdir(request.cwd)
        background(request.nice)
        os.environ.clear()
        os.environ.update(request.env)
        args = list(request.args)
        sys.argv = ["knobtui", *args]
        from knobtui.cli import main
        code = main(args)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else FAILED_STATUS
    except BaseException:
        traceback.print_exc()
        code = FAILED_STATUS
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def _reap(sock: socket.socket) -> None:
    while True:
        try:
            pid, wstatus = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        try:
            sock.send(SPAWNER.encode(Exited(pid=pid, status=os.waitstatus_to_exitcode(wstatus))))
        except OSError:
            pass


def answer(sock: socket.socket, request: object, fds: list[int], wake: tuple[int, int],
           ident: int | None = None) -> None:
    """One request: a child forked on its terminal (Spawned), or why not (Failed). A request that does not
    decode, or is no Spawn, is refused with a Failed naming its id if it has one (`ident`), never a crash."""
    match request:
        case Spawn() if len(fds) != 1:
            reply: Spawned | Failed = Failed(id=request.id, error=f"expected one terminal, got {len(fds)}")
        case Spawn():
            try:
                pid = os.fork()
            except OSError as exc:
                reply = Failed(id=request.id, error=f"{type(exc).__name__}: {exc}")
            else:
                if pid == 0:  # pragma: no cover - runs in the child
                    _run_child(sock, wake, fds[0], request)
                reply = Spawned(id=request.id, pid=pid)
        case Refused(why=why):
            reply = Failed(id=ident, error=f"refused: {why}")
        case _:
            not_spawn = f"refused: the spawner takes a spawn request, not a {type(request).__name__}"
            reply = Failed(id=ident, error=not_spawn)
    try:
        sock.send(SPAWNER.encode(reply))
    except OSError:
        pass


def serve(fd: int) -> int:
    sock = socket.socket(fileno=fd)
    _warm()
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_r, False)
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)  # wakes the select through the pipe
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the server decides when we stop (its socket closes)
    sock.send(SPAWNER.encode(Ready()))
    fd_space = socket.CMSG_SPACE(array.array("i").itemsize * 4)
    while True:
        try:
            readable, _, _ = select.select([sock, wake_r], [], [])
        except InterruptedError:
            continue
        if wake_r in readable:
            try:
                while os.read(wake_r, 4096):
                    pass
            except BlockingIOError:
                pass
            _reap(sock)
        if sock not in readable:
            continue
        try:
            data, ancdata, _, _ = sock.recvmsg(1 << 20, fd_space)
        except InterruptedError:
            continue
        except OSError:
            data, ancdata = b"", []
        fds: list[int] = []
        for level, kind, payload in ancdata:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                got = array.array("i")
                got.frombytes(payload[: len(payload) - len(payload) % got.itemsize])
                fds.extend(got)
        if not data:
            for extra in fds:
                os.close(extra)
            break
        try:
            answer(sock, SPAWNER.decode(data), fds, (wake_r, wake_w), request_id(data))
        finally:
            for extra in fds:
                os.close(extra)
    return 0


if __name__ == "__main__":
    sys.exit(serve(int(sys.argv[1])))
