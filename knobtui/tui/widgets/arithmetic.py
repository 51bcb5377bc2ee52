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

from ...learning.narrator import HALT_HELP, WHY_HOT_COLD, WHY_INPUT, Hidden
from ...learning.view import View
from ..numbers import digits_shown, shorten_numbers
from .lines import LineMixin

Part = str | float | Hidden
"""A piece of a formula row: text, or a number shown in repr digits (or fewer if the row is too wide), or a
value a question keeps back (shown as its placeholder, "?")."""
Row = tuple[str, Sequence[Part], Sequence[Part] | None] | tuple[str, Sequence[Part], Sequence[Part], Sequence[Part]]
"""(heading, then its forms, richest first: the row with names, ..., the row with numbers only or None)."""

HEAD = 8
"""Columns for the headings PREDICT, COMPARE, LEARN, WHY."""
DIGITS = (None, 15, 12, 10, 8, 6, 5, 4, 3, 2)
"""Significant digits tried in turn on a row that is too wide (None: Python's repr)."""


def _num(x: float | Hidden, digits: int | None) -> str:
    """repr(x), or x to `digits` significant digits when repr carries more (1.0 stays 1.0)."""
    if isinstance(x, Hidden):  # kept back while a question about it is open
        return str(x)
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
    p, d, wd = rec.prediction, rec.delta, rec.weight_delta
    nw = view.next_weight
    assert nw is not None
    predict, compare = predict_compare(view)
    if rows <= 3:
        return [predict, compare,
                ("LEARN", ("weight = weight - alpha * delta * input = ", w, " - ", a, " * ", d, " * ", i, " = ", nw),
                 ("delta ", d, ", weight_delta ", wd, ": weight = ", w, " - ", a, " * ", wd, " = ", nw),
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
    why: Row = ("WHY", (WHY_INPUT[0],), (WHY_INPUT[1],))
    if rows >= 7:
        out += [why, sensitivity_row(view)]
    elif rows == 6:
        out.append(why)
    return out


def sensitivity_row(view: View) -> Row:
    """The rods in the box (the narrator's Sensitivity): nudge the weight both ways, watch the error move;
    the measured rate and the derivative side by side, each named."""
    slope_form = ("derivative (slope) = 2 * input * delta = ", view.slope, " (twice weight_delta)")
    if view.sensitivity is None:
        return ("", slope_form, slope_form[:2])
    rich, plain, short = view.sensitivity.forms
    return ("", rich, plain, short)


def hot_cold_rows(view: View, rows: int) -> list[Row]:
    k, rec = view.knobs, view.next
    assert rec is not None
    w, i, s = k.weight, k.input, k.step_amount
    p, e, up, down = rec.prediction, rec.error, rec.up_error, rec.down_error
    claim = view.next_move
    assert claim is not None
    if isinstance(claim, Hidden):  # a question about it is open: neither the way nor the weight is shown
        verdict: Row = ("LEARN", ("keep the warmer (lower error) of up and down: weight = ", claim),
                        ("the warmer: weight = ", claim))
    elif claim.way != "stay":
        sign = " + " if claim.way == "up" else " - "
        long, short = claim.verdict
        verdict = ("LEARN", (f"{long}: weight = weight{sign}step_amount = ", w, sign, s, " = ", claim.new_weight),
                   (f"{short}: weight = ", w, sign, s, " = ", claim.new_weight))
    else:
        long, short = claim.verdict
        verdict = ("LEARN", (f"{long} ", claim.new_weight), (f"{short} ", claim.new_weight))
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
        out.append(("WHY", (WHY_HOT_COLD[0],), (WHY_HOT_COLD[1],)))
    return out


def arithmetic_lines(view: View, rows: int, width: int, hidden: frozenset[str] = frozenset()) -> list[tuple[str, str]]:
    """(heading, text) lines for the next iteration in at most `rows` lines of `width` columns; nothing is
    said of alpha*input**2 while a lesson hides alpha."""
    body = max(1, width - HEAD)
    rec = view.next
    if rec is None:  # the halt's sentence whole: without its cause, or with shorter numbers, if it must
        room = max(1, rows - 1)
        forms = [view.status.said("alpha" not in hidden), view.status.said(alpha_shown=False)]
        tries = [shorten_numbers(form, digits) for form in forms for digits in (None, 6, 4)]
        halt = next((w for w in (textwrap.wrap(t, body) for t in tries) if len(w) <= room), None) \
            or textwrap.wrap(tries[-1], body)[:room]
        lines = [("HALT" if n == 0 else "", t) for n, t in enumerate(halt)]
        return lines + [("", fit_row([(HALT_HELP[0],), (HALT_HELP[1],)], body))]
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
    hidden: var[frozenset[str]] = var(frozenset())
    """Knobs a lesson hides: nothing is said of them."""

    def on_mount(self) -> None:
        # constant: a border title that changed every step would repaint the whole panel every step
        self.border_title = "Arithmetic of the next iteration"

    def make_renderable(self) -> Text | None:
        view = self.view
        if view is None:
            return None
        width = max(self.size.width, HEAD + 10)
        out = Text(no_wrap=True, overflow="crop")
        for n, (head, body) in enumerate(arithmetic_lines(view, self.rows, width, self.hidden)):
            if n:
                out.append("\n")
            out.append(f"{head:<{HEAD}}", style="bold")
            out.append(body, style="italic" if head == "WHY" or body.startswith(("slope", "derivative", "weight -/+"))
                       else "")
        return out

    def watch_view(self) -> None:
        self.redraw()

    def watch_rows(self) -> None:
        self.redraw()

    def watch_hidden(self) -> None:
        self.redraw()
