"""Every key of the simulator, described once, and the user's keymap.

One table feeds the bindings, the key bar at the bottom of the screen, the command palette, the help
screen's key table and what a follower may press in presenter mode; a test holds the README's key
table to it. Every key has an id (as posting's bindings do): a keymap file maps ids to other keys
(`~/.config/knobtui/keys.toml`, or `--keys FILE`), and `rebind` gives the table with them, its labels
written anew, so help, the key bar and the palette show the keys that work.
"""

from __future__ import annotations

import difflib
import os
import tomllib
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from textual.binding import Binding, BindingType

from ..learning import PRESETS
from ..learning.session import DEFAULT_FAST_FORWARD_LIMIT

PRESET_KEYS = "1234567890"
"""Preset keys, in the order of PRESETS."""


@dataclass(frozen=True, slots=True)
class Key:
    """One thing a key does."""

    id: str  # what a keymap calls it (stable: a user's keys.toml names it)
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
    aside: bool = False  # help's row above names it in words (shift+arrow, home / end), not in the key column
    bar_with: tuple[str, ...] = ()  # ids whose keys the key bar writes with this one ('↑↓←→', 'n/N')


KEYS: tuple[Key, ...] = (
    Key("step", "space", "step", "Step", "one iteration: predict, compare, learn", "space", "step", rank=0),
    Key("back", "b", "back", "Step back", "step back one iteration", "b", "back", rank=3),
    Key("play", "p", "play", "Play / pause", "play / pause autoplay (it stops where learning stops)", "p", "play", rank=5),
    Key("faster", "plus,equals_sign", "speed(1)", "Autoplay faster", "autoplay faster / slower (1 to 5000 iterations a second)",
        "+ / -"),
    Key("slower", "minus,underscore", "speed(-1)", "Autoplay slower", "autoplay slower"),
    Key("fast_forward", "f", "fast_forward", "Fast-forward",
        f"fast-forward until converged (or {DEFAULT_FAST_FORWARD_LIMIT} iterations)", "f", "ffwd", rank=6),
    Key("switch_method", "m", "switch_method", "Switch method", "switch hot and cold / gradient descent (the history keeps what happened)",
        "m", "method", rank=8),
    Key("undo", "u", "undo", "Undo", "undo a preset, reset or method switch: back to the run and its history", "u", "undo",
        rank=4),
    Key("reset", "r", "reset", "Reset", "reset to the preset", "r"),
    Key("predict", "a", "predict", "Predict mode", "predict mode: space asks where the step will go before it runs; a again: off. "
        "Presenting: ask the room", "a", "ask room", rank=1, when="presenter"),
    Key("join", "j", "join", "Join screen", "presenting: the join screen for the projector (the address, a QR code, "
        "how many follow); j or escape closes it", "j", "join", rank=2, when="presenter"),
    Key("knob_up", "up", "select(-1)", "", "select a knob", "up / down", "knob", "↑↓←→", rank=1,
        bar_with=("knob_down", "nudge_down", "nudge_up")),
    Key("knob_down", "down", "select(1)", "", ""),
    Key("nudge_down", "left", "nudge(-1)", "", "nudge the knob by a tenth of its leading digit; shift+arrow or , . for a whole digit",
        "left / right"),
    Key("nudge_up", "right", "nudge(1)", "", ""),
    Key("nudge_down_digit", "shift+left,comma", "nudge(-1, True)", "", "", aside=True),
    Key("nudge_up_digit", "shift+right,full_stop", "nudge(1, True)", "", "", aside=True),
    Key("edit", "enter", "edit", "", "type an exact value (escape cancels); a bad entry is refused, the old value kept",
        "enter", "type", rank=1),
    Key("toggle_plot", "g", "toggle_plot", "Curve / error per iteration", "error curve / error per iteration on a log scale", "g",
        "view", rank=3, follower_ok=True),
    Key("compare", "c", "compare", "Compare methods", "compare both methods from the same knobs, with the iterations each needs",
        "c", "compare", rank=8, follower_ok=True),
    Key("log_page_up", "pageup", "log_page(-1)", "", "scroll the iteration log (home / end: first / newest)", "pgup / pgdn",
        "log", "pgup", rank=4, follower_ok=True),
    Key("log_page_down", "pagedown", "log_page(1)", "", "", follower_ok=True),
    Key("log_first", "home", "log_end(-1)", "", "", follower_ok=True, aside=True),
    Key("repaint", "ctrl+l", "repaint", "", "redraw the whole screen", "ctrl+l", follower_ok=True),
    Key("log_newest", "end", "log_end(1)", "", "", follower_ok=True, aside=True),
    Key("export_csv", "e", "export('csv')", "Export CSV", "export every iteration (with its knobs) as CSV / JSON lines to a new file here, never overwriting",
        "e / E", follower_ok=True),
    Key("export_jsonl", "E", "export('jsonl')", "Export JSON lines", "export every iteration as JSON lines to a new file here",
        follower_ok=True),
    Key("screenshot", "s", "screenshot", "Save screenshot", "save an SVG screenshot of the screen to a new file here", "s",
        follower_ok=True),
    Key("next_theme", "t", "next_theme", "Next theme", "next theme (remembered for next time)", "t", follower_ok=True),
    Key("lesson_next", "n", "lesson(1)", "Next lesson step", "next / previous lesson step (with --lesson)", "n / N", "next",
        "n/N", rank=0, when="lesson", bar_with=("lesson_previous",)),
    Key("lesson_previous", "N", "lesson(-1)", "Previous lesson step", ""),
    Key("detach", "d", "detach", "Play alone", "presenter mode: play alone / follow the presenter again", "d / F", "alone",
        "d", rank=0, when="follower", follower_ok=True),
    Key("follow", "F", "follow", "Follow the presenter", "", bar="follow", bar_key="F", rank=0, when="detached", follower_ok=True),
    Key("help", "question_mark", "help", "Help", "help: the chapter's ideas, tied to the screen", "?", "help", rank=0,
        follower_ok=True),
    Key("quit", "q", "quit", "Quit", "quit", "q", "quit", rank=2, follower_ok=True),
) + tuple(
    Key(f"preset_{name}", key, f"preset({name!r})", f"Preset: {name}", f"{key}: {preset.shows}", aside=True)
    for key, (name, preset) in zip(PRESET_KEYS, PRESETS.items())
)
"""Every key, in the order help lists them."""

