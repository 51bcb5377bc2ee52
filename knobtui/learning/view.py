"""An immutable picture of a session for the screen: everything a widget shows, computed here, not there."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from decimal import Decimal

from .analysis import Stability, error_at, goal_weight, predicted_iterations, slope, stability
from .knobs import Knobs, Method
from .narrator import HIDDEN, Hidden, Move, Sensitivity, move, sensitivity, shrink
from .rules import Record
from .session import Session, Status

TRAIL = 24
SERIES_POINTS = 120


@dataclass(frozen=True, slots=True)
class View:
    """The session as the screen shows it after one change."""

    preset: str
    knobs: Knobs  # weight = the weight now
    method: Method
    iteration: int
    status: Status
    last: Record | None  # the iteration just taken
    next: Record | None  # what the next iteration will compute (None if it would overflow)
    stability: Stability
    goal_weight: float | None
    slope: float  # d error / d weight at the weight now
    error: float  # error at the weight now (inf if it leaves the floats)
    predicted: int | None  # about how many more iterations to the tolerance
    tolerance: float
    trail: tuple[float, ...]  # the last weights, oldest first, ending with the weight now
    start_weight: float  # where this stretch of knobs began: the run the curve's range holds still for
    series: tuple[tuple[int, ...], tuple[float, ...]]  # sampled (iteration, error) over the whole history
    rising: bool  # the last iteration's error was above the one before it
    sensitivity: Sensitivity | None  # the rods in the box: nudge the weight, watch the error (narrator)
    hidden: bool = False  # a question keeps the next iteration's outcome back (predict mode, the room)

    @property
    def next_weight(self) -> float | Hidden | None:
        """Where the next iteration puts the weight: HIDDEN while a question keeps it back, None if it
        would overflow. Panels read this, never next.new_weight."""
        if self.next is None:
            return None
        return HIDDEN if self.hidden else self.next.new_weight

    @property
    def next_move(self) -> Move | Hidden | None:
        """The narrator's claim about the next iteration's move (HIDDEN while a question keeps it back)."""
        if self.next is None:
            return None
        return HIDDEN if self.hidden else move(self.next, self.knobs.alpha)


def make_view(session: Session, preset: str) -> View:
    """Build the screen's picture of `session` (cheap: a few records, a sampled error series)."""
    knobs = session.knobs
    it = session.iteration
    last = session.last_record
    prev = session.record(it - 1) if it >= 2 else None
    return View(
        preset=preset,
        knobs=knobs,
        method=session.method,
        iteration=it,
        status=session.status,
        last=last,
        next=session.next_record() if session.halt is None else None,
        stability=stability(knobs),
        goal_weight=goal_weight(knobs),
        slope=slope(knobs, knobs.weight),
        error=error_at(knobs, knobs.weight),
        predicted=predicted_iterations(knobs, session.method, knobs.weight, session.tolerance),
        tolerance=session.tolerance,
        trail=tuple(session.weights(max(0, it - TRAIL + 1))),
        start_weight=session.segments[-1].weights[0],
        series=error_series(session, SERIES_POINTS),
        rising=bool(last and prev and last.error > prev.error),
        sensitivity=sensitivity(knobs, knobs.weight),
    )


def hide_next(view: View) -> View:
    """The view with the next iteration's outcome kept back (a question about it is open)."""
    return replace(view, hidden=True) if view.next is not None else view


def error_series(session: Session, points: int) -> tuple[tuple[int, ...], tuple[float, ...]]:
    """At most `points` (iteration, error) pairs spread over the whole history, always with the last one."""
    n = session.iteration
    if n == 0:
        return (), ()
    if n <= points:
        its = list(range(1, n + 1))
    else:
        its = sorted({1 + round(i * (n - 1) / (points - 1)) for i in range(points)})
    errs = tuple(session.record(i).error for i in its)
    return tuple(its), errs


def nudge(value: float, direction: int, coarse: bool = False, positive: bool = False) -> float:
    """Move a knob by a step a person expects: a tenth of its leading digit's place (coarse: the place itself).

    Sums are done in decimal so 0.1 + 0.01 gives 0.11, not 0.11000000000000001. With `positive`, a
    value that would reach 0 or below is divided by ten instead (for the step amount).
    """
    if value == 0 or not math.isfinite(value):
        exp = -1 if not coarse else 0
    else:
        exp = math.floor(math.log10(abs(value))) - (0 if coarse else 1)
    step = Decimal(1).scaleb(exp)
    new = float(Decimal(repr(value)) + direction * step)
    if positive and new <= 0:
        new = float(Decimal(repr(value)) / 10)
    if new == 0:
        new = 0.0
    return new


@dataclass(frozen=True, slots=True)
class MethodRun:
    """How one method fares from the same knobs: where it stopped, after how many iterations, and the error then."""

    method: Method
    iterations: int
    status: Status
    converged_at: int | None
    last_error: float | None
    series: tuple[tuple[int, ...], tuple[float, ...]]


def compare(knobs: Knobs, tolerance: float, limit: int = 1_000_000) -> tuple[MethodRun, MethodRun]:
    """Run hot and cold and gradient descent from the same knobs until each converges (or stops)."""
    out = []
    methods: tuple[Method, Method] = ("hot-cold", "gradient")
    for method in methods:
        s = Session(knobs, method, tolerance)
        s.fast_forward(limit)
        last = s.last_record
        out.append(MethodRun(method, s.iteration, s.status, s.converged_at,
                             last.error if last else None, error_series(s, SERIES_POINTS)))
    return out[0], out[1]


def compare_verdict(knobs: Knobs, hot_cold: MethodRun, gradient: MethodRun) -> str:
    """Which method needed fewer iterations from these knobs, by how much, and why (a sentence that is true
    for the runs given, whichever won)."""
    h, g = hot_cold.converged_at, gradient.converged_at

    def brief(run: MethodRun) -> str:
        return f"{run.status.text.split(':')[0]} after {run.iterations} iterations"

    if h is None and g is None:
        return f"Neither converged: hot and cold {brief(hot_cold)}, gradient descent {brief(gradient)}."
    if h is None:
        return f"Only gradient descent converged (at iteration {g}); hot and cold: {brief(hot_cold)}."
    if g is None:
        return f"Only hot and cold converged (at iteration {h}); gradient descent: {brief(gradient)}."
    shrink_words = shrink(knobs).words
    if g < h:
        return (f"Gradient descent needed {h / g:.3g}x fewer iterations ({g} against {h}): its step follows the "
                f"miss (it {shrink_words}), while hot and cold moves {knobs.step_amount!r} at a time.")
    if h < g:
        distance = abs((goal_weight(knobs) or knobs.weight) - knobs.weight)
        return (f"Hot and cold needed {g / h:.3g}x fewer iterations here ({h} against {g}): steps of "
                f"{knobs.step_amount!r} cover the {distance:.3g} to the goal weight in about "
                f"{round(distance / knobs.step_amount)}, while gradient descent {shrink_words}.")
    return f"Both needed {h} iterations."
