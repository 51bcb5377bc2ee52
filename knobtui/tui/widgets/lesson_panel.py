"""The lesson panel: which step of the presenter's script this is, and the note to read out."""

from __future__ import annotations

from rich.text import Text
from textual.content import Content
from textual.reactive import var
from textual.widgets import Static


class LessonPanel(Static):
    """'Lesson title · step k of n' and the note; hidden when no lesson runs."""

    DEFAULT_CSS = """
    LessonPanel { display: none; height: auto; max-height: 5; border: round $accent; padding: 0 1; }
    LessonPanel.-shown { display: block; }
    """

    note: var[str] = var("")
    """The note of the current lesson step."""
    heading: var[str] = var("")
    """'title · step k of n' (empty: no lesson)."""

    _title = ""

    def _show(self) -> None:
        self.set_class(bool(self.heading or self.note), "-shown")
        if self.heading != self._title:  # set only when it changes: a border title repaints the panel
            self._title = self.heading
            self.border_title = Content(self.heading)  # plain text: a lesson file's title is not markup
        self.update(Text(self.note))

    def watch_note(self) -> None:
        self._show()

    def watch_heading(self) -> None:
        self._show()
