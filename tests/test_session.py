"""Unit tests of knobtui/learning/session.py: Session, status, fast-forward vs run, following a recipe."""

from __future__ import annotations

import math

import pytest

from enginekit import preset_session
from knobtui.learning import (DEFAULT_TOLERANCE, FastForward, KnobError, Knobs, Session, get_preset, predicted_iterations,
                              stability)


def all_numbers(rec) -> list[float]:
    return [v for v in (rec.weight, rec.prediction, rec.error, rec.new_weight, rec.delta,
                        rec.weight_delta, rec.up_error, rec.down_error) if v is not None]


# ---------------------------------------------------------------------------------------------
# Session: step, back, go_to, reset, set_knobs, set_method
# ---------------------------------------------------------------------------------------------

def test_session_step_back_go_to_reset() -> None:
    s = preset_session("gradient")
    assert (s.iteration, s.weight) == (0, 0.5)
    assert s.last_record is None
    recs = [s.step() for _ in range(10)]
    assert s.iteration == 10
    assert [r.iteration for r in recs] == list(range(1, 11))
    assert s.weight == recs[-1].new_weight
    assert s.weights() == [0.5] + [r.new_weight for r in recs]
    assert s.back() is True
    assert (s.iteration, s.weight) == (9, recs[8].new_weight)
    assert s.back(3) is True
    assert s.iteration == 6
    s.go_to(2)
    assert (s.iteration, s.weight) == (2, recs[1].new_weight)
    s.go_to(5)  # go_to forward is a no-op: the future is gone
    assert s.iteration == 2
    assert s.back(100) is True
    assert (s.iteration, s.weight) == (0, 0.5)
    assert s.back() is False
    with pytest.raises(ValueError):
        s.go_to(-1)
    s.run(7)
    s.reset()
    assert (s.iteration, s.weight, s.converged_at, s.halt) == (0, 0.5, None, None)
    s.reset(Knobs(weight=3.0), "hot-cold")
    assert (s.iteration, s.weight, s.method) == (0, 3.0, "hot-cold")
    s.run(3)
    s.reset()
    assert (s.weight, s.method) == (3.0, "hot-cold")  # reset with knobs sets a new origin


def test_records_recomputed_equal_step_results() -> None:
    for name in ("gradient", "hot-cold", "toes", "watch-four", "divergence"):
        s = preset_session(name)
        stepped = [s.step() for _ in range(30)]
        assert list(s.records()) == stepped
        assert [s.record(i) for i in range(1, 31)] == stepped
        assert list(s.records(5, 9)) == stepped[4:9]
        assert s.last_record == stepped[-1]
        with pytest.raises(IndexError):
            s.record(0)
        with pytest.raises(IndexError):
            s.record(31)


def test_set_knobs_mid_run_keeps_history_and_back_restores_old_knobs() -> None:
    s = preset_session("gradient")
    s.run(5)
    before = list(s.records())
    old_knobs = s.knobs
    assert s.set_knobs(alpha=0.1, goal=1.0) is True
    assert s.iteration == 5
    assert list(s.records()) == before  # history kept
    assert (s.knobs.alpha, s.knobs.goal, s.knobs.weight) == (0.1, 1.0, old_knobs.weight)
    after = [s.step() for _ in range(3)]
    assert all(r.error == (r.prediction - 1.0) ** 2 for r in after)
    assert s.knobs_at(5) == get_preset("gradient").knobs
    assert s.knobs_at(6).alpha == 0.1
    assert list(s.records(1, 5)) == before
    s.back(3)
    assert s.iteration == 5
    assert s.knobs == old_knobs  # back across the knob change: the old knobs again
    s.back()
    assert s.knobs.alpha == 1.0 and s.knobs.goal == 0.8
    assert s.step() == before[4]
    # a refused change changes nothing
    with pytest.raises(KnobError):
        s.set_knobs(step_amount=-1.0)
    with pytest.raises(KnobError):
        s.set_knobs(nope=1.0)
    assert s.knobs == old_knobs
    assert s.set_knobs(alpha=1.0) is False  # no change


def test_set_knobs_weight_mid_run() -> None:
    s = preset_session("gradient")
    s.run(3)
    s.set_knobs(weight=2.0)
    assert (s.iteration, s.weight) == (3, 2.0)
    rec = s.step()
    assert rec.weight == 2.0 and rec.iteration == 4
    assert s.record(4).weight == 2.0
    # back to iteration 3 crosses the change (it came after iteration 3): the old weight again
    s.back()
    assert s.iteration == 3
    assert s.weight == s.record(3).new_weight != 2.0
    assert s.knobs == get_preset("gradient").knobs.with_values(weight=s.weight)


