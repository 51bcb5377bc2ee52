"""The knob panel's keys: ↑↓ select a knob, ←→ nudge it, Enter types an exact value (a refused entry
keeps the old value and says why)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..learning import KNOB_NAMES, KnobError, parse_number
from ..learning.view import nudge

if TYPE_CHECKING:
    from .host import Host


class KnobControls:
    """Turns knob keys into Session.set_knobs calls on the host's session."""

    def __init__(self, host: Host) -> None:
        self.host = host

    def select(self, change: int) -> None:
        """Select the next (or previous) knob that is shown."""
        self.host.stage = self.host.stage.select(change)

    def nudge(self, direction: int, coarse: bool) -> None:
        stage = self.host.stage
        knob = KNOB_NAMES[stage.selected]
        if not stage.editing:
            value = getattr(self.host.session.knobs, knob)
            self.set(knob, nudge(value, direction, coarse, positive=knob == "step_amount"))

    def typed(self, knob: str, text: str) -> None:
        """An entry from the editor: set it and close the editor, or refuse it and keep the editor open."""
        host = self.host
        try:
            value = parse_number(knob, text)
        except KnobError as exc:
            message = f"{exc}; kept {getattr(host.session.knobs, knob)!r}"
            host.stage = host.stage.but(knob_message=message).saying(message, title="Refused", severity="error")
            return
        host.stage = host.stage.but(editing=False)
        self.set(knob, value)

    def set(self, knob: str, value: float) -> None:
        host = self.host
        try:
            host.session.set_knobs(**{knob: value})
        except KnobError as exc:
            host.stage = host.stage.but(knob_message=f"{exc}; kept {getattr(host.session.knobs, knob)!r}")
            return
        host.stage = host.stage.but(knob_message="")
        host.publish()
