"""ASCII mode for the parts Textual draws itself: scrollbar ends, the command palette, key names.

Borders and rules are CSS (ascii.tcss); these are the characters CSS cannot reach.
"""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import App
from textual.command import CommandList, CommandPalette, SearchIcon
from textual.message import Message
from textual.scrollbar import ScrollBarRender
from textual.widget import Widget
from textual.widgets import Button, Input, OptionList


class PlainScrollBarRender(ScrollBarRender):
    """A scrollbar whose thumb is whole cells of reversed spaces, without the eighth-block ends (▂ ▎)."""

    VERTICAL_BARS = [" "] * 8
    HORIZONTAL_BARS = [" "] * 8


def plain_scrollbars(widget: Widget) -> None:
    """Draw this widget's scrollbars with spaces only (Textual's per-instance `renderer`, so other apps keep theirs)."""
    widget.vertical_scrollbar.renderer = PlainScrollBarRender
    widget.horizontal_scrollbar.renderer = PlainScrollBarRender


class SafeCommandPalette(CommandPalette):
    """Textual's command palette, but what was already queued when it closed is dropped.

    Ctrl+P then two Enters in one read (a paste, a fast client over SSH) queue two selections before
    the first is handled; the first closes the palette and runs the command, and Textual 8.2.8 then
    handles the second too: it dismisses the palette again, pops the last screen off the stack and
    ends the app with ScreenStackError (and would run the command twice).
    """

    @on(Input.Submitted)
    @on(OptionList.OptionSelected)
    @on(Button.Pressed)
    def _drop_when_closed(self, event: Message) -> None:
        if not self.is_active:  # already dismissed: CommandPalette's own handlers must not see this
            event.stop()
            event.prevent_default()


class PlainCommandPalette(SafeCommandPalette):
    """Textual's command palette without the magnifier emoji, the ellipsis or the eighth-block list scrollbar.

    Its ▔ ▁ rules are `hkey` borders, replaced in ascii.tcss.
    """

    def __init__(self) -> None:
        super().__init__(placeholder="Search for commands...", id="--command-palette")

    def on_mount(self) -> None:
        self.query_one(SearchIcon).icon = ">"
        plain_scrollbars(self.query_one(CommandList))


KEY_NAMES = str.maketrans({"↑": "up", "↓": "down", "←": "left", "→": "right", "⏎": "enter", "⌫": "backspace"})
"""Textual's key symbols (Keys panel, footer) as words."""


def plain_key_display(display: str, key: str) -> str:
    """A key as Textual writes it (`App.get_key_display`), in ASCII: words for arrows, else the key's name."""
    if display.isascii():
        return display
    display = display.translate(KEY_NAMES)
    return display if display.isascii() else key


def open_palette(app: App[Any]) -> None:
    """Textual's command palette (one that survives keys queued behind the one that closes it); in ASCII
    mode one without its emoji, ellipsis and block rules."""
    if app.use_command_palette and not CommandPalette.is_open(app):
        ascii = getattr(app, "ascii", False)
        app.push_screen(PlainCommandPalette() if ascii else SafeCommandPalette(id="--command-palette"))
