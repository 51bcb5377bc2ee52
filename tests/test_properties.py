"""Property tests of the engine (hypothesis): finiteness, convergence, hot and cold's guarantee, replay."""

from __future__ import annotations

import math
import sys

from hypothesis import HealthCheck, assume, event, example, given, settings
from hypothesis import strategies as st

from knobtui.learning import (Knobs, Session, error_at, hot_cold_step, predicted_iterations, stability)

EPS = sys.float_info.epsilon

FAST = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MEDIUM = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

finite = st.floats(allow_nan=False, allow_infinity=False)
positive = st.floats(min_value=0.0, exclude_min=True, allow_nan=False, allow_infinity=False)
moderate = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)
# Any finite value, with the interesting ranges (tiny, huge, ordinary) all likely.
anything = st.one_of(finite, moderate, st.sampled_from([0.0, -0.0, 1e-308, 5e-324, 1.7e308, -1.7e308, 1e154]))
any_step = st.one_of(positive, st.floats(min_value=1e-6, max_value=10.0), st.sampled_from([5e-324, 1.7e308]))
methods = st.sampled_from(["gradient", "hot-cold"])


@st.composite
def any_knobs(draw) -> Knobs:
    return Knobs(weight=draw(anything), input=draw(anything), goal=draw(anything), alpha=draw(anything),
                 step_amount=draw(any_step))


small = st.floats(min_value=-10.0, max_value=10.0)


@st.composite
def ordinary_knobs(draw) -> Knobs:
    """Knobs of everyday size, where a hot and cold step is often as big as the miss."""
    return Knobs(weight=draw(small), input=draw(small), goal=draw(small), alpha=draw(small),
                 step_amount=draw(st.floats(min_value=1e-3, max_value=10.0)))


def record_numbers(rec) -> list[float]:
    vals = [rec.weight, rec.prediction, rec.error, rec.new_weight]
    if rec.method == "gradient":
        assert rec.delta is not None and rec.weight_delta is not None
        assert rec.up_error is None and rec.down_error is None
        vals += [rec.delta, rec.weight_delta]
    else:
        assert rec.up_error is not None and rec.down_error is not None
        assert rec.delta is None and rec.weight_delta is None
        vals += [rec.up_error, rec.down_error]
    return vals


def check_all_finite(s: Session) -> None:
    n = 0
    for rec in s.records():
        n += 1
        assert all(math.isfinite(v) for v in record_numbers(rec)), rec
    assert n == s.iteration
    ws = s.weights()
    assert len(ws) == s.iteration + 1
    assert all(math.isfinite(w) for w in ws)
    assert math.isfinite(s.weight)


def check_converged_at(s: Session) -> None:
    """converged_at describes the state now: the first of the iterations since the knobs last changed that
    are all within the tolerance up to the last one (None when the last one is not)."""
    seg = s.segments[-1]
    errors = [r.error for r in s.records(seg.start + 1)]
    start = None
    for i in range(len(errors) - 1, -1, -1):
        if errors[i] > s.tolerance:
            break
        start = seg.start + 1 + i
    assert s.converged_at == start


# ---------------------------------------------------------------------------------------------
# Any finite knobs: never raise, never record a non-finite number
# ---------------------------------------------------------------------------------------------

@FAST  # 2000 iterations an example: 100 examples (the tiny, huge and ordinary ranges all drawn) are enough
@given(any_knobs(), methods)
def test_run_2000_never_raises_never_non_finite(knobs: Knobs, method: str) -> None:
    s = Session(knobs, method)
    ff = s.run(2000)
    event(f"{method} run: {ff.stop}")
    if ff.stop == "limit":
        assert ff.steps == 2000 and s.halt is None
    else:
        assert ff.stop == "overflow" and ff.steps < 2000
        assert s.status.kind == "overflow" and s.halt.iteration == s.iteration + 1
        assert s.next_record() is None
    check_all_finite(s)
    check_converged_at(s)
    s.status  # never raises
    s.next_record()


