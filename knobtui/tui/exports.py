"""Writing down (`e`, `E`, `s`): the run as CSV or JSON lines, the screen as SVG, each a new file in the
current folder, within the session's file quota (tui/limits.py)."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from ..learning import PRESETS, Session
from ..records import TooBig, estimate_export_bytes, export_session, write_new_file
from .limits import FileQuota, human_bytes

if TYPE_CHECKING:
    from .host import Host

EXPORT_AT_ONCE = 250_000
"""An export estimated at up to this many bytes (about 1,700 iterations, ~20 ms) is written at once; a
longer one in a thread."""


class Exports:
    """The files one app writes, against its quota; one long export at a time."""

    def __init__(self, host: Host) -> None:
        self.host = host
        self.files = FileQuota(host.limits)
        self.writing: str | None = None  # what a long export being written in a thread is writing

    def _stem(self) -> str:
        """knobtui-<preset>; never a path (a follower's preset name comes from elsewhere)."""
        preset = self.host.preset
        return f"knobtui-{preset if preset in PRESETS else 'session'}"

    def _refused(self, title: str, size: int | None = None, about: bool = False) -> bool:
        """Say why another file (of `size` bytes) cannot be written now, if it cannot; True then."""
        if self.writing is not None:
            self.host.say(f"still writing the last export ({self.writing})", title=title, severity="warning")
            return True
        refusal = self.files.refusal(size, about)
        if refusal is not None:
            self.host.say(refusal, title=title, severity="warning")
            return True
        return False

    def export(self, fmt: str) -> None:
        """Write every iteration (and the knobs it was taken under) to a new file in the current directory.

        A short history is written at once. A long one is written in a thread, from a copy of the
        session, a line at a time (2.5 million iterations are 741 MB of JSON lines): the keys keep
        working, and the message says how big it will be. A served session writes only what its
        quota has left, and says what is left."""
        if self._refused("Export"):
            return
        session = self.host.session
        estimate = estimate_export_bytes(session, fmt)
        left = self.files.bytes_left
        if left is not None and estimate > left * 1.1:  # clearly too big: refuse before writing any of it
            self._refused("Export", estimate, about=True)
            return
        stem = self._stem()
        if estimate <= EXPORT_AT_ONCE:
            try:
                path, size = export_session(session, fmt, Path.cwd(), stem, max_bytes=left)
            except (TooBig, OSError, ValueError) as exc:
                self._failed(exc)
                return
            self._written(path, size, session.iteration)
            return
        self.writing = f"about {human_bytes(estimate)} ({session.iteration:,} iterations)"
        self.host.say(f"writing {self.writing} to a new file in {Path.cwd()}", title="Export")
        self.host.run_worker(self._in_thread(session.copy(), fmt, stem, left), group="export")

    def _failed(self, exc: Exception) -> None:
        if isinstance(exc, TooBig):
            self.host.say(self.files.too_big(), title="Export", severity="warning")
        else:
            self.host.say(f"could not export: {exc}", title="Export", severity="error")

    async def _in_thread(self, session: Session, fmt: str, stem: str, left: int | None) -> None:
        stop = threading.Event()
        try:
            path, size = await asyncio.to_thread(export_session, session, fmt, Path.cwd(), stem, left, stop.is_set)
        except asyncio.CancelledError:  # the app is closing: the thread stops at its next piece, leaving no file
            stop.set()
            raise
        except (TooBig, OSError, ValueError) as exc:
            self._failed(exc)
            return
        finally:
            self.writing = None
        self._written(path, size, session.iteration)

    def _written(self, path: Path, size: int, iterations: int) -> None:
        self.files.spend(size)
        left = self.files.left()
        self.host.say(f"{iterations} iteration{'s' if iterations != 1 else ''} written to {path} "
                     f"({human_bytes(size)}{'; ' + left if left else ''})", title="Export")

    def screenshot(self) -> None:
        svg = self.host.export_screenshot()
        size = len(svg.encode("utf-8"))
        if self._refused("Screenshot", size):
            return
        try:
            path = write_new_file(Path.cwd(), self._stem(), "svg", svg)
        except OSError as exc:
            self.host.say(f"could not save a screenshot: {exc}", title="Screenshot", severity="error")
            return
        self.files.spend(size)
        self.host.say(f"saved {path}", title="Screenshot")
