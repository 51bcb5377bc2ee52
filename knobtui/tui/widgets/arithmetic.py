"""PREDICT, COMPARE, LEARN with the current numbers plugged in: what the next iteration will compute.

The panel gets a number of rows from the layout and a width from the terminal. It picks the richest
form that fits the rows (formulas with names and the WHY rows when there is room; the numbers alone,
fewer lines, when there is not) and never cuts a number: a line too wide shortens its numbers by
significant digits, exponent kept. The new weight is always on the last formula row.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

from rich.text import Text
from textual.reactive import var
from textual.widget import Widget

from ...learning.analysis import SENSITIVITY_NUDGE
from ...learning.view import View
from ..numbers import digits_shown
from .lines import LineMixin

Part = str | float
"""A piece of a formula row: text, or a number shown in repr digits (or fewer if the row is too wide)."""
Row = tuple[str, Sequence[Part], Sequence[Part] | None] | tuple[str, Sequence[Part], Sequence[Part], Sequence[Part]]
"""(heading, then its forms, richest first: the row with names, ..., the row with numbers only or None)."""

HEAD = 8
"""Columns for the headings PREDICT, COMPARE, LEARN, WHY."""
DIGITS = (None, 15, 12, 10, 8, 6, 5, 4, 3, 2)
"""Significant digits tried in turn on a row that is too wide (None: Python's repr)."""


def _num(x: float, digits: int | None) -> str:
    """repr(x), or x to `digits` significant digits when repr carries more (1.0 stays 1.0)."""
    if x != x:  # NaN: a number kept back (predict mode asks for it)
        return "?"
    text = repr(x)
    if digits is None or digits_shown(text) <= digits:
        return text
    short = f"{x:.{digits}g}"
    return short if len(short) < len(text) else text


def fit_row(forms: Sequence[Sequence[Part] | None], width: int) -> str:
    """The first form that fits `width` in full digits, else the last form with the fewest digits needed."""
    candidates = [f for f in forms if f is not None]
    for form in candidates:
        text = "".join(p if isinstance(p, str) else _num(p, None) for p in form)
        if len(text) <= width:
            return text
    last = candidates[-1]
    for digits in DIGITS[1:]:
        text = "".join(p if isinstance(p, str) else _num(p, digits) for p in last)
        if len(text) <= width:
            return text
    # Still too wide (huge numbers in a narrow panel): the name and the result alone, never a cut number.
    head = last[0] if isinstance(last[0], str) and "=" in last[0] else ""
    result = last[-1]
    if head and not isinstance(result, str):
        for digits in DIGITS:
            short = head.split("=")[0] + "= " + _num(result, digits)
            if len(short) <= width:
                return short
    return text


def predict_compare(view: View) -> tuple[Row, Row]:
    """PREDICT and COMPARE: the same for both methods."""
    k, rec = view.knobs, view.next
    assert rec is not None
    p = rec.prediction
    return (("PREDICT", ("prediction = input * weight = ", k.input, " * ", k.weight, " = ", p),
             ("prediction = ", k.input, " * ", k.weight, " = ", p)),
            ("COMPARE", ("error = (prediction - goal) ** 2 = (", p, " - ", k.goal, ") ** 2 = ", rec.error),
             ("error = (", p, " - ", k.goal, ") ** 2 = ", rec.error)))


def gradient_rows(view: View, rows: int) -> list[Row]:
    k, rec = view.knobs, view.next
    assert rec is not None
    w, i, g, a = k.weight, k.input, k.goal, k.alpha
    p, d, wd, nw = rec.prediction, rec.delta, rec.weight_delta, rec.new_weight
    predict, compare = predict_compare(view)
    if rows <= 3:
        return [predict, compare,
                ("LEARN", ("weight = weight - alpha * delta * input = ", w, " - ", a, " * ", d, " * ", i, " = ", nw),
                 ("weight = ", w, " - ", a, " * ", d, " * ", i, " = ", nw))]
    delta: Row = ("LEARN", ("delta (pure error) = prediction - goal = ", p, " - ", g, " = ", d),
                  ("delta = prediction - goal = ", p, " - ", g, " = ", d), ("delta = ", d))
    weight_delta: Row = ("", ("weight_delta (direction and amount) = delta * input = ", d, " * ", i, " = ", wd),
                         ("weight_delta = delta * input = ", d, " * ", i, " = ", wd),
                         ("weight_delta = ", d, " * ", i, " = ", wd))
    update: Row = ("", ("weight = weight - alpha * weight_delta = ", w, " - ", a, " * ", wd, " = ", nw),
                   ("weight = ", w, " - ", a, " * ", wd, " = ", nw))
    if rows == 4:
        both: Row = ("LEARN", ("delta = ", d, ", weight_delta = delta * input = ", wd),
                     ("delta = ", d, ", weight_delta = ", wd))
        return [predict, compare, both, update]
    out = [predict, compare, delta, weight_delta, update]
    if rows >= 7:
        out += [("WHY", ("* input: an input of 0 stops learning, a negative one reverses it, a big one scales it",),
                 ("* input: 0 stops, negative reverses, big scales",)),
                sensitivity_row(view)]
    elif rows == 6:
        out += [("WHY", ("* input: an input of 0 stops learning, a negative one reverses it, a big one scales it",),
                 ("* input: 0 stops, negative reverses, big scales",))]
    return out


def sensitivity_row(view: View) -> Row:
    """The rods in the box: nudge the weight, watch the error move; their ratio is (nearly) the slope.
    The nudge's numbers illustrate, so they are shown to 6 significant digits."""
    slope_form = ("slope of the error = 2 * input * delta = ", view.slope, " (twice weight_delta, the book's derivative)")
    if view.sensitivity is None:
        return ("", slope_form, slope_form[:2])
    change, ratio = view.sensitivity
    return ("", (f"weight + {SENSITIVITY_NUDGE} moves the error by {change:.6g}: / {SENSITIVITY_NUDGE} = {ratio:.6g}, "
                 "near the slope 2 * input * delta = ", view.slope), slope_form, slope_form[:2])


def hot_cold_rows(view: View, rows: int) -> list[Row]:
    k, rec = view.knobs, view.next
    assert rec is not None
    w, i, s = k.weight, k.input, k.step_amount
    p, e, up, down, nw = rec.prediction, rec.error, rec.up_error, rec.down_error, rec.new_weight
    if rec.direction > 0:
        verdict: Row = ("LEARN", ("up is warmer (lower error): weight = weight + step_amount = ", w, " + ", s, " = ", nw),
                        ("up is warmer: weight = ", w, " + ", s, " = ", nw))
    elif rec.direction < 0:
        verdict = ("LEARN", ("down is warmer (lower error): weight = weight - step_amount = ", w, " - ", s, " = ", nw),
                   ("down is warmer: weight = ", w, " - ", s, " = ", nw))
    else:
        verdict = ("LEARN", ("up and down tie: the weight stays ", nw), ("a tie: weight stays ", nw))
    if rows <= 3:
        return [("PREDICT", ("prediction = ", i, " * ", w, " = ", p, ", error = ", e),
                 ("prediction = ", i, " * ", w, " = ", p, ", error = ", e)),
                ("COMPARE", ("up_error = ", up, ", down_error = ", down), ("up_error = ", up, ", down_error = ", down)),
                verdict]
    predict, compare = predict_compare(view)
    if rows == 4:
        return [predict, compare, ("", ("up_error = ", up, ", down_error = ", down), ("up ", up, ", down ", down)),
                verdict]
    out = [predict, compare,
           ("", ("up_error = (goal - input * (weight + step_amount)) ** 2 = ", up), ("up_error = ", up)),
           ("", ("down_error = (goal - input * (weight - step_amount)) ** 2 = ", down), ("down_error = ", down)),
           verdict]
    if rows >= 6:
        out.append(("WHY", ("hot and cold learns the direction, never the amount: every step is step_amount",),
                    ("the direction, never the amount: every step is step_amount",)))
    return out


def arithmetic_lines(view: View, rows: int, width: int) -> list[tuple[str, str]]:
    """(heading, text) lines for the next iteration in at most `rows` lines of `width` columns."""
    body = max(1, width - HEAD)
    rec = view.next
    if rec is None:
        halt = textwrap.wrap(view.status.text, body) or [""]
        lines = [("HALT" if n == 0 else "", t) for n, t in enumerate(halt[: max(1, rows - 1)])]
        return lines + [("", fit_row([("step back (b), undo (u), change a knob, or reset (r)",), ("b back, u undo, r reset",)],
                                     body))]
    table = gradient_rows(view, rows) if rec.method == "gradient" else hot_cold_rows(view, rows)
    return [(row[0], fit_row(row[1:], body)) for row in table]


class Arithmetic(LineMixin, Widget):
    """The next iteration's arithmetic, numbers plugged in, in the rows the layout gives it."""

    DEFAULT_CSS = """
    Arithmetic { height: auto; padding: 0 1; }
    """

    view: var[View | None] = var(None)
    """The session view to explain."""
    rows: var[int] = var(7)
    """How many lines the layout gives the panel (3: the shortest form, 7: formulas and WHY)."""

    def on_mount(self) -> None:
        # constant: a border title that changed every step would repaint the whole panel every step
        self.border_title = "Arithmetic of the next iteration"

    def make_renderable(self) -> Text | None:
        view = self.view
        if view is None:
            return None
        width = max(self.size.width, HEAD + 10)
        out = Text(no_wrap=True, overflow="crop")
        for n, (head, body) in enumerate(arithmetic_lines(view, self.rows, width)):
            if n:
                out.append("\n")
            out.append(f"{head:<{HEAD}}", style="bold")
            out.append(body, style="italic" if head == "WHY" or body.startswith("slope") or body.startswith("the slope")
                       else "")
        return out

    def watch_view(self) -> None:
        self.redraw()

    def watch_rows(self) -> None:
        self.redraw()
