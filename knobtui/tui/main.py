"""Running the simulator in this terminal: the app, and what a visitor of `knobtui serve` sees if it fails."""

from __future__ import annotations

import os

from ..learning import Start
from ..learning.lesson import Lesson
from ..presenter.protocol import LinkConfig
from .app import KnobApp
from .crash import CRASH_LOG_ENV, CrashReport, first_exception
from .keys import KEYS, Key
from .limits import is_served
from .themes import theme_names


def run_app(start: Start, theme: str | None = None, ascii: bool = False,
            hidden: frozenset[str] = frozenset(), lesson: Lesson | None = None,
            keys: tuple[Key, ...] | None = None) -> int:
    """Run the simulator in this terminal; the exit status. The theme chosen is remembered for next time.

    A child of `knobtui serve` in presenter mode finds its relay in the environment (presenter/protocol.py).
    In a visitor's simulator (`knobtui serve` sets KNOBTUI_SERVED=1) a crash is not Textual's traceback
    on the visitor's screen but a short apology, with the details appended to the file KNOBTUI_CRASH_LOG
    names (tui/crash.py), and exit status 1; the session has the served limits (tui/limits.py), and the
    theme a visitor picks is not remembered for everyone else."""
    if theme is not None and theme not in theme_names():
        theme = None  # a remembered theme that no longer ships
    link = LinkConfig.from_env(os.environ)
    served = is_served(os.environ)
    if not served:
        app = KnobApp(start, theme=theme, remember=True, ascii=ascii, hidden=hidden, lesson=lesson, link=link,
                      keys=keys or KEYS)
        app.run()
        return app.return_code or 0
    report = CrashReport(os.environ.get(CRASH_LOG_ENV) or None)
    code: int | None = None
    try:
        app = KnobApp(start, theme=theme, ascii=ascii, hidden=hidden, lesson=lesson, link=link)
        app.error_console = report.console  # Textual prints a crash's traceback here, after restoring the terminal
        app.run()
        code = app.return_code
        if report.crashed:  # Python's own traceback first (Textual's report, with locals, follows)
            first = first_exception(app)
            if first is not None:
                report.add_exception(first, before=True)
    except Exception as exc:  # escaped Textual altogether (it restores the terminal on the way out)
        report.add_exception(exc)
    if report.crashed:
        report.finish()
        return 1
    return code or 0