def test_set_method_mid_run() -> None:
    s = preset_session("gradient")
    s.run(4)
    assert s.set_method("gradient") is False
    assert s.set_method("hot-cold") is True
    assert s.method == "hot-cold"
    rec = s.step()
    assert rec.method == "hot-cold" and rec.iteration == 5
    assert [r.method for r in s.records()] == ["gradient"] * 4 + ["hot-cold"]
    s.back()
    s.back()
    assert s.method == "gradient"
    with pytest.raises(ValueError, match="sideways"):
        s.set_method("sideways")  # type: ignore[arg-type]


def test_history_bytes_eight_per_step() -> None:
    s = preset_session("hot-cold")
    n = 1_000_000
    assert s.run(n).steps == n
    assert s.iteration == n
    b = s.history_bytes()
    assert b == 8 * (n + 1)
    assert b / n < 16


def test_tolerance_validation() -> None:
    for bad in (-1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="tolerance"):
            Session(Knobs(), "gradient", bad)
    with pytest.raises(ValueError):
        Session(Knobs(), "sideways")  # type: ignore[arg-type]
    assert Session(Knobs()).tolerance == DEFAULT_TOLERANCE


# ---------------------------------------------------------------------------------------------
# Status
# ---------------------------------------------------------------------------------------------

def test_status_ready_learning_converged() -> None:
    s = preset_session("gradient")
    assert s.status.kind == "ready"
    s.step()
    assert s.status.kind == "learning"
    s.fast_forward()
    st = s.status
    assert (st.kind, st.iteration, st.text) == ("converged", 39, "converged at iteration 39")
    s.back(10)
    assert s.status.kind == "learning"
    h = preset_session("hot-cold")
    h.run(10)
    assert h.status.kind == "learning"


def test_status_oscillating_toes() -> None:
    s = preset_session("toes")
    s.step()
    assert s.status.kind == "learning"
    s.step()
    assert s.status.kind == "oscillating"
    assert "smaller step" in s.status.text
    ff = preset_session("toes").fast_forward()
    assert ff.stop == "oscillating"


def test_status_oscillating_gradient_product_two() -> None:
    k = Knobs(weight=0.5, input=1.0, goal=0.8, alpha=2.0)
    assert stability(k).product == 2
    s = Session(k, "gradient")
    s.run(6)
    assert s.status.kind == "oscillating"
    errors = [r.error for r in s.records()]
    assert all(e == errors[0] for e in errors)  # the error never shrinks
    assert Session(k, "gradient").fast_forward().stop == "oscillating"


def test_status_diverging_growth_nine() -> None:
    s = preset_session("divergence")
    assert s.status.kind == "ready"
    s.run(3)
    st = s.status
    assert st.kind == "diverging"
    assert st.growth == 9.0
    assert "x9 " in st.text


@pytest.mark.parametrize("knobs,method,why", [
    (get_preset("stopping").knobs, "gradient", "input is 0"),
    (Knobs(alpha=0.0), "gradient", "alpha is 0"),
    (Knobs(input=0.0), "hot-cold", "input is 0"),
    # a hot-cold tie with an error far from 0: w +/- step rounds back to w
    (Knobs(weight=1e20, input=1.0, goal=0.8, step_amount=1.0), "hot-cold", "tie"),
])
def test_status_stuck(knobs: Knobs, method: str, why: str) -> None:
    s = Session(knobs, method)
    s.step()
    st = s.status
    assert st.kind == "stuck", st
    assert why in st.text
    assert s.weight == knobs.weight
    ff = Session(knobs, method).fast_forward()
    assert (ff.steps, ff.stop) == (1, "stuck")


def test_status_stuck_before_any_step_for_input_zero() -> None:
    assert preset_session("stopping").status.kind == "stuck"


def test_overflow_divergence_fast_forward() -> None:
    s = preset_session("divergence")
    ff = s.fast_forward()
    assert (ff.steps, ff.stop) == (325, "overflow")
    assert s.iteration == 325
    st = s.status
    assert (st.kind, st.iteration) == ("overflow", 326)
    assert "iteration 326" in st.text and "alpha*input**2 = 4.0" in st.text
    assert s.halt is not None and s.halt.iteration == 326
    for rec in s.records():
        assert all(math.isfinite(v) for v in all_numbers(rec))
    assert all(math.isfinite(w) for w in s.weights())
    # halted: stepping does nothing, more running does nothing
    assert s.step() is None
    assert s.run(10).steps == 0 and s.iteration == 325
    assert s.next_record() is None
    # back clears the halt, and the same overflow comes again
    s.back()
    assert s.halt is None and s.step() is not None and s.step() is None
    assert s.status.iteration == 326


def test_overflow_run_stops_too() -> None:
    s = preset_session("divergence")
    ff = s.run(400)
    assert (ff.steps, ff.stop) == (325, "overflow")


# ---------------------------------------------------------------------------------------------
# fast_forward vs run
# ---------------------------------------------------------------------------------------------

