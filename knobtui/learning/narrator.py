"""The one narrator: an engine state in, claims out.

Every explanatory sentence knobtui shows (the arithmetic panel's verdicts and WHY rows, the sensitivity
row, predict's why-line and the room's reveal, compare's verdict, the status line's stability part,
`knobtui run`'s notes) is made here, from a small typed fact about the engine (a claim), never composed
in a widget from loose values. Each claim kind is checked against what the engine does next by property
tests (tests/test_claims.py; the list of kinds and the cases tried is in docs/claims.md).

A question that keeps an answer back hides a claim: the panels are given HIDDEN, one kind of value they
all render the same way ("?"), never a number that means something else.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from .analysis import SENSITIVITY_NUDGE, Stability, error_at, slope, stability
from .knobs import Knobs, Method
from .rules import Record


class Hidden:
    """A value a question keeps back until it is answered: shown as PLACEHOLDER wherever it would be."""

    __slots__ = ()
    _one: Hidden | None = None

    def __new__(cls) -> Hidden:
        if cls._one is None:
            cls._one = super().__new__(cls)
        return cls._one

    def __repr__(self) -> str:
        return PLACEHOLDER

    __str__ = __repr__


PLACEHOLDER = "?"
HIDDEN = Hidden()
"""The one hidden value."""

Way = Literal["up", "down", "stay"]
Cause = Literal["slope", "zero", "too-small", "warmer", "tie"]


# ---- the next iteration's move ----------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Move:
    """Claim: where the next iteration moves the weight, and the cause.

    `cause` is "slope" (gradient descent moves against alpha * weight_delta), "zero" (alpha * weight_delta
    is 0), "too-small" (the change is not 0 but below the weight's last digit, so the weight stays),
    "warmer" (hot and cold keeps the probe with the lower error) or "tie" (its two probes tie)."""

    method: Method
    way: Way
    weight: float
    new_weight: float
    cause: Cause
    alpha: float = 0.0
    weight_delta: float = 0.0
    change: float = 0.0  # alpha * weight_delta: the weight moves by minus it (gradient descent)
    up_error: float = 0.0
    down_error: float = 0.0
    warmer: Literal["up", "down", "tie"] = "tie"  # hot and cold: the probe with the lower error

    @property
    def why(self) -> str:
        """One line of why, with the numbers on the screen (predict's verdict, the room's reveal)."""
        way = self.way
        if self.method == "gradient":
            a, wd = self.alpha, self.weight_delta
            if self.cause == "zero":
                return f"alpha * weight_delta is 0 ({a!r} * {wd!r}): it stays"
            if self.cause == "too-small":
                return (f"alpha * weight_delta = {self.change!r} is too small to change the weight {self.weight!r} "
                        "(below its last digit): it stays")
            if a < 0:
                return (f"alpha {a!r} is negative, so the weight moves with weight_delta {wd!r}, "
                        f"not against it: it goes {way}")
            return f"weight_delta {wd!r} {'<' if wd < 0 else '>'} 0, and the weight moves against it: it goes {way}"
        errors = f"error up {self.up_error!r}, down {self.down_error!r}"
        if self.cause == "tie":
            return f"{errors}: a tie, so it stays"
        if self.cause == "too-small":
            return f"{errors}: {self.warmer} is warmer, but a step of that size does not change the weight: it stays"
        return f"{errors}: {way} is warmer, so it goes {way}"

    @property
    def brief(self) -> str:
        """The why in fewer words, for a line too short for `why` (the same claim, numbers shortened by
        significant digits where the screen needs it)."""
        way = self.way
        if self.method == "gradient":
            if self.cause == "zero":
                return "alpha * weight_delta is 0: it stays"
            if self.cause == "too-small":
                return f"alpha * weight_delta {self.change!r} is below the weight's last digit: it stays"
            if self.alpha < 0:
                return f"alpha < 0: it moves with weight_delta {self.weight_delta!r}, {way}"
            return f"weight_delta {self.weight_delta!r} {'<' if self.weight_delta < 0 else '>'} 0: it goes {way}"
        if self.cause == "tie":
            return f"up and down tie at {self.up_error!r}: it stays"
        if self.cause == "too-small":
            return f"{self.warmer} is warmer, but the step does not change the weight: it stays"
        lower, higher = ((self.up_error, self.down_error) if way == "up" else (self.down_error, self.up_error))
        other = "down" if way == "up" else "up"
        return f"{way} {lower!r} < {other} {higher!r}: it goes {way}"

    @property
    def verdict(self) -> tuple[str, str]:
        """Hot and cold's LEARN verdict, long and short: which probe won and what the weight does."""
        if self.cause == "warmer":
            return f"{self.way} is warmer (lower error)", f"{self.way} is warmer"
        if self.cause == "too-small":
            return (f"{self.warmer} is warmer, but the step is below the weight's last digit: it stays",
                    "the step is too small: it stays")
        return "up and down tie: the weight stays", "a tie: it stays"


def move(rec: Record, alpha: float) -> Move:
    """The claim about where the iteration `rec` moves the weight (`alpha` is the knob it was taken with)."""
    w, nw = rec.weight, rec.new_weight
    way: Way = "up" if nw > w else "down" if nw < w else "stay"
    if rec.method == "gradient":
        wd = rec.weight_delta or 0.0
        change = alpha * wd
        cause: Cause = "slope" if way != "stay" else "zero" if change == 0 else "too-small"
        return Move("gradient", way, w, nw, cause, alpha=alpha, weight_delta=wd, change=change)
    up, down = rec.up_error or 0.0, rec.down_error or 0.0
    warmer: Literal["up", "down", "tie"] = "down" if down < up else "up" if up < down else "tie"
    cause = "tie" if warmer == "tie" else "warmer" if way != "stay" else "too-small"
    return Move("hot-cold", way, w, nw, cause, up_error=up, down_error=down, warmer=warmer)


def distinct(x: float, digits: int = 3, marks: tuple[float, ...] = (0.0, 1.0, 2.0)) -> str:
    """`x` to `digits` significant digits, or more where fewer would read as one of `marks` (0.9996 is not
    "1", 2 + 1e-9 is not "2"): a number in a sentence is never a different number that matters."""
    for d in range(digits, 18):
        text = f"{x:.{d}g}"
        if not any(float(text) == m and x != m for m in marks):
            return text
    return repr(x)


# ---- how the miss changes under gradient descent ---------------------------------------------------
@dataclass(frozen=True, slots=True)
class Shrink:
    """Claim: what one gradient-descent step does to the miss (prediction - goal): it becomes
    (1 - alpha*input**2) times itself."""

    product: float  # alpha * input ** 2
    factor: float  # |1 - product|

    @property
    def overshoots(self) -> bool:
        """The miss changes sign each step: the weight crosses the goal weight."""
        return self.product > 1

    @property
    def words(self) -> str:
        p = self.product
        if p == 0:
            return "does not move the weight"
        if p == 1:
            return "lands on the goal weight in one step"
        if 0 < p < 1:
            return f"removes {distinct(p)} of the remaining miss each step"
        if 1 < p < 2:
            return (f"overshoots the goal weight each step: the miss changes sign and shrinks to "
                    f"{distinct(self.factor)} of itself")
        if p == 2:
            return "overshoots the goal weight by exactly as much as it missed, each step: the miss never shrinks"
        if p > 2:
            return f"overshoots further each step: the miss changes sign and grows {distinct(self.factor)} times"
        return f"moves the weight away from the goal: the miss grows {distinct(self.factor)} times each step"


def shrink(knobs: Knobs) -> Shrink:
    st = stability(knobs)
    return Shrink(st.product, st.factor)


def stability_words(st: Stability) -> tuple[str, str]:
    """The status line's stability part, long and short."""
    rule = "< 2: converges" if st.converges else "not between 0 and 2: no convergence"
    return f"alpha*input**2 = {distinct(st.product, 6)} ({rule})", f"alpha*input**2 = {distinct(st.product, 4)}"


# ---- the rods in the box ----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Sensitivity:
    """Claim: nudge the weight down and up by `nudge` and the error moves by `change`; `ratio` (change over
    the 2 * nudge between) is a central difference, equal to the slope up to rounding for this parabola
    (a one-sided difference would add input**2 * nudge and can even have the other sign near the goal)."""

    nudge: float
    below: float  # the error at weight - nudge
    above: float  # the error at weight + nudge
    change: float  # above - below
    ratio: float  # change / (2 * nudge): the measured rate
    slope: float  # 2 * input * delta: the derivative, exactly

    @property
    def forms(self) -> tuple[tuple[str, float], tuple[str, float], tuple[str, float]]:
        """The row's forms, richest first. The nudge's numbers illustrate (6 significant digits); the
        derivative is kept whole."""
        h = self.nudge
        return ((f"weight -/+ {h} moves the error by {self.change:.6g}: / {2 * h} = {self.ratio:.6g} measured; "
                 "derivative 2 * input * delta = ", self.slope),
                ("derivative (slope) = 2 * input * delta = ", self.slope),
                ("slope = ", self.slope))


def sensitivity(knobs: Knobs, weight: float, nudge: float = SENSITIVITY_NUDGE) -> Sensitivity | None:
    """The rods in the box at `weight`, or None where the numbers leave the floats."""
    below, above = error_at(knobs, weight - nudge), error_at(knobs, weight + nudge)
    change = above - below
    s = slope(knobs, weight)
    if not (math.isfinite(change) and math.isfinite(s)):
        return None
    return Sensitivity(nudge, below, above, change, change / (2 * nudge), s)


# ---- constant lines of why -------------------------------------------------------------------------
WHY_INPUT = ("* input: an input of 0 stops learning, a negative one reverses it, a big one scales it",
             "* input: 0 stops, negative reverses, big scales")
WHY_HOT_COLD = ("hot and cold learns the direction, never the amount: every step is step_amount",
                "the direction, never the amount: every step is step_amount")
HALT_HELP = ("step back (b), undo (u), change a knob, or reset (r)", "b back, u undo, r reset")


# ---- what `knobtui run` says on stderr ---------------------------------------------------------------
def divergence_note(knobs: Knobs, first_growth: int) -> str:
    """A headless run's note on a diverging gradient-descent run: where the error began to grow and why."""
    st = stability(knobs)
    advice = f" (try alpha between 0 and {2 / (knobs.input * knobs.input):.4g})" if knobs.input else ""
    return (f"diverged: the error grew from iteration {first_growth} on, x{st.error_growth:.4g} per step, "
            f"because {st.why}{advice}")


def book_shape_note(preset: str, preset_method: Method, method: Method) -> str:
    """Why `run --format book` prints the book's loop line instead of the preset's own print."""
    return (f"the book prints preset {preset} for {preset_method}; with {method} it writes the book's loop line "
            "(Error: ... Prediction: ...)")