FOLLOWER_ACTIONS = frozenset(k.action.split("(")[0] for k in KEYS if k.follower_ok) | {"command_palette"}
"""What a follower may do while following: look, save, leave; nothing that changes the state."""


def bindings() -> list[BindingType]:
    """The App's bindings, none shown by Textual's footer (the key bar draws its own); each has the key's
    id, so a keymap (Textual's set_keymap) rebinds it."""
    return [Binding(k.keys, k.action, k.title or k.help, show=False, id=k.id) for k in KEYS]


def help_rows(table: tuple[Key, ...] = KEYS) -> list[tuple[str, str]]:
    """(key, what it does) for help's key table and the README's, the presets in one row after r."""
    rows = [(k.shown, k.help) for k in table if k.shown]
    at = next(n for n, (k, row) in enumerate(zip((k for k in table if k.shown), rows)) if k.id == "reset") + 1
    presets = [k for k in table if k.id.startswith("preset_")]
    keys = "1-9, 0" if [k.keys for k in presets] == list(PRESET_KEYS) else ", ".join(label(k.keys) for k in presets)
    rows.insert(at, (keys, f"load a preset ({preset_summary()})"))
    rows.append(("ctrl+p", "command palette: every action, preset and theme by name"))
    return rows


# ---- the user's keymap -----------------------------------------------------------------------------
class KeymapError(ValueError):
    """A keymap that cannot be used: the message names the file, the id or key, and what is wrong."""


NAMES = {"+": "plus", "-": "minus", "?": "question_mark", ",": "comma", ".": "full_stop", "=": "equals_sign",
         "_": "underscore", " ": "space", "/": "slash", "*": "asterisk", "<": "less_than_sign",
         ">": "greater_than_sign", "!": "exclamation_mark", "#": "number_sign", ";": "semicolon", ":": "colon",
         "[": "left_square_bracket", "]": "right_square_bracket", "'": "apostrophe", "`": "grave_accent"}
"""Characters a keymap may write as themselves, and the key names Textual gives them."""
SHOWN = {"plus": "+", "minus": "-", "question_mark": "?", "comma": ",", "full_stop": ".", "equals_sign": "=",
         "underscore": "_", "pageup": "pgup", "pagedown": "pgdn", "slash": "/", "asterisk": "*", "semicolon": ";",
         "colon": ":", "exclamation_mark": "!", "number_sign": "#", "apostrophe": "'", "grave_accent": "`",
         "less_than_sign": "<", "greater_than_sign": ">", "left_square_bracket": "[", "right_square_bracket": "]"}
"""How help and the key bar write a key name."""
RESERVED = {"ctrl+p": "the command palette", "ctrl+c": "copy / quit", "ctrl+q": "quit", "escape": "closing screens",
            "tab": "focus", "shift+tab": "focus"}
"""Keys Textual or knobtui's screens keep for themselves: a keymap may not take them."""


def label(keys: str) -> str:
    """The first of `keys` as people write it: '+', 'pgup', 'space', 'ctrl+l'."""
    first = keys.split(",")[0].strip()
    return SHOWN.get(first, first)


