"""PREDICT, COMPARE, LEARN with today's numbers plugged in: what the next iteration will compute."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.reactive import var
from textual.widget import Widget

from ...learning.view import View
from .lines import LineMixin


def _r(x: float | None) -> str:
    return "-" if x is None else repr(x)


def arithmetic_rows(view: View, compact: bool = False) -> list[tuple[str, str]]:
    """(heading, line) pairs for the next iteration; every number in Python's repr digits.

    `compact` (short terminals) keeps every number and both WHY answers, with shorter formulas.
    """
    k = view.knobs
    rec = view.next
    if rec is None:
        return [("HALT", view.status.text), ("", "step back (b), change a knob, or reset (r)")]
    if compact:
        rows = [
            ("PREDICT", f"prediction = {_r(k.input)} x {_r(k.weight)} = {_r(rec.prediction)}"),
            ("COMPARE", f"error = ({_r(rec.prediction)} - {_r(k.goal)})**2 = {_r(rec.error)}"),
        ]
    else:
        rows = [
            ("PREDICT", f"prediction = input x weight = {_r(k.input)} x {_r(k.weight)} = {_r(rec.prediction)}"),
            ("COMPARE", f"error = (prediction - goal)**2 = ({_r(rec.prediction)} - {_r(k.goal)})**2 = {_r(rec.error)}"),
        ]
    if rec.method == "gradient" and compact:
        rows += [
            ("LEARN", f"delta = prediction - goal = {_r(rec.delta)}"),
            ("", f"weight_delta = delta x input = {_r(rec.weight_delta)}"),
            ("", f"weight = {_r(k.weight)} - {_r(k.alpha)} x {_r(rec.weight_delta)} = {_r(rec.new_weight)}"),
            ("WHY", "x input stops/reverses/scales; slope = 2 x weight_delta, 2 in alpha"),
        ]
    elif rec.method == "gradient":
        rows += [
            ("LEARN", f"delta = prediction - goal = {_r(rec.delta)}"),
            ("", f"weight_delta = delta x input = {_r(rec.delta)} x {_r(k.input)} = {_r(rec.weight_delta)}"),
            ("", f"weight = weight - alpha x weight_delta = {_r(k.weight)} - {_r(k.alpha)} x "
                 f"{_r(rec.weight_delta)} = {_r(rec.new_weight)}"),
            ("WHY", "x input: an input of 0 stops learning, a negative one reverses it, a big one scales it"),
            ("", f"slope = 2 x input x delta = {_r(view.slope)}: the derivative's 2 is folded into alpha"),
        ]
    else:
        if rec.direction > 0:
            verdict, formula = "up is colder", f"weight + step = {_r(k.weight)} + {_r(k.step_amount)}"
        elif rec.direction < 0:
            verdict, formula = "down is colder", f"weight - step = {_r(k.weight)} - {_r(k.step_amount)}"
        else:
            verdict, formula = "up and down tie: the weight stays", f"weight = {_r(k.weight)}"
        up = "up" if compact else "up   = (goal - input x (weight + step))**2"
        down = "down" if compact else "down = (goal - input x (weight - step))**2"
        rows += [
            ("", f"{up} = {_r(rec.up_error)}"),
            ("", f"{down} = {_r(rec.down_error)}"),
            ("LEARN", f"{verdict}: {_r(rec.new_weight)}" if compact else f"{verdict}: {formula} = {_r(rec.new_weight)}"),
            ("WHY", "hot and cold knows the way, never how far: every step is the same size"
             if not compact else "it knows the way, never how far: every step is the same size"),
        ]
    return rows


def arithmetic_table(view: View, compact: bool = False, why: bool = True) -> Table:
    table = Table.grid(padding=(0, 1))
    table.add_column(width=7, style="bold", no_wrap=True)
    table.add_column(ratio=1, overflow="fold")
    for head, body in arithmetic_rows(view, compact):
        if not why and (head == "WHY" or (not head and body.startswith("slope"))):
            continue
        table.add_row(head, Text(body, style="italic" if head == "WHY" or (not head and body.startswith("slope")) else ""))
    return table


class Arithmetic(LineMixin, Widget):
    """The next iteration's arithmetic, numbers plugged in."""

    DEFAULT_CSS = """
    Arithmetic { height: auto; border: round $primary; padding: 0 1; }
    """

    view: var[View | None] = var(None)
    """The session view to explain."""
    compact: var[bool] = var(False)
    """Shorter formulas for short terminals (the same numbers, both WHY answers)."""
    terse: var[bool] = var(False)
    """No WHY rows: a lesson note above already explains, and the terminal is short."""

    def on_mount(self) -> None:
        # constant: a border title that changed every step would repaint the whole panel every step
        self.border_title = "Arithmetic of the next iteration"

    def make_renderable(self) -> Table | None:
        view = self.view
        if view is None:
            return None
        return arithmetic_table(view, compact=self.compact, why=not self.terse)

    def watch_view(self) -> None:
        self.redraw()

    def watch_compact(self) -> None:
        self.redraw()

    def watch_terse(self) -> None:
        self.redraw()
