"""What the helpers around the app may ask of it: `Host`, a Protocol the app satisfies.

The helpers (autoplay.py, undo.py, predicting.py, room_quiz.py, lesson_player.py, presenting.py,
knob_controls.py, exports.py, the palette and the looks) import this and never the app, so the app can
import them all without a circle. What a helper changes on the screen it changes by giving the app the
next stage (`host.stage = host.stage.saying(...)`); the app's `watch_stage` hands it to `show`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from textual.screen import Screen
    from textual.timer import Timer

    from ..learning import Session
    from .glyphs import Glyphs
    from .keys import Key
    from .limits import Limits
    from .stage import Stage


class Host(Protocol):
    """The app, as its helpers see it."""

    session: Session
    """The run on screen (mutable: the engine's compact history)."""
    preset: str
    """The preset the run started from (or the presenter's)."""
    limits: Limits
    """A served session's ceilings (history, files)."""
    key_table: tuple[Key, ...]
    """Every key, with the user's keymap."""
    ascii: bool
    glyphs: Glyphs
    stage: Stage
    """Everything the screen shows; assigning the next one shows it."""

    def say(self, message: str, title: str = "", severity: str = "information", brief: str = "") -> None: ...

    def publish(self, rebuild_log: bool = False) -> None:
        """The session changed: a new view on the stage, the log in line, the room told."""

    def plain_step(self) -> None: ...

    def history_full(self) -> bool: ...

    def show_keys(self) -> None: ...

    def fit(self, width: int | None = None, height: int | None = None) -> None: ...

    @property
    def showing(self) -> bool:
        """The simulator's widgets are there (not yet, or no longer while the app closes)."""

    # Textual's own, as App has them
    @property
    def is_running(self) -> bool: ...

    def set_interval(self, interval: float, callback: Callable[[], Any]) -> Timer: ...

    def push_screen(self, screen: Screen[Any], callback: Callable[[Any], Any] | None = None) -> Any: ...

    def run_worker(self, work: Any, **kwargs: Any) -> Any: ...

    def refresh_bindings(self) -> None: ...

    def exit(self, result: Any = None, return_code: int = 0) -> None: ...

    def export_screenshot(self) -> str: ...
