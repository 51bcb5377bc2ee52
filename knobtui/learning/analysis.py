"""What the screen explains about the current knobs: the error curve, its slope, and whether alpha is safe."""

from __future__ import annotations

import math
from dataclasses import dataclass

from .knobs import Knobs, Method

INF = float("inf")


def error_at(knobs: Knobs, weight: float) -> float:
    """error(w) = (input * w - goal) ** 2, or inf where that leaves the floats (never raises)."""
    try:
        e = (knobs.input * weight - knobs.goal) ** 2
    except OverflowError:
        return INF
    return e if e == e else INF


def slope(knobs: Knobs, weight: float) -> float:
    """The derivative of the error at `weight`: 2 * input * (input * w - goal), twice the book's weight_delta."""
    try:
        s = 2 * knobs.input * (knobs.input * weight - knobs.goal)
    except OverflowError:  # pragma: no cover - float multiplication gives inf, kept for safety
        return INF
    return s if s == s else INF


SENSITIVITY_NUDGE = 0.001
"""How far the weight is nudged each way to show the error's sensitivity (the book's rods in the box;
the claim is learning/narrator.py's Sensitivity)."""


def goal_weight(knobs: Knobs) -> float | None:
    """The weight where the prediction equals the goal (goal / input), or None when input is 0."""
    if knobs.input == 0:
        return None
    w = knobs.goal / knobs.input
    return w if math.isfinite(w) else None


def curve(knobs: Knobs, lo: float, hi: float, points: int = 81) -> tuple[list[float], list[float]]:
    """The error curve sampled at `points` weights from lo to hi; non-finite errors are left out."""
    if points < 2 or not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [], []
    ws: list[float] = []
    es: list[float] = []
    span = hi - lo
    for i in range(points):
        w = lo + span * i / (points - 1)
        e = error_at(knobs, w)
        if e < INF:
            ws.append(w)
            es.append(e)
    return ws, es


@dataclass(frozen=True, slots=True)
class Stability:
    """Whether gradient descent settles: it converges iff 0 < alpha * input^2 < 2."""

    product: float  # alpha * input ** 2
    factor: float  # |1 - alpha * input ** 2|: how much the miss shrinks (or grows) each step
    one_step_alpha: float | None  # 1 / input ** 2: the alpha that lands on the goal in one step

    @property
    def converges(self) -> bool:
        return 0 < self.product < 2

    @property
    def why(self) -> str:
        """Why gradient descent diverges with these knobs ('' when it settles)."""
        if self.converges:
            return ""
        return f"alpha*input**2 = {self.product!r}, not between 0 and 2"

    @property
    def error_growth(self) -> float:
        """The factor the error is multiplied by each step (the miss factor squared)."""
        return self.factor * self.factor

    @property
    def verdict(self) -> str:
        p = self.product
        if p == 0:
            return "stuck: the weight cannot move"
        if p < 0:
            return "diverges: a negative step climbs the curve"
        if p < 1:
            return "converges smoothly"
        if p == 1:
            return "converges in one step"
        if p < 2:
            return "converges, overshooting each step"
        if p == 2:
            return "oscillates forever"
        return "diverges"


def stability(knobs: Knobs) -> Stability:
    """The stability of gradient descent for these knobs (never raises, even for huge values)."""
    sq = knobs.input * knobs.input
    product = knobs.alpha * sq
    if not math.isfinite(product):
        product = INF  # inf or nan (0 * inf): either way no alpha tames it
    factor = abs(1 - product)
    one = 1 / sq if sq else None
    if one is not None and not math.isfinite(one):
        one = None
    return Stability(product, factor, one)


def predicted_iterations(knobs: Knobs, method: Method, weight: float, tolerance: float) -> int | None:
    """About how many more iterations until an iteration's error is within `tolerance`.

    Counts the next iteration as 1; None when it will not get there (diverging, stuck, or a hot and
    cold step too coarse to ever land within the tolerance).
    """
    e0 = error_at(knobs, weight)
    if e0 <= tolerance:
        return 1
    if not e0 < INF or knobs.input == 0:
        return None
    if method == "gradient":
        st = stability(knobs)
        if st.factor == 0:
            return 2
        if not st.converges:
            return None
        log_factor = math.log(st.factor)
        if log_factor >= 0 or tolerance <= 0:  # alpha*input^2 so small that 1 - it rounds to 1: no progress
            return None
        n = math.log(tolerance / e0) / (2 * log_factor)
        if not math.isfinite(n):
            return None
        return math.ceil(n) + 1
    gw = goal_weight(knobs)
    if gw is None:
        return None
    distance = abs(gw - weight)
    ratio = distance / knobs.step_amount
    if not math.isfinite(ratio):
        return None
    steps = round(ratio)
    left = abs(distance - steps * knobs.step_amount)
    if error_at(knobs, gw - left) > tolerance and error_at(knobs, gw + left) > tolerance:
        return None
    return steps + 1


DRAWABLE_LIMIT = 1e100  # past this a curve's axis labels stop meaning anything: show log10 error instead


