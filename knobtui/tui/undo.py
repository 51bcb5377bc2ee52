"""Undo (`u`): presets, resets and method switches throw a run away; `u` brings it back, history and all."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..learning import Session

if TYPE_CHECKING:
    from .app import KnobApp

UNDO_DEPTH = 20
"""Presets, resets and method switches that `u` can take back."""


class Undo:
    """The runs thrown away, newest last, at most UNDO_DEPTH."""

    def __init__(self, app: KnobApp) -> None:
        self.app = app
        self._kept: list[tuple[Session, str]] = []

    def keep(self) -> None:
        """Remember the app's run (a copy of its session) and preset before a change throws it away."""
        self._kept = [*self._kept, (self.app.session.copy(), self.app.preset)][-UNDO_DEPTH:]

    def start_over(self, session: Session, preset: str) -> None:
        """A new run replaces the app's (which `u` can bring back)."""
        app = self.app
        app.autoplay.stop()
        self.keep()
        app.session, app.preset, app.knob_message = session, preset, ""
        app.publish(rebuild_log=True)

    def undo(self) -> None:
        app = self.app
        if not self._kept:
            app.say("nothing to undo (u takes back a preset, a reset or a method switch)", title="Undo")
            return
        app.autoplay.stop()
        app.session, app.preset = self._kept.pop()
        app.knob_message = ""
        app.publish(rebuild_log=True)
        app.say(f"back to preset {app.preset} at iteration {app.session.iteration}", title="Undo")
