"""The book's two update rules, written with the book's own arithmetic so every float has its digits.

`x ** 2` is used (not `x * x`) because that is what the book computes and the two differ in the last
bit for some x; it raises OverflowError where the result is too large, which is caught and reported.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass
from typing import Literal

from .knobs import Method

INF = float("inf")


@dataclass(frozen=True, slots=True)
class Record:
    """One iteration: the weight it started from, what it predicted and missed by, and where it moved."""

    iteration: int
    method: Method
    weight: float
    prediction: float
    error: float
    new_weight: float
    delta: float | None = None
    weight_delta: float | None = None
    up_error: float | None = None
    down_error: float | None = None

    @property
    def direction(self) -> int:
        """+1 if the weight went up, -1 if down, 0 if it stayed."""
        return (self.new_weight > self.weight) - (self.new_weight < self.weight)


class NonFinite(ArithmeticError):
    """A step whose numbers leave the floats: the message says which number and why."""

    def __init__(self, what: str, detail: str) -> None:
        self.what = what
        super().__init__(f"{what} {detail}")


def _square(name: str, x: float) -> float:
    try:
        y = x ** 2
    except OverflowError:
        raise NonFinite(name, f"overflows: ({x!r}) ** 2 is larger than the largest float, about 1.797e308") from None
    if not y < INF:
        raise NonFinite(name, f"is not finite: ({x!r}) ** 2 = {y!r}")
    return y


def _finite(name: str, x: float, how: str) -> float:
    if not -INF < x < INF:
        raise NonFinite(name, f"is not finite: {how} = {x!r}")
    return x


def gradient_step(iteration: int, weight: float, input: float, goal: float, alpha: float) -> Record:
    """PREDICT, COMPARE, LEARN with gradient descent: weight -= alpha * (prediction - goal) * input."""
    prediction = _finite("prediction", input * weight, f"{input!r} * {weight!r}")
    error = _square("error", prediction - goal)
    delta = _finite("delta", prediction - goal, f"{prediction!r} - {goal!r}")
    weight_delta = _finite("weight_delta", delta * input, f"{delta!r} * {input!r}")
    new_weight = _finite("new weight", weight - alpha * weight_delta,
                         f"{weight!r} - {alpha!r} * {weight_delta!r}")
    return Record(iteration, "gradient", weight, prediction, error, new_weight,
                  delta=delta, weight_delta=weight_delta)


def hot_cold_step(iteration: int, weight: float, input: float, goal: float, step_amount: float) -> Record:
    """PREDICT, COMPARE, LEARN with hot and cold: try a step up and a step down, keep the better; a tie stays."""
    prediction = _finite("prediction", input * weight, f"{input!r} * {weight!r}")
    error = _square("error", prediction - goal)
    up_error = _square("up_error", goal - input * (weight + step_amount))
    down_error = _square("down_error", goal - input * (weight - step_amount))
    # The printed book tests `e_up < e_up` for the second branch; the rule it means is this one.
    if down_error < up_error:
        new_weight = weight - step_amount
    elif down_error > up_error:
        new_weight = weight + step_amount
    else:
        new_weight = weight
    _finite("new weight", new_weight, f"{weight!r} +/- {step_amount!r}")
    return Record(iteration, "hot-cold", weight, prediction, error, new_weight,
                  up_error=up_error, down_error=down_error)


def step(method: Method, iteration: int, weight: float, input: float, goal: float,
         alpha: float, step_amount: float) -> Record:
    """One iteration of `method` from `weight`; raises NonFinite instead of producing inf or nan."""
    if method == "gradient":
        return gradient_step(iteration, weight, input, goal, alpha)
    return hot_cold_step(iteration, weight, input, goal, step_amount)


Stop = Literal["limit", "converged", "oscillating", "stuck", "overflow"]


def run_gradient(weights: array[float], input: float, goal: float, alpha: float, limit: int,
                 tolerance: float, stop_on_converged: bool) -> tuple[Stop, int]:
    """Append up to `limit` gradient-descent weights to `weights` (which ends with the start weight).

    The same arithmetic as `gradient_step`, in one tight loop for fast-forward and headless runs.
    Returns why it stopped and the 1-based index, among the steps taken, of the first step of the
    stretch within `tolerance` that the run ends in (0 if its last step was outside: a dip within the
    tolerance that grew again is not convergence).
    """
    w = weights[-1]
    append = weights.append
    first = 0
    for k in range(1, limit + 1):
        prediction = input * w
        try:
            err = (prediction - goal) ** 2
        except OverflowError:
            return "overflow", first
        new_w = w - alpha * ((prediction - goal) * input)
        if not (err < INF and -INF < new_w < INF and -INF < prediction < INF):
            return "overflow", first
        append(new_w)
        w = new_w
        if err <= tolerance:
            if not first:
                first = k
                if stop_on_converged:
                    return "converged", first
        elif first:
            first = 0
    return "limit", first


def run_hot_cold(weights: array[float], input: float, goal: float, step_amount: float, limit: int,
                 tolerance: float, stop_on_converged: bool) -> tuple[Stop, int]:
    """Append up to `limit` hot-and-cold weights to `weights`; the tight-loop twin of `hot_cold_step`.

    `first` as in `run_gradient`. Also stops when the weight bounces back (oscillating) or cannot move (a tie: stuck), when asked
    to stop on convergence, since nothing new can happen after either.
    """
    w = weights[-1]
    append = weights.append
    first = 0
    last_dir = 0
    for k in range(1, limit + 1):
        prediction = input * w
        try:
            err = (prediction - goal) ** 2
            up = (goal - input * (w + step_amount)) ** 2
            down = (goal - input * (w - step_amount)) ** 2
        except OverflowError:
            return "overflow", first
        if not (err < INF and up < INF and down < INF and -INF < prediction < INF):
            return "overflow", first
        if down < up:
            new_w = w - step_amount
            direction = -1
        elif down > up:
            new_w = w + step_amount
            direction = 1
        else:
            new_w = w
            direction = 0
        if not -INF < new_w < INF:
            return "overflow", first
        if new_w == w:  # a step below the weight's last digit moves nothing, whichever probe won
            direction = 0
        append(new_w)
        w = new_w
        if err <= tolerance:
            if not first:
                first = k
                if stop_on_converged:
                    return "converged", first
        elif first:
            first = 0
        if stop_on_converged:
            if direction == 0:
                return "stuck", first
            if direction == -last_dir:
                return "oscillating", first
        last_dir = direction
    return "limit", first
