"""The knob panel: five knobs, one selected, nudged with the arrows or typed exactly with Enter."""

from __future__ import annotations

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.reactive import var
from textual.widget import Widget
from textual.widgets import Input, Static

from ...learning import KNOB_LABELS, KNOB_NAMES
from ...learning.view import View
from ..glyphs import glyphs
from ..numbers import SHORTEST, fit
from .lines import LineMixin

KNOB_SHORT = {"weight": "weight", "input": "input", "goal": "goal", "alpha": "alpha", "step_amount": "step"}
"""Labels for a narrow panel."""


class KnobRows(LineMixin, Widget):
    """The knob rows; the selected one is marked and highlighted."""

    DEFAULT_CSS = """
    KnobRows { height: auto; }
    """

    view: var[View | None] = var(None)
    """The session view whose knobs are shown."""
    selected: var[int] = var(0)
    """Index of the selected knob in KNOB_NAMES."""
    hidden: var[frozenset[str]] = var(frozenset())
    """Knobs a lesson does not need yet."""
    ascii: var[bool] = var(False)
    """Draw with plain ASCII."""

    def watch_view(self) -> None:
        self.redraw()

    def watch_selected(self) -> None:
        self.redraw()

    def watch_hidden(self) -> None:
        self.redraw()

    def make_renderable(self) -> Text | None:
        view = self.view
        if view is None:
            return None
        text = Text(no_wrap=True, overflow="crop")
        values = view.knobs.as_dict()
        uses = "alpha" if view.method == "gradient" else "step_amount"
        unused = "step_amount" if view.method == "gradient" else "alpha"
        rows = [k for k in KNOB_NAMES if k not in self.hidden]
        width = self.size.width
        label_width = max(len(KNOB_LABELS[k]) for k in rows) if rows else 0
        longest = max((len(repr(values[k])) for k in rows), default=0)
        if width - 3 - label_width < longest:  # narrow: short names make room for the digits
            label_width = max(len(KNOB_SHORT[k]) for k in rows) if rows else 0
        for name in rows:
            mark = f"{glyphs(self.ascii).select} " if KNOB_NAMES[self.selected] == name else "  "
            style = "reverse" if mark.strip() else ("dim" if name == unused else "")
            label = KNOB_LABELS[name] if len(KNOB_LABELS[name]) <= label_width else KNOB_SHORT[name]
            value = fit(values[name], max(SHORTEST, width - 3 - label_width))
            line = Text.assemble((mark, "bold"), (f"{label:<{label_width}} ", "bold" if name == uses else ""),
                                 value, style=style)
            text.append_text(line)
            text.append("\n")
        text.rstrip()
        return text


class KnobPanel(Vertical):
    """Knob rows, an editor for typing an exact value, and a line for the last refusal."""

    DEFAULT_CSS = """
    KnobPanel { height: auto; border: round $primary; border-title-color: $text; padding: 0 1; }
    KnobPanel > #knob-editor { display: none; height: 1; border: none !important; padding: 0 1 !important; background: $boost; }
    KnobPanel.-editing > #knob-editor { display: block; }
    KnobPanel > #knob-message { color: $error; height: auto; }
    """

    class Edited(Message):
        """The person typed `text` for `knob` and pressed Enter."""

        def __init__(self, knob: str, text: str) -> None:
            super().__init__()
            self.knob = knob
            self.text = text

    class Cancelled(Message):
        """Escape in the editor: nothing changes."""

    view: var[View | None] = var(None)
    """The session view whose knobs are shown."""
    selected: var[int] = var(0)
    """Index of the selected knob."""
    message: var[str] = var("")
    """Why the last entry was refused (empty when it was not)."""
    hidden: var[frozenset[str]] = var(frozenset())
    """Knobs a lesson hides."""
    ascii: var[bool] = var(False)
    """Draw with plain ASCII."""
    editing: var[bool] = var(False)
    """The editor is open (the app's `editing`, bound down)."""

    _subtitle = ""

    def compose(self) -> ComposeResult:
        yield KnobRows().data_bind(KnobPanel.view, KnobPanel.selected, KnobPanel.hidden, KnobPanel.ascii)
        yield Input(id="knob-editor", select_on_focus=True, disabled=True)
        yield Static("", id="knob-message")

    def on_mount(self) -> None:
        self.border_title = "Knobs"
        self.query_one(Input).cursor_blink = False

    def watch_view(self, view: View | None) -> None:
        # the preset the knobs came from, on the panel's lower edge (set only when it changes: a border
        # title repaints the whole panel)
        preset = f"preset {view.preset}" if view is not None else ""
        if preset != self._subtitle:
            self._subtitle = preset
            self.border_subtitle = Content(preset)  # plain text: a follower's preset name comes from elsewhere

    def watch_message(self, message: str) -> None:
        # never markup: the message quotes what was typed ('[/x]' would raise, '[@click=...]' would act)
        self.query_one("#knob-message", Static).update(Text(message))

    def watch_editing(self, editing: bool) -> None:
        """Open the editor on the selected knob with its value typed in, or close it."""
        editor = self.query_one(Input)
        if editing and self.view is not None:
            knob = KNOB_NAMES[self.selected]
            self._editing_knob = knob
            editor.placeholder = KNOB_LABELS[knob]
            editor.value = repr(getattr(self.view.knobs, knob))
            editor.disabled = False
            self.add_class("-editing")
            editor.focus()
        elif not editing:
            self.remove_class("-editing")
            if editor.has_focus:
                self.screen.set_focus(None)
            editor.disabled = True

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.post_message(self.Edited(getattr(self, "_editing_knob", KNOB_NAMES[self.selected]), event.value))

    def on_key(self, event: events.Key) -> None:
        if event.key == "escape" and self.editing:
            event.stop()
            self.post_message(self.Cancelled())
