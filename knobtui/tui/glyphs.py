"""The characters the screen draws with: Unicode by default, plain ASCII for old terminals and non-UTF-8 locales."""

from __future__ import annotations

import locale
import os
from dataclasses import dataclass

ASCII_TERMS = ("linux", "vt100", "vt102", "vt220", "dumb", "ansi")


@dataclass(frozen=True, slots=True)
class Glyphs:
    select: str  # the selected knob
    sep: str  # between parts of the status line
    curve: str  # plotext marker for lines
    current: str  # the weight now
    ghost: str  # where the next step lands
    trail: str  # earlier weights
    rising: str  # log: the error went up
    falling: str  # log: the error went down
    icon: str  # header
    tangent: str  # plotext marker for the tangent line (unlike the curve's, even without colour)
    goal: str  # the goal weight's vertical line, as plotext draws it


UNICODE = Glyphs("▶", "·", "braille", "●", "○", "•", "↑", "↓", "◉", "·", "│")
# In ASCII the axes' ticks become '+': the trail, the ghost and the marks stay unlike them.
ASCII = Glyphs(">", "|", ".", "@", "x", "o", "^", "v", "*", "=", "|")

BOX_TO_ASCII = str.maketrans({
    "─": "-", "━": "-", "│": "|", "┃": "|", "┌": "+", "┐": "+", "└": "+", "┘": "+", "┬": "+", "┴": "+",
    "├": "+", "┤": "+", "┼": "+", "╭": "+", "╮": "+", "╰": "+", "╯": "+", "▏": "|", "•": ".", "●": "O",
})


def glyphs(ascii: bool) -> Glyphs:
    return ASCII if ascii else UNICODE


def wants_ascii(environ: dict[str, str] | None = None) -> bool:
    """True when the terminal is unlikely to draw box lines and braille: a non-UTF-8 locale or a console TERM."""
    env = os.environ if environ is None else environ
    if env.get("TERM", "") in ASCII_TERMS:
        return True
    for name in ("LC_ALL", "LC_CTYPE", "LANG"):
        value = env.get(name)
        if value:
            return "utf-8" not in value.lower() and "utf8" not in value.lower()
    return "utf" not in (locale.getpreferredencoding(False) or "").lower()


def plain_text(markup: str) -> str:
    """Textual markup as the plain text it shows (text that is not valid markup, as it is)."""
    from rich.errors import MarkupError
    from rich.text import Text
    try:
        return Text.from_markup(markup).plain
    except MarkupError:
        return markup
