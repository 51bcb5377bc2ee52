"""Command-palette entries: the simulator's actions with their keys (from the one key table), every
preset, both methods and the themes."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from textual.app import SystemCommand

from ..learning import METHOD_NAMES, METHODS
from .keys import KEYS
from .themes import theme_names

if TYPE_CHECKING:
    from textual.screen import Screen

    from .app import KnobApp

def simulator_commands(app: KnobApp) -> Iterator[SystemCommand]:
    """Every key with a palette title (tui/keys.py), then the methods by name and the themes."""
    for k in KEYS:
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


def system_commands(app: KnobApp, screen: Screen[object], textuals: Iterable[SystemCommand]) -> Iterator[SystemCommand]:
    """Textual's own commands, less its theme picker (it would offer themes without knobtui's colours), its
    Keys panel and its Screenshot (help and s say the same), then the simulator's."""
    yield from (c for c in textuals if c.title not in ("Theme", "Keys", "Screenshot"))
    yield from simulator_commands(app)
