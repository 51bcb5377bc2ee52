"""A learning session: the weight's whole history, kept compactly, with step, back, reset and fast-forward.

Everything but the weight is recomputable from the knobs, so the history is a list of segments (one
per stretch of unchanged knobs and method), each an `array('d')` of weights: 8 bytes per iteration.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from . import rules
from .analysis import error_at, stability
from .knobs import KNOB_NAMES, KnobError, Knobs, Method, check_method, check_tolerance
from .rules import NonFinite, Record

DEFAULT_TOLERANCE = 1e-10
DEFAULT_FAST_FORWARD_LIMIT = 100_000

StatusKind = Literal["ready", "learning", "converged", "oscillating", "diverging", "stuck", "overflow"]


@dataclass(slots=True)
class Segment:
    """Iterations `start + 1 ...` taken with one set of knobs and one method; weights[0] is where they began."""

    start: int
    knobs: Knobs
    method: Method
    weights: array[float]
    converged_at: int | None = None  # where the run of iterations within the tolerance that ends now began

    @property
    def steps(self) -> int:
        return len(self.weights) - 1

    @property
    def end(self) -> int:
        return self.start + len(self.weights) - 1


@dataclass(frozen=True, slots=True)
class Halt:
    """Why the session cannot take iteration `iteration`: its numbers would leave the floats."""

    iteration: int
    reason: str
    cause: str = ""  # the end of `reason` that says why in alpha's terms (a lesson may not have shown alpha yet)


@dataclass(frozen=True, slots=True)
class Status:
    """Where learning stands, in a word (`kind`) and a sentence (`text`)."""

    kind: StatusKind
    text: str
    iteration: int | None = None
    growth: float | None = None
    cause: str = ""  # the end of `text` that explains it with alpha*input**2 ('' if none)

    def said(self, alpha_shown: bool = True) -> str:
        """The sentence, without its alpha*input**2 ending while alpha is hidden (a lesson before alpha)."""
        return self.text if alpha_shown or not self.cause else self.text.removesuffix(self.cause)


@dataclass(frozen=True, slots=True)
class FastForward:
    """What a fast-forward did: how many iterations it took and why it stopped."""

    steps: int
    stop: Literal["limit", "converged", "oscillating", "stuck", "overflow", "already"]


class Session:
    """One weight learning under the knobs, iteration by iteration, with its history."""

    def __init__(self, knobs: Knobs, method: Method = "gradient", tolerance: float = DEFAULT_TOLERANCE) -> None:
        check_method(method)
        self.tolerance = check_tolerance(tolerance)
        self._origin = (knobs, method)
        self._segments: list[Segment] = []
        self._halt: Halt | None = None
        self.reset()

    # ---- state -------------------------------------------------------------------------------
    @property
    def iteration(self) -> int:
        """How many iterations have been taken."""
        return self._segments[-1].end

    @property
    def weight(self) -> float:
        """The weight now (after the last iteration)."""
        return float(self._segments[-1].weights[-1])

    @property
    def method(self) -> Method:
        return self._segments[-1].method

    @property
    def knobs(self) -> Knobs:
        """The knobs now, with the weight knob at the current weight."""
        seg = self._segments[-1]
        w = seg.weights[-1]
        return seg.knobs if w == seg.knobs.weight else seg.knobs.with_values(weight=w)

    @property
    def origin(self) -> tuple[Knobs, Method]:
        """The knobs and method that reset returns to."""
        return self._origin

    @property
    def converged_at(self) -> int | None:
        """Converged describes the state now: the first of the iterations, since the knobs last changed,
        that are all within the tolerance up to the last one; None when the last one is not (a dip within
        the tolerance that grew again is not convergence)."""
        return self._segments[-1].converged_at

    @property
    def halt(self) -> Halt | None:
        return self._halt

    @property
    def segments(self) -> tuple[Segment, ...]:
        return tuple(self._segments)

    def history_bytes(self) -> int:
        """Bytes of weight history held (the arrays' items), the compactness figure."""
        return sum(seg.weights.itemsize * len(seg.weights) for seg in self._segments)

    def weights(self, start: int = 0, stop: int | None = None) -> list[float]:
        """The weight after each iteration from `start` to `stop` (0 is the weight before any)."""
        stop = self.iteration if stop is None else min(stop, self.iteration)
        out: list[float] = []
        for seg in self._segments:
            lo = max(start, seg.start)
            hi = min(stop, seg.end)
            if lo > hi:
                continue
            if out and lo == seg.start:
                out.pop()  # at a knob change the later stretch's start weight is the one that holds
            out.extend(seg.weights[lo - seg.start: hi - seg.start + 1])
        return out

    # ---- records -----------------------------------------------------------------------------
    def _segment_of(self, iteration: int) -> Segment:
        lo, hi = 0, len(self._segments) - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self._segments[mid].start < iteration:
                lo = mid
            else:
                hi = mid - 1
        return self._segments[lo]

    def knobs_at(self, iteration: int) -> Knobs:
        """The knobs under which iteration `iteration` was taken (the weight knob as it began)."""
        return self._segment_of(iteration).knobs

    def record(self, iteration: int) -> Record:
        """The record of iteration `iteration` (1-based), recomputed from its weight and knobs."""
        if not 1 <= iteration <= self.iteration:
            raise IndexError(f"iteration {iteration} is not in 1..{self.iteration}")
        seg = self._segment_of(iteration)
        k = seg.knobs
        w = seg.weights[iteration - seg.start - 1]
        return rules.step(seg.method, iteration, w, k.input, k.goal, k.alpha, k.step_amount)

    def records(self, start: int = 1, stop: int | None = None) -> Iterator[Record]:
        """Records of iterations start..stop (inclusive), in order."""
        stop = self.iteration if stop is None else min(stop, self.iteration)
        start = max(start, 1)
        for seg in self._segments:
            if seg.end < start or seg.start >= stop:
                continue
            k = seg.knobs
            step = rules.step
            ws = seg.weights
            for i in range(max(start, seg.start + 1), min(stop, seg.end) + 1):
                yield step(seg.method, i, ws[i - seg.start - 1], k.input, k.goal, k.alpha, k.step_amount)

    @property
    def last_record(self) -> Record | None:
        return self.record(self.iteration) if self.iteration else None

    def next_record(self) -> Record | None:
        """What the next iteration would compute (a preview), or None if it would leave the floats."""
        k = self._segments[-1].knobs
        try:
            return rules.step(self.method, self.iteration + 1, self.weight, k.input, k.goal, k.alpha, k.step_amount)
        except NonFinite:
            return None

    def copy(self) -> Session:
        """An independent copy (its own history), for undo."""
        twin = Session.__new__(Session)
        twin.tolerance = self.tolerance
        twin._origin = self._origin
        twin._halt = self._halt
        twin._segments = [Segment(seg.start, seg.knobs, seg.method, array("d", seg.weights), seg.converged_at)
                          for seg in self._segments]
        return twin

    # ---- changes -----------------------------------------------------------------------------
    def reset(self, knobs: Knobs | None = None, method: Method | None = None) -> None:
        """Forget the history and start again, from the origin or from new knobs and method (the new origin)."""
        if knobs is not None or method is not None:
            self._origin = (knobs or self._origin[0], check_method(method or self._origin[1]))
        k, m = self._origin
        self._segments = [Segment(0, k, m, array("d", [k.weight]))]
        self._halt = None

    def set_knobs(self, **changes: float) -> bool:
        """Change knobs from now on; the history keeps what happened. Raises KnobError, changing nothing."""
        unknown = [name for name in changes if name not in KNOB_NAMES]
        if unknown:
            raise KnobError(unknown[0], changes[unknown[0]], "is not a knob")
        new = self.knobs.with_values(**changes)
        if new == self.knobs:
            return False
        self._begin(new, self.method)
        return True

    def set_method(self, method: Method) -> bool:
        """Switch the update rule from now on; the history keeps what happened."""
        method = check_method(method)
        if method == self.method:
            return False
        self._begin(self.knobs, method)
        return True

    def _begin(self, knobs: Knobs, method: Method) -> None:
        seg = self._segments[-1]
        self._halt = None
        if seg.steps == 0 and len(self._segments) > 1:
            prev = self._segments[-2]
            if prev.method == method and prev.knobs.with_values(weight=prev.weights[-1]) == knobs:
                self._segments.pop()  # changed back to what held before: that stretch goes on
                return
        if seg.steps == 0:
            self._segments[-1] = Segment(seg.start, knobs, method, array("d", [knobs.weight]))
        else:
            self._segments.append(Segment(seg.end, knobs, method, array("d", [knobs.weight])))

    # ---- moving ------------------------------------------------------------------------------
    def step(self) -> Record | None:
        """Take one iteration; None (and a halt) if its numbers would overflow or stop being finite."""
        if self._halt is not None:
            return None
        seg = self._segments[-1]
        k = seg.knobs
        i = self.iteration + 1
        try:
            rec = rules.step(seg.method, i, seg.weights[-1], k.input, k.goal, k.alpha, k.step_amount)
        except NonFinite as exc:
            cause = _why(seg.method, k)
            self._halt = Halt(i, f"overflow at iteration {i}: {exc}{cause}", cause)
            return None
        seg.weights.append(rec.new_weight)
        if rec.error > self.tolerance:
            seg.converged_at = None
        elif seg.converged_at is None:
            seg.converged_at = i
        return rec

    def go_to(self, iteration: int) -> None:
        """Return to the state right after `iteration` (0: the start), knobs and method as they were then."""
        if iteration < 0:
            raise ValueError(f"iteration: {iteration} must be >= 0")
        if iteration >= self.iteration:
            return
        while len(self._segments) > 1 and self._segments[-1].start >= iteration:
            self._segments.pop()
        seg = self._segments[-1]
        del seg.weights[iteration - seg.start + 1:]
        if seg.converged_at is None or seg.converged_at > iteration:
            seg.converged_at = self._streak_start(seg)
        self._halt = None

    def _streak_start(self, seg: Segment) -> int | None:
        """Where the run of iterations within the tolerance that ends at `seg`'s last one began (None if
        the last one is outside it), found by walking back: only going back needs it."""
        start = None
        for i in range(seg.end, seg.start, -1):
            if self.record(i).error > self.tolerance:
                break
            start = i
        return start

    def back(self, steps: int = 1) -> bool:
        """Step back `steps` iterations; False if already at the start."""
        if self.iteration == 0:
            return False
        self.go_to(max(0, self.iteration - steps))
        return True

    def run(self, steps: int) -> FastForward:
        """Take up to `steps` iterations regardless of convergence (as the book's loops do); stops only at overflow."""
        return self._advance(steps, stop_early=False)

    def fast_forward(self, limit: int = DEFAULT_FAST_FORWARD_LIMIT) -> FastForward:
        """Step until converged, oscillating, stuck, overflow, or `limit` iterations."""
        if self.status.kind == "converged":
            return FastForward(0, "already")
        return self._advance(limit, stop_early=True)

    def _advance(self, limit: int, stop_early: bool) -> FastForward:
        if limit < 0:
            raise ValueError(f"steps: {limit} must be >= 0")
        if self._halt is not None:
            return FastForward(0, "overflow")
        seg = self._segments[-1]
        k = seg.knobs
        before = self.iteration
        still = self._still()
        if stop_early:
            # Nothing new can happen after these: take enough iterations to show it, then stop.
            early: Literal["stuck", "oscillating"] | None
            if k.input == 0 or (seg.method == "gradient" and (k.alpha == 0 or still)):
                limit, early = min(limit, 1), "stuck"
            elif seg.method == "gradient" and stability(k).product == 2:
                limit, early = min(limit, 2), "oscillating"
            else:
                early = None
        if seg.method == "gradient":
            # A rule that diverges passes through the tolerance (if at all) on its way out: no stop there.
            settles = stop_early and (not _diverges(k) or still)
            stop, first = rules.run_gradient(seg.weights, k.input, k.goal, k.alpha, limit,
                                             self.tolerance, settles)
        else:
            stop, first = rules.run_hot_cold(seg.weights, k.input, k.goal, k.step_amount, limit,
                                             self.tolerance, stop_early)
        if self.iteration > before:
            if not first:
                seg.converged_at = None
            elif first > 1 or seg.converged_at is None:
                seg.converged_at = before + first
        if stop == "overflow":
            self.step()  # recompute the failing iteration to name the number and record the halt
        elif stop == "limit" and stop_early and early is not None and self.iteration > before:
            return FastForward(self.iteration - before, early)
        return FastForward(self.iteration - before, stop)

    # ---- sharing: a few numbers say where a session stands ------------------------------------
    def recipe(self) -> dict[str, object]:
        """Everything needed to rebuild this session exactly: each stretch's knobs and method, and the
        iteration reached. A few hundred bytes, whatever the length of the history (presenter mode)."""
        return {
            "tolerance": self.tolerance,
            "segments": [{"start": seg.start, "method": seg.method, "knobs": seg.knobs.as_dict()}
                         for seg in self._segments],
            "iteration": self.iteration,
            "halted": self._halt is not None,  # the next iteration overflowed: say so here too
        }

    def follow(self, recipe: dict[str, object]) -> bool:
        """Become the session `recipe` describes: step on, or back, when only the iteration differs;
        rebuild from the recipe otherwise. Raises ValueError (changing nothing) on a bad recipe.

        True when the history was kept: every iteration both sessions have taken is the same as before,
        so what shows it (the iteration log) can be extended or cut in place instead of rebuilt."""
        segments, target, tolerance = _read_recipe(recipe)
        mine = [(seg.start, seg.method, seg.knobs) for seg in self._segments]
        kept = mine == segments[: len(mine)] and (len(mine) == len(segments)
                                                  or self.iteration <= segments[len(mine)][0])
        self._follow(segments, target, tolerance)
        if recipe.get("halted") and self._halt is None and self.iteration == target:
            self.step()  # fails the same way the original did, and records the same halt
        return kept

    def _follow(self, segments: list[tuple[int, Method, Knobs]], target: int, tolerance: float) -> None:
        mine = [(seg.start, seg.method, seg.knobs) for seg in self._segments]
        if tolerance == self.tolerance and mine == segments[: len(mine)] and (
                len(mine) == len(segments) or self.iteration <= segments[len(mine)][0]):
            if len(mine) == len(segments) and target < self.iteration:
                if target > segments[-1][0] or len(segments) == 1:  # still inside the last stretch
                    self.go_to(target)
                    return
            else:
                for start, method, knobs in segments[len(mine):]:
                    self.run(start - self.iteration)
                    self._segments.append(Segment(start, knobs, method, array("d", [knobs.weight])))
                self.run(target - self.iteration)
                return
        self.tolerance = tolerance
        first = segments[0]
        self._origin = (first[2], first[1])
        self.reset()
        for start, method, knobs in segments[1:]:
            self.run(start - self.iteration)
            self._segments.append(Segment(start, knobs, method, array("d", [knobs.weight])))
        self.run(target - self.iteration)

    def _still(self) -> bool:
        """The next iteration leaves the weight exactly where it is (a fixed point: nothing new can happen)."""
        if self._halt is not None:
            return False
        rec = self.next_record()
        return rec is not None and rec.new_weight == rec.weight

    # ---- status ------------------------------------------------------------------------------
    @property
    def status(self) -> Status:
        """Learning, converged at N, oscillating, diverging (with its growth per step), stuck, or overflow."""
        if self._halt is not None:
            return Status("overflow", self._halt.reason, self._halt.iteration, cause=self._halt.cause)
        seg = self._segments[-1]
        k = seg.knobs
        if self.converged_at is not None and not (seg.method == "gradient" and _diverges(k)):
            return Status("converged", f"converged at iteration {self.converged_at}", self.converged_at)
        still = self._still()
        if self.converged_at is not None and still:  # balanced on the goal, though any nudge would grow
            return Status("converged", f"converged at iteration {self.converged_at} (the weight stays put, "
                          "but a nudge would diverge)", self.converged_at)
        if k.input == 0:
            return Status("stuck", "stuck: input is 0, so there is nothing to learn")
        if seg.method == "gradient":
            if k.alpha == 0:
                return Status("stuck", "stuck: alpha is 0, so the weight cannot move")
        if seg.method == "gradient" and still and error_at(k, self.weight) > self.tolerance:
            return Status("stuck", "stuck: alpha * weight_delta is below the weight's last digit, so it stays")
        if self.iteration == 0:
            return Status("ready", "ready")
        if seg.method == "gradient":
            st = stability(k)
            if st.product > 2 or st.product < 0:
                g = st.error_growth
                now = " (within the tolerance for now)" if self.converged_at is not None else ""
                return Status("diverging", f"diverging: error x{_short(g)} per step{now}", growth=g)
            if st.product == 2:
                return Status("oscillating", "oscillating: alpha*input**2 = 2, the error never shrinks")
            return Status("learning", "learning")
        if seg.steps == 0:  # judge hot and cold only by its own iterations, not the rule before it
            return Status("learning", "learning")
        last = self.record(self.iteration)
        if last.direction == 0:
            if last.up_error != last.down_error:
                return Status("stuck", "stuck: a step of step_amount is below the weight's last digit, so it stays")
            return Status("stuck", "stuck: the up and down errors tie, so the weight stays")
        if self.iteration >= 2 and seg.steps >= 2:
            prev = self.record(self.iteration - 1)
            if prev.direction == -last.direction:
                return Status("oscillating", "oscillating: the weight bounces across the goal; try a smaller step")
        return Status("learning", "learning")


def _read_recipe(recipe: dict[str, object]) -> tuple[list[tuple[int, Method, Knobs]], int, float]:
    """Check a recipe from elsewhere (another process): ValueError names what is wrong."""
    try:
        tolerance = _float(recipe["tolerance"])
        target = _int(recipe["iteration"])
        raw = recipe["segments"]
        if not isinstance(raw, list):
            raise TypeError("segments")
        segments = [(_int(s["start"]), check_method(s["method"]), Knobs(**s["knobs"])) for s in raw]
    except (KeyError, TypeError, AttributeError, OverflowError) as exc:
        raise ValueError(f"recipe: missing or malformed {exc}") from None
    if not segments or segments[0][0] != 0:
        raise ValueError("recipe: the first stretch must start at iteration 0")
    starts = [s[0] for s in segments]
    if starts != sorted(starts) or not 0 <= target <= 10_000_000 or target < starts[-1]:
        raise ValueError("recipe: stretches out of order or an iteration outside them")
    return segments, target, check_tolerance(tolerance)


def _int(value: object) -> int:
    """A whole number from JSON; TypeError (or ValueError) for anything else."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise TypeError(f"{value!r} is not a number")
    return int(value)


def _float(value: object) -> float:
    """A number from JSON; TypeError (or ValueError) for anything else."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise TypeError(f"{value!r} is not a number")
    return float(value)


def _diverges(knobs: Knobs) -> bool:
    """Gradient descent with these knobs moves away from the goal weight: alpha*input**2 outside [0, 2]."""
    product = stability(knobs).product
    return product < 0 or product > 2


def _why(method: Method, knobs: Knobs) -> str:
    """The lesson behind an overflow, for gradient descent: alpha * input^2 outside (0, 2)."""
    if method != "gradient":
        return ""
    why = stability(knobs).why
    return f" (diverged: {why})" if why else ""


def _short(x: float) -> str:
    """A growth factor for people: 9, 2.25, 1.0001."""
    if x >= 1e6:
        return f"{x:.3g}"
    text = f"{x:.4g}"
    return text