def test_run_ignores_convergence_fast_forward_stops() -> None:
    a = preset_session("gradient")
    ff = a.fast_forward()
    assert (ff.steps, ff.stop) == (39, "converged")
    b = preset_session("gradient")
    r = b.run(100)
    assert (r.steps, r.stop) == (100, "limit")
    assert b.converged_at == 39
    assert b.weights()[:40] == a.weights()
    # already converged: fast_forward does nothing; run keeps going
    assert a.fast_forward() .stop == "already"
    assert a.fast_forward().steps == 0
    assert a.run(5).steps == 5 and a.iteration == 44


def test_fast_forward_limit() -> None:
    s = preset_session("hot-cold")
    ff = s.fast_forward(10)
    assert (ff.steps, ff.stop) == (10, "limit")
    ff = s.fast_forward()
    assert (ff.steps, ff.stop) == (1091, "converged")
    assert s.converged_at == 1101
    with pytest.raises(ValueError):
        s.run(-1)


def test_run_and_step_agree() -> None:
    for name in ("gradient", "hot-cold", "toes", "divergence", "alpha", "negative"):
        a, b = preset_session(name), preset_session(name)
        a.run(300)
        for _ in range(300):
            if b.step() is None:
                break
        assert a.weights() == b.weights()
        assert a.iteration == b.iteration
        assert a.converged_at == b.converged_at
        assert a.status == b.status


def test_hot_cold_after_converging_keeps_bouncing_with_run() -> None:
    """Converged is the state now: hot and cold bounces out of the tolerance after 1101, and says so."""
    s = preset_session("hot-cold")
    s.run(1101)
    assert (s.converged_at, s.status.kind) == (1101, "converged")
    s.run(9)
    assert s.converged_at is None
    assert s.status.kind == "oscillating"
    s.back(9)
    assert (s.converged_at, s.status.text) == (1101, "converged at iteration 1101")  # going back finds it again
    s.run(9)
    dirs = [r.direction for r in s.records(1102)]
    assert all(d != 0 for d in dirs)
    assert all(a == -b for a, b in zip(dirs, dirs[1:]))


def test_fast_forward_after_converging_then_moving_the_weight() -> None:
    """Convergence belongs to a stretch of knobs: change them after converging and it learns again."""
    s = preset_session("gradient")
    s.fast_forward()
    assert s.converged_at == 39
    s.set_knobs(weight=100.0)
    assert s.converged_at is None
    assert s.status.kind != "converged"
    ff = s.fast_forward()
    assert ff.stop == "converged" and ff.steps > 0
    assert s.converged_at == 39 + ff.steps
    assert s.record(s.converged_at).error <= s.tolerance
    # back across the change: the first stretch's convergence again
    s.go_to(39)
    assert (s.converged_at, s.status.kind) == (39, "converged")
    s.go_to(38)
    assert s.converged_at is None and s.status.kind == "learning"


# ---------------------------------------------------------------------------------------------
# Knob and method changes at a stretch's boundary, following a recipe
# ---------------------------------------------------------------------------------------------

def test_weights_show_a_weight_knob_change_at_the_boundary() -> None:
    """The trail ends at the weight that holds now, also right after the weight knob was turned."""
    s = preset_session("gradient")
    s.run(3)
    s.set_knobs(weight=2.0)
    assert s.weights()[-1] == 2.0 == s.weight
    assert len(s.weights()) == s.iteration + 1


def test_hot_cold_status_right_after_a_method_switch_is_its_own() -> None:
    s = Session(Knobs(0.5, 0.5, 0.8, alpha=0.0), "gradient")
    s.step()
    s.set_method("hot-cold")
    assert s.status.kind != "stuck"
    assert s.fast_forward(5).steps == 5


def test_tiny_alpha_input_is_stuck_not_oscillating() -> None:
    """A change below the weight's last digit never moves it: stuck (and said why), not learning forever."""
    for knobs in (Knobs(0.5, 1e-200, 0.8), Knobs(0.5, 0.5, 0.8, alpha=1e-17)):
        s = Session(knobs, "gradient")
        s.step()
        assert s.weight == 0.5 and s.status.kind == "stuck" and "last digit" in s.status.text
        assert s.fast_forward() == FastForward(1, "stuck")
        assert predicted_iterations(knobs, "gradient", 0.5, 1e-10) is None


def test_follow_back_to_where_a_new_stretch_begins_keeps_its_knobs() -> None:
    presenter = preset_session("gradient")
    presenter.run(5)
    presenter.set_knobs(alpha=0.5)
    follower = preset_session("gradient")
    presenter.run(3)
    follower.follow(presenter.recipe())
    presenter.go_to(5)
    presenter.set_knobs(alpha=0.5)  # the lesson's state: the new alpha, no iteration under it yet
    follower.follow(presenter.recipe())
    assert follower.knobs == presenter.knobs and follower.iteration == 5
    assert [s.knobs for s in follower.segments] == [s.knobs for s in presenter.segments]
