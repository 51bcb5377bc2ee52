"""Command-palette entries: the simulator's actions with their keys (from the one key table), every
preset, both methods and the themes."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, cast

from textual.app import SystemCommand

from ..learning import METHOD_NAMES, METHODS
from .themes import theme_names

if TYPE_CHECKING:
    from textual.binding import Binding
    from textual.screen import Screen

    from .host import Host

def simulator_commands(app: Host) -> Iterator[SystemCommand]:
    """Every key with a palette title (tui/keys.py), then the methods by name and the themes."""
    for k in app.key_table:
        if k.title:
            key = k.shown.split(" / ")[0] if k.shown else k.keys.split(",")[0]
            what = k.help if k.title.startswith("Preset:") else f"{key}: {k.help or k.title.lower()}"
            yield SystemCommand(k.title, what, lambda action=k.action: app.run_action(action))
    for method in METHODS:
        yield SystemCommand(f"Method: {METHOD_NAMES[method]}", "m switches methods",
                            lambda method=method: app.run_action(f"method({method!r})"))
    for name in theme_names():
        yield SystemCommand(f"Theme: {name}", "t cycles the themes; the choice is remembered",
                            lambda name=name: setattr(app, "theme", name))


class PaletteMixin:
    """The app's command palette (ctrl+p) and how keys are written in it: a room of the app."""

    def action_command_palette(self) -> None:
        """Textual's command palette, one that survives keys queued behind the one that closes it (in ASCII
        mode one without emoji, ellipsis and block rules)."""
        from .screens.plain import open_palette
        open_palette(cast("Host", self))

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        """Textual's own commands, less its theme picker (it would offer themes without knobtui's colours),
        its Keys panel and its Screenshot (help and s say the same), then the simulator's."""
        textuals = super().get_system_commands(screen)  # type: ignore[misc]  # App's, next in the app's MRO
        yield from (c for c in textuals if c.title not in ("Theme", "Keys", "Screenshot"))
        yield from simulator_commands(cast("Host", self))

    def get_key_display(self, binding: Binding) -> str:
        """In ASCII mode, words instead of arrows and the return symbol."""
        from .screens.plain import plain_key_display
        display: str = super().get_key_display(binding)  # type: ignore[misc]  # App's, next in the app's MRO
        return plain_key_display(display, binding.key) if cast("Host", self).ascii else display
