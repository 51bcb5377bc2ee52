"""A crash in a visitor's simulator: a short apology on their terminal, the details in the server's log.

Textual reports an unhandled exception after it has restored the terminal, by printing a Rich traceback
(with local variables and install paths) on `App.error_console`; every path ends there (an exception in
a handler, a worker or a timer, a panic from the input thread, a stylesheet error). Over `knobtui serve`
that console is this report's instead: the visitor sees two short lines, the server's log the whole
traceback as plain text.
"""

from __future__ import annotations

import io
import os
import sys
import traceback
from datetime import datetime, timezone
from typing import TextIO

from rich.console import Console

from ..wire import CRASH_LOG_ENV

APOLOGY = "knobtui hit a bug and has to stop; sorry.\nThe server's log has the details.\n"


def first_exception(app: object) -> BaseException | None:
    """The first unhandled exception of an app's run, or None.

    Textual keeps it in `App._exception` and offers no public way to read it (it re-raises it only under
    its test pilot). The crash report wants Python's own plain traceback of it before Textual's Rich one,
    so it is read here, the one place knobtui touches it."""
    first = getattr(app, "_exception", None)
    return first if isinstance(first, BaseException) else None


class CrashReport:
    """Collects what Textual would print about a crash, to write it to the log instead of the terminal."""

    def __init__(self, log_path: str | None) -> None:
        self.log_path = log_path
        self._text = io.StringIO()
        self.console = Console(file=self._text, color_system=None, force_terminal=False, width=120,
                               markup=False, highlight=False, emoji=False, soft_wrap=False)
        """For `App.error_console`: what is printed on it is kept, plain, for the log."""

    @property
    def crashed(self) -> bool:
        return bool(self._text.getvalue())

    def add_exception(self, exc: BaseException, before: bool = False) -> None:
        """An exception as Python's own plain traceback, after (or `before`) what is there."""
        text = "".join(traceback.format_exception(exc))
        if before:
            rest = self._text.getvalue()
            self._text.seek(0)
            self._text.truncate()
            self._text.write(text + "\n" + rest)
        else:
            self._text.write(text)

    def finish(self, terminal: TextIO | None = None) -> None:
        """Append the details to the log (created 0600), then apologise on the terminal."""
        if self.log_path:
            stamp = datetime.now(timezone.utc).isoformat(timespec="seconds")
            details = self._text.getvalue().rstrip("\n")
            try:
                _append(self.log_path, f"--- knobtui crashed (pid {os.getpid()}, {stamp}) ---\n{details}\n")
            except OSError:
                pass  # nowhere to put the details; the visitor still gets the apology
        out = terminal or sys.__stderr__
        if out is not None:
            try:
                out.write(APOLOGY)
                out.flush()
            except OSError:
                pass


def _append(path: str, text: str) -> None:
    """Append to `path`, creating it readable by the server's user alone; never through a symlink."""
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8", errors="replace") as out:
        out.write(text)


__all__ = ["APOLOGY", "CRASH_LOG_ENV", "CrashReport"]
