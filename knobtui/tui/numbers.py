"""Numbers that fit their place on screen without becoming different numbers.

A value that does not fit is shortened by significant digits with its exponent kept
(-1.1598659093614693e+154 becomes -1.15987e+154), never cut: a learner who reads -1.159865909361 off
a clipped field reads the wrong number. Logs and exports keep every digit; the knob editor shows the
full repr.
"""

from __future__ import annotations

import math
import re

SHORTEST = 8
"""Room every fitted number may need at worst: '-1e+308' and a sign, '-0.0001' ..."""


def fit(x: float, width: int) -> str:
    """`repr(x)` if it fits in `width` characters, else the most significant digits that do.

    Always returns the shortest honest form when even one digit is too wide (the caller gives the
    room); the result parses back to `x` rounded to the digits shown.
    """
    text = repr(x)
    if len(text) <= width or not math.isfinite(x):
        return text
    best = f"{x:.1g}"
    for digits in range(16, 0, -1):
        short = f"{x:.{digits}g}"
        if len(short) <= width:
            return short
    return best


def digits_shown(text: str) -> int:
    """How many significant digits a number written as `text` carries (for the round-trip check)."""
    mantissa = text.lower().lstrip("+-").split("e")[0].replace(".", "").lstrip("0")
    return max(1, len(mantissa))


NUMBER = re.compile(r"(?<![\w.])-?\d+\.\d+(?:e[+-]?\d+)?(?![\w.])|(?<![\w.])-?\d+e[+-]?\d+(?![\w.])")
"""A decimal number written in a sentence (0.30250000000000005, -1.2e+21); whole numbers are left alone."""


def shorten_numbers(text: str, digits: int | None) -> str:
    """`text` with every decimal number of more than `digits` significant digits shortened to `digits`
    (exponent kept): a sentence made to fit without a number in it becoming a different number.
    None keeps every digit."""
    if digits is None:
        return text
    def short(match: re.Match[str]) -> str:
        written = match.group(0)
        if digits_shown(written) <= digits:
            return written
        shorter = f"{float(written):.{digits}g}"
        return shorter if len(shorter) < len(written) else written
    return NUMBER.sub(short, text)


def keeps_apart(text: str, digits: int | None) -> bool:
    """Shortening `text`'s numbers to `digits` leaves numbers that differ still different ("up 9840.6400001
    < down 9840.6400002" must not read "9840.64 < 9840.64")."""
    if digits is None:
        return True
    written = NUMBER.findall(text)
    short = NUMBER.findall(shorten_numbers(text, digits))
    return len({float(w) for w in written}) == len(set(short))
