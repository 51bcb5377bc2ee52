"""Textual's Linux driver, but a byte that is not UTF-8 becomes U+FFFD instead of ending the app, and a
terminal that hangs up ends the app instead of spinning.

Textual 8.2.8's `LinuxDriver.run_input_thread` decodes stdin with `getincrementaldecoder("utf-8")()`,
which is strict: one stray byte (a Latin-1 terminal typing é, line noise over SSH) raises
UnicodeDecodeError in the input thread, and the app panics and exits.

The same loop reads nothing forever once its terminal has hung up (a pty whose other side closed reads
as end of file, at once, every time): the read's `break` leaves only the inner loop, so the thread spins
at a full core. The kernel's SIGHUP normally ends the process first, but not one that has SIGHUP ignored
(inherited from whatever started it), or one the signal missed: simulators were found spinning after
test runs, one core each. Here a terminal that reads as ended ends the process with HANGUP_STATUS (see
_HangUpWatch), as SIGHUP's default would have.

And Textual answers every SIGCONT by setting the terminal up anew (a whole screen), though only a suspend
of its own (Ctrl+Z) took the terminal away: the server stops a shared view's renderer (SIGSTOP) while the
presenter's key is drawn, and each SIGCONT after that cost a full redraw. Here only a resume after its own
suspend does that.
"""

from __future__ import annotations

import codecs
import errno
import os
import time
from types import FunctionType, MethodType
from typing import Any

from textual.driver import Driver
from textual.drivers import linux_driver
from textual.drivers.linux_driver import LinuxDriver

from ..wire import HANGUP_STATUS


def _replacing_decoder(encoding: str) -> type[codecs.IncrementalDecoder]:
    """`codecs.getincrementaldecoder`, but its decoders replace bad bytes (they are built with no arguments)."""
    base = codecs.getincrementaldecoder(encoding)

    class Replacing(base):  # type: ignore[valid-type, misc]  # a base chosen at run time, as codecs does
        def __init__(self, errors: str = "replace") -> None:
            super().__init__(errors)

    return Replacing


class _HangUpWatch:
    """The `os` the input thread sees: `os` itself, except that `read` notices the end of input.

    A terminal that reads as ended has hung up (with VMIN 1, as Textual sets it, a live terminal's read
    waits for a byte): the process ends at once with HANGUP_STATUS, as SIGHUP's default would have ended
    it. Not a graceful exit: Textual's writer thread dies at its first write to the hung-up terminal and
    the app then blocks on the writer's full queue, so an exit asked of the app never completes (seen:
    the main thread waiting in WriterThread.stop). Nothing is lost that SIGHUP would have kept: the
    screen is gone, and knobtui saves what it remembers when it changes, not at exit.

    Input that ends while not a terminal (a pipe) asks the app to exit, once, the ordinary way; later
    reads pause a moment so the thread does not spin while it winds down."""

    def __init__(self, app: Any, terminal: bool) -> None:
        self._app, self._terminal = app, terminal
        self._told = False

    def __getattr__(self, name: str) -> Any:
        return getattr(os, name)

    def read(self, fd: int, size: int) -> bytes:
        try:
            data = os.read(fd, size)
        except OSError as exc:  # a pty whose master is gone may say EIO rather than end of file
            if exc.errno != errno.EIO:
                raise
            data = b""
        if not data and size:
            self._ended()
        return data

    def _ended(self) -> None:
        if self._terminal:
            os._exit(HANGUP_STATUS)
        if self._told:
            time.sleep(0.05)
            return
        self._told = True
        # post_message (which call_later uses) is safe from another thread: it hands the message to the loop
        self._app.call_later(self._app.exit, return_code=HANGUP_STATUS)


def _tolerant_input_thread(app: Any, terminal: bool) -> FunctionType | None:
    """Textual's own `run_input_thread`, run with our decoder factory in place of the module's, and with
    `os` as _HangUpWatch (for this app, whose stdin is a terminal or not).

    Why this way: the decoder is a local of that 50-line method, so a subclass could only change it by
    copying the method (which would drift from the pinned Textual unseen), and patching the module's
    `getincrementaldecoder` would change every LinuxDriver in the process. Here the code object is
    Textual's, unchanged; only the name it looks the decoder factory up by resolves to ours, for this
    class alone. If a Textual upgrade stops looking the factory up by that name, this returns None and
    the driver is plain LinuxDriver again: tests/test_hostile_app.py then fails, rather than this
    guessing.
    """
    original = LinuxDriver.run_input_thread
    code = original.__code__
    if "getincrementaldecoder" not in code.co_names or original.__closure__:
        return None
    names = dict(vars(linux_driver), getincrementaldecoder=_replacing_decoder)
    if "os" in code.co_names:  # see _HangUpWatch; without `os` there, no watch (test_hostile_app fails)
        names["os"] = _HangUpWatch(app, terminal)
    return FunctionType(code, names, original.__name__, original.__defaults__)


class TolerantLinuxDriver(LinuxDriver):
    """LinuxDriver whose input thread decodes stdin with errors="replace" and ends the app when its terminal
    hangs up (each driver's thread watches for its own app, so the function is made per driver), and which
    redraws after SIGCONT only when it stopped itself."""

    def __init__(self, app: Any, **options: Any) -> None:
        super().__init__(app, **options)
        watched = _tolerant_input_thread(app, terminal=self.input_tty)
        if watched is not None:
            self.run_input_thread = MethodType(watched, self)  # type: ignore[method-assign]

    def _sigcont_application(self, *_: Any) -> None:
        """Set the terminal up again only after a suspend of our own (Ctrl+Z, `action_suspend_process`).
        A stop from outside (SIGSTOP: the server holding a shared view's renderer while the presenter's
        key is drawn, a debugger) never took the terminal away, and Textual's answer to the SIGCONT, a
        whole new screen, would cost a renderer a full redraw and its followers a full screen each."""
        if self._must_signal_resume:
            super()._sigcont_application(*_)


__all__ = ["TolerantLinuxDriver"]


def tolerant(driver: type[Driver]) -> type[Driver]:
    """Textual's Linux driver made tolerant; any other driver (one chosen through TEXTUAL_DRIVER, or another
    platform's) left alone."""
    if driver.__name__ == "LinuxDriver" and driver.__module__ == "textual.drivers.linux_driver":
        return TolerantLinuxDriver
    return driver
