"""plotext, made deterministic.

plotext removes duplicate points with `list(set(...))`, so the order in which points are drawn (and
which of two overlapping markers wins a cell, or where a tick label lands) changes with Python's hash
seed from one process to the next. The same screen must draw the same way every time (for people and
for snapshot tests), so duplicates are removed keeping the first occurrence, in order.
"""

from __future__ import annotations

from plotext import _utility


def _no_duplicates(data: list[object]) -> list[object]:
    return list(dict.fromkeys(data))


_utility.no_duplicates = _no_duplicates