def _key_name(text: str) -> str:
    """One key of a keymap entry as Textual names it ('?' -> 'question_mark'); ValueError if it is none."""
    key = text.strip()
    if key in NAMES:
        return NAMES[key]
    if len(key) == 1 and key.isprintable() and unicodedata.category(key)[0] in "LN":
        return key
    *mods, base = key.split("+") if len(key) > 1 else ("", key)
    if base and all(m in ("ctrl", "shift", "alt", "meta") for m in mods if m) and \
            all(c.isascii() and (c.isalnum() or c == "_") for c in base):
        return key.lower() if len(base) > 1 else key
    raise ValueError(f"{text!r} is not a key name (examples: x, X, ctrl+x, f5, space, pageup, ?)")


def rebind(keymap: Mapping[str, object], source: str = "keymap") -> tuple[Key, ...]:
    """The key table with `keymap`'s keys (id -> 'key,key'), its labels written anew. KeymapError names an
    unknown id, a key that is not a key, one Textual keeps, and two ids that would share a key."""
    ids = {k.id: k for k in KEYS}
    new: dict[str, str] = {}
    for name, value in keymap.items():
        if name not in ids:
            close = difflib.get_close_matches(name, ids, n=3)
            hint = f"did you mean {' or '.join(close)}? " if close else ""
            raise KeymapError(f"{source}: unknown key id {name!r} ({hint}the README's Keys section lists every id)")
        if not isinstance(value, str) or not value.strip():
            raise KeymapError(f"{source}: {name} = {value!r}: give the keys as a string, such as \"x\" or \"x,ctrl+x\"")
        try:
            keys = [_key_name(part) for part in value.split(",")]
        except ValueError as exc:
            raise KeymapError(f"{source}: {name}: {exc}") from None
        for key in keys:
            if key in RESERVED:
                raise KeymapError(f"{source}: {name}: {key!r} is kept for {RESERVED[key]}")
        new[name] = ",".join(dict.fromkeys(keys))
    owner: dict[str, str] = {}
    for k in KEYS:
        for key in new.get(k.id, k.keys).split(","):
            if key in owner and owner[key] != k.id:
                raise KeymapError(f"{source}: {key!r} would do two things: {owner[key]} and {k.id} "
                                  "(give one of them another key too)")
            owner[key] = k.id
    if not new:
        return KEYS
    table = [replace(k, keys=new.get(k.id, k.keys)) for k in KEYS]
    return tuple(_relabel(k, KEYS[n], table, set(new)) for n, k in enumerate(table))


def _relabel(k: Key, was: Key, table: list[Key], moved: set[str]) -> Key:
    """A key's help column and key bar word written for its keys now (unchanged where nothing moved)."""
    n = table.index(k)
    group = [k]
    if k.shown:  # help's row: this key and the keys after it without a row of their own
        for other in table[n + 1:]:
            if other.shown or other.id.startswith("preset_"):
                break
            group.append(other)
    shown, bar_key = k.shown, k.bar_key
    if k.shown and any(g.id in moved for g in group):  # every key a user gave, the first of the others
        shown = " / ".join(", ".join(label(key) for key in g.keys.split(",")) if g.id in moved else label(g.keys)
                           for g in group if not g.aside)
    together = [k.id, *k.bar_with]
    if k.bar and any(i in moved for i in together):
        by_id = {t.id: t for t in table}
        bar_key = "/".join(label(by_id[i].keys) for i in together)
    return replace(k, shown=shown, bar_key=bar_key) if (shown, bar_key) != (was.shown, was.bar_key) else k


def keymap_path() -> Path:
    """Where a user's keymap lives: keys.toml beside the remembered settings."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "knobtui" / "keys.toml"


def load_keymap(path: Path | None = None) -> tuple[Key, ...]:
    """The key table with the user's keymap (`path`, or keys.toml in the config folder if it exists).
    KeymapError names the file and what is wrong; a missing default file is no keymap."""
    given = path is not None
    path = keymap_path() if path is None else path
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        if given:
            raise KeymapError(f"{path}: no such file") from None
        return KEYS
    except (OSError, UnicodeDecodeError) as exc:
        raise KeymapError(f"{path}: cannot be read ({exc})") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise KeymapError(f"{path}: not TOML: {exc}") from None
    return rebind(data, str(path))


def keymap_of(table: tuple[Key, ...]) -> dict[str, str]:
    """What Textual's set_keymap takes: id -> keys, for the keys that moved."""
    return {k.id: k.keys for k, was in zip(table, KEYS) if k.keys != was.keys}


SHARED_VIEW_ACTIONS = frozenset({"detach", "quit"})
"""What a follower in a shared view of `knobtui serve` may press: the server reads their keys
(serve/visit.py), and besides an answer to the room's question those are all it takes."""


def bar_entries(when: set[str], ascii: bool = False, table: tuple[Key, ...] = KEYS) -> list[tuple[str, str, int]]:
    """(key, word, rank) for the key bar, in the order shown, for the situation `when` names: a follower
    is offered only what a follower may press ('shared': in a shared view, only d and q)."""
    out = []
    for k in table:
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
