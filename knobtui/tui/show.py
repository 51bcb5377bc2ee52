"""`show(stage)`: the one place a stage reaches the widgets.

Each widget draws from its own few reactives; this table says which field of the stage each one takes.
Only what changed between two stages is handed over, so a new status message does not redraw the curve.
The iteration log is the one part that reads the session itself (`show_log`): it pages through a history
of millions of iterations lazily, which no immutable value should copy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from textual.dom import DOMNode

    from ..learning import Session
    from .stage import Stage

WIRING: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    ("#lesson", (("lesson_note", "note"), ("lesson_heading", "heading"))),
    ("#knobs", (("hidden", "hidden"), ("selected", "selected"), ("knob_message", "message"), ("view", "view"),
                ("editing", "editing"))),
    ("#plot", (("curve_at_once", "at_once"), ("per_iteration", "per_iteration"), ("playing", "playing"),
               ("view", "view"))),
    ("#arithmetic", (("hidden", "hidden"), ("arithmetic_rows", "rows"), ("view", "view"))),
    ("#status", (("hidden", "hidden"), ("playing", "playing"), ("link_status", "link"), ("status_extra", "extra"),
                 ("note", "note"), ("note_brief", "note_brief"), ("view", "view"))),
    ("#keys", (("keys_shown", "entries"),)),
)
"""(widget, ((stage field, widget reactive), ...)) in the order they are handed over: what is hidden
before the view it hides from."""


def show(root: DOMNode, stage: Stage, before: Stage | None = None) -> None:
    """Hand the widgets under `root` the fields of `stage` that differ from `before` (all of them without)."""
    for selector, fields in WIRING:
        widget = root.query_one(selector)
        for field, reactive in fields:
            value = getattr(stage, field)
            if before is not None:
                old = getattr(before, field)
                if old is value or old == value:
                    continue
            setattr(widget, reactive, value)


def show_log(root: DOMNode, session: Session, rebuild: bool = False) -> None:
    """Bring the iteration log in line with the session (a rebuild after the history was replaced)."""
    from .widgets import IterationLog
    root.query_one("#log", IterationLog).sync(session, rebuild)