@MEDIUM
@given(any_knobs(), methods)
def test_fast_forward_never_raises_never_non_finite(knobs: Knobs, method: str) -> None:
    s = Session(knobs, method)
    ff = s.fast_forward(5000)
    event(f"{method} fast_forward: {ff.stop}")
    assert ff.stop in ("limit", "converged", "oscillating", "stuck", "overflow")
    assert ff.steps == s.iteration <= 5000
    if ff.stop == "converged":
        assert s.converged_at == s.iteration
        assert s.record(s.iteration).error <= s.tolerance
    check_all_finite(s)
    check_converged_at(s)
    assert s.status.kind in ("learning", "converged", "oscillating", "diverging", "stuck", "overflow")


@FAST
@given(any_knobs(), methods, st.integers(min_value=0, max_value=300))
def test_run_equals_stepping(knobs: Knobs, method: str, n: int) -> None:
    """The tight loop of run() and the one-at-a-time step() compute the same weights and stop at the same place."""
    a, b = Session(knobs, method), Session(knobs, method)
    a.run(n)
    stepped = []
    for _ in range(n):
        rec = b.step()
        if rec is None:
            break
        stepped.append(rec)
    assert [repr(w) for w in a.weights()] == [repr(w) for w in b.weights()]
    assert a.halt == b.halt
    assert a.converged_at == b.converged_at
    assert [repr(r) for r in a.records()] == [repr(r) for r in stepped]


# ---------------------------------------------------------------------------------------------
# Gradient descent converges iff 0 < alpha * input^2 < 2
# ---------------------------------------------------------------------------------------------

signed_input = st.tuples(st.floats(min_value=1e-2, max_value=1e2), st.booleans()).map(
    lambda t: -t[0] if t[1] else t[0])
bounded = st.floats(min_value=-100.0, max_value=100.0, allow_nan=False)


@MEDIUM
@given(signed_input, st.floats(min_value=0.05, max_value=1.95), bounded, bounded)
def test_gradient_converges_inside_zero_two(x: float, product: float, weight: float, goal: float) -> None:
    alpha = product / (x * x)
    k = Knobs(weight=weight, input=x, goal=goal, alpha=alpha)
    st_ = stability(k)
    assert st_.converges and 0.04 < st_.product < 1.96
    s = Session(k, "gradient")
    ff = s.fast_forward(100_000)
    assert ff.stop == "converged", (k, ff)
    assert s.status.kind == "converged"
    assert s.record(s.converged_at).error <= s.tolerance
    predicted = predicted_iterations(k, "gradient", weight, s.tolerance)
    assert predicted is not None and abs(predicted - s.converged_at) <= 1, (predicted, s.converged_at)


@MEDIUM
@given(signed_input, st.one_of(st.floats(min_value=2.1, max_value=20.0), st.floats(min_value=-20.0, max_value=-0.1)),
       bounded, bounded)
def test_gradient_error_grows_outside_zero_two(x: float, product: float, weight: float, goal: float) -> None:
    assume(abs(x * weight - goal) >= 1e-3)
    k = Knobs(weight=weight, input=x, goal=goal, alpha=product / (x * x))
    assert not stability(k).converges
    s = Session(k, "gradient")
    s.run(40)
    errors = [r.error for r in s.records()]
    assert len(errors) >= 2
    for before, after in zip(errors, errors[1:]):
        # |1 - product| >= 1.1, so the error is multiplied by at least 1.21 each step
        assert after >= 1.2 * before, (before, after)
    assert s.status.kind in ("diverging", "overflow")
    assert predicted_iterations(k, "gradient", weight, s.tolerance) is None


# ---------------------------------------------------------------------------------------------
# Hot and cold: what one step guarantees
# ---------------------------------------------------------------------------------------------
#
# Write r = input*w - goal (the miss) and d = input*step. Then up = (r + d)^2 and down = (r - d)^2, and
# the rule moves to the neighbour with the smaller error, so
#     error(new weight) = min(up, down) = (|r| - |d|)^2      (exactly, in real arithmetic)
# Hence: (1) the new miss is ||r| - |d||, never more than max(|r|, |d|): the error can get worse, but
# never beyond max(error, (input*step)^2), i.e. by at most a step's worth; and (2) it does not get
# worse at all when the weight is at least half a step from the goal (|d| <= 2|r|).
# In floats the first part holds bit for bit (the next error IS the chosen neighbour's error); the
# bounds hold up to the rounding of input*(w +/- step) - goal, allowed for by `slack` below.


