"""Command-palette entries: every preset, both methods, and the simulator's actions with their keys."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from textual.app import SystemCommand

from ..learning import METHOD_NAMES, METHODS, PRESETS
from .themes import theme_names

if TYPE_CHECKING:
    from .app import KnobApp

ACTIONS = (
    ("Step", "space: one iteration (predict, compare, learn)", "step"),
    ("Step back", "b: back one iteration", "back"),
    ("Play / pause", "p: autoplay", "play"),
    ("Fast-forward", "f: until converged or 100000 iterations", "fast_forward"),
    ("Compare methods", "c: hot and cold vs gradient descent from these knobs", "compare"),
    ("Reset", "r: back to the preset", "reset"),
    ("Toggle curve / error per iteration", "g: the log-scale view", "toggle_plot"),
    ("Help", "?: the chapter and the keys", "help"),
    ("Autoplay faster", "+", "speed(1)"),
    ("Autoplay slower", "-", "speed(-1)"),
    ("Export CSV", "e: every iteration and its knobs, to a new file here", "export('csv')"),
    ("Export JSON lines", "E: every iteration and its knobs, to a new file here", "export('jsonl')"),
    ("Save screenshot", "s: an SVG of the screen, to a new file here", "screenshot"),
    ("Next theme", "t", "next_theme"),
)


def simulator_commands(app: KnobApp) -> Iterator[SystemCommand]:
    for key, (name, preset) in zip("1234567890", PRESETS.items()):
        yield SystemCommand(f"Preset: {name}", f"{key}: {preset.shows}",
                            lambda name=name: app.run_action(f"preset({name!r})"))
    for method in METHODS:
        yield SystemCommand(f"Method: {METHOD_NAMES[method]}", "m switches methods",
                            lambda method=method: app.run_action(f"method({method!r})"))
    for title, help_text, action in ACTIONS:
        yield SystemCommand(title, help_text, lambda action=action: app.run_action(action))
    for name in theme_names():
        yield SystemCommand(f"Theme: {name}", "t cycles the themes; the choice is remembered",
                            lambda name=name: setattr(app, "theme", name))
