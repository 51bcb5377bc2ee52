"""The knob panel's keys: ↑↓ select a knob, ←→ nudge it, Enter types an exact value (a refused entry
keeps the old value and says why)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..learning import KNOB_NAMES, KnobError, parse_number
from ..learning.view import nudge

if TYPE_CHECKING:
    from .app import KnobApp


class KnobControls:
    """Turns knob keys into Session.set_knobs calls on the app's session."""

    def __init__(self, app: KnobApp) -> None:
        self.app = app

    def select(self, change: int) -> None:
        """Select the next (or previous) knob that is shown."""
        app = self.app
        shown = [i for i, name in enumerate(KNOB_NAMES) if name not in app.hidden] or [app.selected]
        at = shown.index(app.selected) if app.selected in shown else 0
        if not app.editing:
            app.selected = shown[(at + change) % len(shown)]

    def nudge(self, direction: int, coarse: bool) -> None:
        knob = KNOB_NAMES[self.app.selected]
        if not self.app.editing:
            value = getattr(self.app.session.knobs, knob)
            self.set(knob, nudge(value, direction, coarse, positive=knob == "step_amount"))

    def typed(self, knob: str, text: str) -> None:
        """An entry from the editor: set it and close the editor, or refuse it and keep the editor open."""
        try:
            value = parse_number(knob, text)
        except KnobError as exc:
            self.app.knob_message = f"{exc}; kept {getattr(self.app.session.knobs, knob)!r}"
            self.app.say(self.app.knob_message, title="Refused", severity="error")
            return
        self.app.editing = False
        self.set(knob, value)

    def set(self, knob: str, value: float) -> None:
        app = self.app
        try:
            app.session.set_knobs(**{knob: value})
        except KnobError as exc:
            app.knob_message = f"{exc}; kept {getattr(app.session.knobs, knob)!r}"
            return
        app.knob_message = ""
        app.publish()