def _slack(k: Knobs, w: float) -> float:
    return 8 * EPS * (abs(k.input) * (abs(w) + k.step_amount) + abs(k.goal)) + 1e-300


@settings(max_examples=400, deadline=None)
@given(st.one_of(any_knobs(), ordinary_knobs()))
def test_hot_cold_moves_to_the_better_neighbour_exactly(k: Knobs) -> None:
    w, s = k.weight, k.step_amount
    try:
        rec = hot_cold_step(1, w, k.input, k.goal, s)
    except ArithmeticError:
        assume(False)
    up, down = rec.up_error, rec.down_error
    if down < up:
        assert rec.new_weight == w - s
        assert error_at(k, rec.new_weight) == down
    elif up < down:
        assert rec.new_weight == w + s
        assert error_at(k, rec.new_weight) == up
    else:
        assert rec.new_weight == w
        assert error_at(k, rec.new_weight) == rec.error
    assert rec.error == error_at(k, w)
    new_error = error_at(k, rec.new_weight)
    assert new_error <= max(up, down)
    if up != down:
        assert new_error == min(up, down)


@settings(max_examples=400, deadline=None)
@given(st.one_of(any_knobs(), ordinary_knobs()))
@example(Knobs(weight=0.1, input=8.5, goal=1.0, step_amount=0.1))  # toes: 0.0225 -> 0.49, worse
@example(Knobs(weight=0.5, input=0.5, goal=0.8, step_amount=0.001))  # hot-cold preset: better
def test_hot_cold_error_never_worse_than_a_steps_worth(k: Knobs) -> None:
    w = k.weight
    try:
        rec = hot_cold_step(1, w, k.input, k.goal, k.step_amount)
    except ArithmeticError:
        assume(False)
    miss = math.sqrt(rec.error)  # |r|
    new_miss = math.sqrt(error_at(k, rec.new_weight))
    step_miss = abs(k.input * k.step_amount)  # |d|, maybe inf for huge values: then the bound is vacuous
    slack = _slack(k, w)
    event("worse" if new_miss > miss else "not worse")
    assert new_miss <= max(miss, step_miss) + slack, (rec, step_miss)
    # at least half a step from the goal: the error does not get worse
    if step_miss <= 2 * miss - 4 * slack:
        assert new_miss <= miss + slack, rec
    # tie only when no move can help: both neighbours are exactly as far as each other
    if rec.direction == 0 and rec.up_error == rec.down_error:
        assert rec.new_weight == w


@FAST
@given(st.floats(min_value=-10, max_value=10), st.floats(min_value=0.5, max_value=10).flatmap(
    lambda m: st.sampled_from([m, -m])), st.floats(min_value=-10, max_value=10),
    st.floats(min_value=1e-2, max_value=1.0))
def test_hot_cold_ends_within_a_step(weight: float, x: float, goal: float, step: float) -> None:
    """Fast-forward stops near the goal weight: within one step of it, oscillating or converged."""
    k = Knobs(weight=weight, input=x, goal=goal, step_amount=step)
    s = Session(k, "hot-cold")
    ff = s.fast_forward(1_000_000)
    assert ff.stop in ("converged", "oscillating", "stuck"), ff
    assert abs(s.weight - goal / x) <= step * (1 + 1e-6) + 1e-9


# ---------------------------------------------------------------------------------------------
# Back and go_to replay exactly
# ---------------------------------------------------------------------------------------------

@FAST
@given(any_knobs(), methods, st.integers(min_value=1, max_value=60), st.data())
def test_back_then_step_again_identical(knobs: Knobs, method: str, n: int, data) -> None:
    s = Session(knobs, method)
    first = []
    for _ in range(n):
        rec = s.step()
        if rec is None:
            break
        first.append(rec)
    assume(first)
    back = data.draw(st.integers(min_value=1, max_value=len(first)))
    s.back(back)
    assert s.iteration == len(first) - back
    again = [s.step() for _ in range(back)]
    assert [repr(r) for r in again] == [repr(r) for r in first[-back:]]
    assert [repr(r) for r in s.records()] == [repr(r) for r in first]


