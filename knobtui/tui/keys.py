"""Every key of the simulator, described once.

One table feeds the bindings, the key bar at the bottom of the screen, the command palette, the help
screen's key table and what a follower may press in presenter mode; a test holds the README's key
table to it.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding, BindingType

from ..learning import PRESETS
from ..learning.session import DEFAULT_FAST_FORWARD_LIMIT

PRESET_KEYS = "1234567890"
"""Preset keys, in the order of PRESETS."""


@dataclass(frozen=True, slots=True)
class Key:
    """One thing a key does."""

    keys: str  # Textual key names, comma-separated
    action: str  # the App action, with its arguments
    title: str  # the palette's title (empty: not in the palette)
    help: str  # what it does, for help and the palette
    shown: str = ""  # how help and the README write the key ('' = not in help's table)
    bar: str = ""  # the key bar's word (empty: not in the key bar)
    bar_key: str = ""  # the key as the key bar writes it (default: `shown`)
    rank: int = 9  # the key bar keeps low ranks longest when the line is short
    when: str = ""  # the key bar shows it only: 'lesson', 'follower' (following), 'detached', 'presenter'
    follower_ok: bool = False  # a follower may press it while following the presenter


KEYS: tuple[Key, ...] = (
    Key("space", "step", "Step", "one iteration: predict, compare, learn", "space", "step", rank=0),
    Key("b", "back", "Step back", "step back one iteration", "b", "back", rank=3),
    Key("p", "play", "Play / pause", "play / pause autoplay (it stops where learning stops)", "p", "play", rank=5),
    Key("plus,equals_sign", "speed(1)", "Autoplay faster", "autoplay faster / slower (1 to 5000 iterations a second)",
        "+ / -"),
    Key("minus,underscore", "speed(-1)", "Autoplay slower", "autoplay slower"),
    Key("f", "fast_forward", "Fast-forward",
        f"fast-forward until converged (or {DEFAULT_FAST_FORWARD_LIMIT} iterations)", "f", "ffwd", rank=6),
    Key("m", "switch_method", "Switch method", "switch hot and cold / gradient descent (the history keeps what happened)",
        "m", "method", rank=8),
    Key("u", "undo", "Undo", "undo a preset, reset or method switch: back to the run and its history", "u", "undo",
        rank=4),
    Key("r", "reset", "Reset", "reset to the preset", "r"),
    Key("a", "predict", "Predict mode", "predict mode: space asks where the step will go before it runs; a again: off. "
        "Presenting: ask the room", "a", "ask room", rank=1, when="presenter"),
    Key("j", "join", "Join screen", "presenting: the join screen for the projector (the address, a QR code, "
        "how many follow); j or escape closes it", "j", "join", rank=2, when="presenter"),
    Key("up", "select(-1)", "", "select a knob", "up / down", "knob", "↑↓←→", rank=1),
    Key("down", "select(1)", "", ""),
    Key("left", "nudge(-1)", "", "nudge the knob by a tenth of its leading digit; shift+arrow or , . for a whole digit",
        "left / right"),
    Key("right", "nudge(1)", "", ""),
    Key("shift+left,comma", "nudge(-1, True)", "", ""),
    Key("shift+right,full_stop", "nudge(1, True)", "", ""),
    Key("enter", "edit", "", "type an exact value (escape cancels); a bad entry is refused, the old value kept",
        "enter", "type", rank=1),
    Key("g", "toggle_plot", "Curve / error per iteration", "error curve / error per iteration on a log scale", "g",
        "view", rank=3, follower_ok=True),
    Key("c", "compare", "Compare methods", "compare both methods from the same knobs, with the iterations each needs",
        "c", "compare", rank=8, follower_ok=True),
    Key("pageup", "log_page(-1)", "", "scroll the iteration log (home / end: first / newest)", "pgup / pgdn",
        "log", "pgup", rank=4, follower_ok=True),
    Key("pagedown", "log_page(1)", "", "", follower_ok=True),
    Key("home", "log_end(-1)", "", "", follower_ok=True),
    Key("ctrl+l", "repaint", "", "redraw the whole screen", "ctrl+l", follower_ok=True),
    Key("end", "log_end(1)", "", "", follower_ok=True),
    Key("e", "export('csv')", "Export CSV", "export every iteration (with its knobs) as CSV / JSON lines to a new file here, never overwriting",
        "e / E", follower_ok=True),
    Key("E", "export('jsonl')", "Export JSON lines", "export every iteration as JSON lines to a new file here",
        follower_ok=True),
    Key("s", "screenshot", "Save screenshot", "save an SVG screenshot of the screen to a new file here", "s",
        follower_ok=True),
    Key("t", "next_theme", "Next theme", "next theme (remembered for next time)", "t", follower_ok=True),
    Key("n", "lesson(1)", "Next lesson step", "next / previous lesson step (with --lesson)", "n / N", "next",
        "n/N", rank=0, when="lesson"),
    Key("N", "lesson(-1)", "Previous lesson step", ""),
    Key("d", "detach", "Play alone", "presenter mode: play alone / follow the presenter again", "d / F", "alone",
        "d", rank=0, when="follower", follower_ok=True),
    Key("F", "follow", "Follow the presenter", "", bar="follow", bar_key="F", rank=0, when="detached", follower_ok=True),
    Key("question_mark", "help", "Help", "help: the chapter's ideas, tied to the screen", "?", "help", rank=0,
        follower_ok=True),
    Key("q", "quit", "Quit", "quit", "q", "quit", rank=2, follower_ok=True),
) + tuple(
    Key(key, f"preset({name!r})", f"Preset: {name}", f"{key}: {preset.shows}")
    for key, (name, preset) in zip(PRESET_KEYS, PRESETS.items())
)
"""Every key, in the order help lists them."""

FOLLOWER_ACTIONS = frozenset(k.action.split("(")[0] for k in KEYS if k.follower_ok) | {"command_palette"}
"""What a follower may do while following: look, save, leave; nothing that changes the state."""


def bindings() -> list[BindingType]:
    """The App's bindings, none shown by Textual's footer (the key bar draws its own)."""
    return [Binding(k.keys, k.action, k.title or k.help, show=False, id=k.keys) for k in KEYS]


def help_rows() -> list[tuple[str, str]]:
    """(key, what it does) for help's key table and the README's, the presets in one row after r."""
    rows = [(k.shown, k.help) for k in KEYS if k.shown]
    at = next(n for n, row in enumerate(rows) if row[0] == "r") + 1
    rows.insert(at, ("1-9, 0", f"load a preset ({preset_summary()})"))
    rows.append(("ctrl+p", "command palette: every action, preset and theme by name"))
    return rows


SHARED_VIEW_ACTIONS = frozenset({"detach", "quit"})
"""What a follower in a shared view of `knobtui serve` may press: the server reads their keys
(serve/visit.py), and besides an answer to the room's question those are all it takes."""


def bar_entries(when: set[str], ascii: bool = False) -> list[tuple[str, str, int]]:
    """(key, word, rank) for the key bar, in the order shown, for the situation `when` names: a follower
    is offered only what a follower may press ('shared': in a shared view, only d and q)."""
    out = []
    for k in KEYS:
        if "shared" in when and k.action not in SHARED_VIEW_ACTIONS:
            continue
        if "follower" in when and not k.follower_ok:
            continue
        if k.bar and (not k.when or k.when in when):
            key = k.bar_key or k.shown
            if ascii:
                key = key.replace("↑↓←→", "arrows")
            out.append((key, k.bar, k.rank))
    return out


def preset_summary() -> str:
    """'toes, hot-cold, ...' in key order, for help."""
    return ", ".join(PRESETS)