def fit_range(weights: list[float] | tuple[float, ...], margin: float = 0.15) -> tuple[float, float]:
    """A weight range holding every finite point given (the trail, the goal, the next step), with a margin."""
    pts = [w for w in weights if math.isfinite(w)] or [0.0]
    lo, hi = min(pts), max(pts)
    span = hi - lo
    if span == 0 or not math.isfinite(span):
        span = max(abs(lo), 1.0)
    return lo - margin * span, hi + margin * span


def bowl_range(centre: float | None, weights: list[float] | tuple[float, ...],
               kept: tuple[float, float] | None = None, margin: float = 0.15) -> tuple[float, float]:
    """The weight range that shows the whole bowl: centred on the goal weight, wide enough for every
    point on one side and its mirror on the other, so both arms rise.

    `kept` is the range drawn so far: it stays while it is centred on the same goal weight, holds every
    point and is not four times wider than they need (a run's curve holds still: give the run's start
    weight among the points); it widens when the trail leaves it, and fits anew for another run. Without
    a goal weight (input 0: the error does not depend on the weight) the range just holds the points.
    """
    pts = [w for w in weights if math.isfinite(w)]
    if centre is None or not math.isfinite(centre):
        if kept is not None and all(kept[0] <= w <= kept[1] for w in pts):
            return kept
        return fit_range(pts, margin)
    reach = max((abs(w - centre) for w in pts), default=0.0)
    if kept is not None:
        klo, khi = kept
        if math.isclose((klo + khi) / 2, centre, rel_tol=1e-9, abs_tol=1e-12 * max(1.0, khi - klo)) \
                and (khi - klo) / 8 <= reach <= (khi - klo) / 2:
            return kept
    half = reach * (1 + margin)
    if half == 0 or not math.isfinite(half):
        half = max(abs(centre) * 0.5, 1.0)
    return centre - half, centre + half


def nice_ticks(lo: float, hi: float, most: int) -> list[float]:
    """At most `most` round tick values (1, 2, 2.5 or 5 times a power of ten) between lo and hi."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo or most < 2:
        return []
    raw = (hi - lo) / (most - 1)
    power = 10.0 ** math.floor(math.log10(raw))
    for factor in (1.0, 2.0, 2.5, 5.0, 10.0):
        step = factor * power
        first = math.ceil(lo / step - 1e-9)
        last = math.floor(hi / step + 1e-9)
        if last - first + 1 <= most:
            break
    ticks = [k * step for k in range(first, last + 1)]
    return list(dict.fromkeys(0.0 if abs(t) < step * 1e-9 else t for t in ticks))  # a span lost in rounding: one


def tick_label(value: float, step: float) -> str:
    """A tick's label with just the digits its spacing needs: 0.5, 1.25, 2e+08, never 0.30000000000000004."""
    if value == 0:
        return "0"
    decimals = max(0, -math.floor(math.log10(step)) + 1) if step > 0 else 3
    if abs(value) >= 1e6 or abs(value) < 1e-4:  # exponent form, with the digits the spacing needs
        sig = max(1, math.floor(math.log10(abs(value))) - math.floor(math.log10(step)) + 2) if step > 0 else 3
        return f"{value:.{min(sig, 17)}g}"
    text = f"{value:.{min(decimals, 10)}f}"
    if "." in text:  # 0.50 -> 0.5, 2.0 -> 2; never 50 -> 5
        text = text.rstrip("0").rstrip(".")
    return text if text not in ("-0", "") else "0"


def too_large_to_draw(knobs: Knobs, lo: float, hi: float, error: float) -> bool:
    """True when drawing the curve over lo..hi would need numbers past DRAWABLE_LIMIT (a diverged run)."""
    if max(abs(lo), abs(hi)) > DRAWABLE_LIMIT:
        return True
    return max(error_at(knobs, lo), error_at(knobs, hi), error) > DRAWABLE_LIMIT


def tangent(knobs: Knobs, weight: float, half_width: float, ymax: float) -> tuple[list[float], list[float]] | None:
    """The tangent at `weight` (its slope is the derivative) over weight +/- half_width, shortened along
    the line so it stays between 0 and ymax; None where the slope leaves the floats."""
    s = slope(knobs, weight)
    if not math.isfinite(s):
        return None
    e = error_at(knobs, weight)
    if not math.isfinite(e):
        return None
    x0, x1 = weight - half_width, weight + half_width
    if s != 0:
        for bound in (0.0, ymax):  # where the line crosses 0 and ymax: the ends go no further
            x = weight + (bound - e) / s
            if x0 < x < weight:
                x0 = x
            elif weight < x < x1:
                x1 = x
    ys = [min(max(e + s * (x - weight), 0.0), ymax) for x in (x0, x1)]
    return [x0, x1], ys


def log10_errors(iterations: tuple[int, ...], errors: tuple[float, ...],
                 floor: float = -40.0) -> tuple[list[int], list[float]]:
    """(iteration, log10 error) for plotting; errors of exactly 0 are left out, tiny ones held at `floor`."""
    xs, ys = [], []
    for i, e in zip(iterations, errors):
        if e > 0:
            xs.append(i)
            ys.append(max(math.log10(e), floor))
    return xs, ys