@FAST
@given(any_knobs(), methods, st.integers(min_value=1, max_value=2000), st.data())
def test_go_to_then_run_reproduces_weights(knobs: Knobs, method: str, n: int, data) -> None:
    s = Session(knobs, method)
    s.run(n)
    weights = [repr(w) for w in s.weights()]
    halt = s.halt
    k = data.draw(st.integers(min_value=0, max_value=s.iteration))
    s.go_to(k)
    assert s.iteration == k
    check_converged_at(s)
    assert [repr(w) for w in s.weights()] == weights[:k + 1]
    s.run(n - k)
    assert [repr(w) for w in s.weights()] == weights
    assert s.halt == halt


@FAST
@given(any_knobs(), methods, st.integers(min_value=1, max_value=40), any_knobs(),
       st.integers(min_value=1, max_value=40), st.data())
def test_back_across_a_knob_change(k1: Knobs, method: str, n1: int, k2: Knobs, n2: int, data) -> None:
    s = Session(k1, method)
    s.run(n1)
    i1 = s.iteration
    assume(i1 >= 1)  # a change before the first iteration replaces the starting knobs: nothing to cross
    before = [repr(r) for r in s.records()]
    knobs_then = s.knobs
    s.set_knobs(input=k2.input, goal=k2.goal, alpha=k2.alpha, step_amount=k2.step_amount)
    knobs_changed = s.knobs
    s.run(n2)
    check_converged_at(s)
    took_new_steps = s.iteration > i1
    s.go_to(i1)
    assert s.iteration == i1
    # go_to(i1) crosses the change only if an iteration was taken after it (the run may halt at once);
    # otherwise it is a no-op and the change stands.
    assert s.knobs == (knobs_then if took_new_steps else knobs_changed)
    check_converged_at(s)
    assert [repr(r) for r in s.records()] == before


from hypothesis import given as _given, settings as _settings, strategies as _st  # noqa: E402

_OPS = _st.lists(_st.one_of(
    _st.tuples(_st.just("run"), _st.integers(0, 40)),
    _st.tuples(_st.just("back"), _st.integers(1, 10)),
    _st.tuples(_st.just("alpha"), _st.sampled_from([0.1, 0.5, 1.0, 2.5])),
    _st.tuples(_st.just("weight"), _st.floats(-5, 5)),
    _st.tuples(_st.just("method"), _st.sampled_from(["hot-cold", "gradient"])),
), max_size=12)


@_settings(max_examples=150, deadline=None)
@_given(ops=_OPS, follower_ops=_OPS)
def test_a_follower_becomes_exactly_the_session_its_recipe_describes(ops, follower_ops) -> None:  # type: ignore[no-untyped-def]
    """Presenter mode: whatever either side did before, follow(recipe) gives the same records, knobs and status."""
    import json as _json

    from knobtui.learning import Session as _Session
    from knobtui.learning import get_preset as _get_preset

    def play(s, steps):  # type: ignore[no-untyped-def]
        for op, arg in steps:
            if op == "run":
                s.run(arg)
            elif op == "back":
                s.back(arg)
            elif op == "method":
                s.set_method(arg)
            else:
                s.set_knobs(**{op: arg})

    presenter = _Session(_get_preset("gradient").knobs, "gradient")
    follower = _Session(_get_preset("toes").knobs, "hot-cold")
    play(follower, follower_ops)
    for i in range(0, len(ops) + 1, 3):
        play(presenter, ops[i:i + 3])
        follower.follow(_json.loads(_json.dumps(presenter.recipe())))  # as it travels: JSON
        assert [repr(r) for r in follower.records()] == [repr(r) for r in presenter.records()]
        assert follower.knobs == presenter.knobs and follower.method == presenter.method
        assert follower.status == presenter.status
