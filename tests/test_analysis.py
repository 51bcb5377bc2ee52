"""Unit tests of knobtui/learning/analysis.py: slope, goal weight, stability, predicted iterations, plot geometry."""

from __future__ import annotations

import math

import pytest

from enginekit import preset_session
from knobtui.learning import (DEFAULT_TOLERANCE, Knobs, Session, error_at, get_preset, goal_weight,
                              predicted_iterations, slope, stability)


# ---------------------------------------------------------------------------------------------
# Analysis
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["gradient", "from-zero", "watch-four", "divergence", "alpha", "negative",
                                  "scaling", "stopping"])
def test_slope_is_twice_weight_delta(name: str) -> None:
    s = preset_session(name)
    s.run(8)
    for rec in s.records():
        k = s.knobs_at(rec.iteration)
        assert slope(k, rec.weight) == 2 * rec.weight_delta
        # the weight moves by alpha * weight_delta = alpha * slope / 2, against the slope
        move = rec.weight - rec.new_weight
        rounding = 4 * 2.2e-16 * max(abs(rec.weight), abs(rec.new_weight))
        assert move == pytest.approx(k.alpha * slope(k, rec.weight) / 2, rel=1e-12, abs=rounding)


def test_goal_weight_and_error_at() -> None:
    k = Knobs(input=0.5, goal=0.8)
    assert goal_weight(k) == 1.6
    assert error_at(k, 1.6) == 0.0
    assert error_at(k, 0.5) == 0.30250000000000005
    assert goal_weight(Knobs(input=0.0)) is None
    assert goal_weight(Knobs(input=1e-320, goal=1e300)) is None  # not finite
    assert goal_weight(Knobs(input=-2.0, goal=1.0)) == -0.5
    assert error_at(Knobs(input=1e200), 1e200) == math.inf
    assert slope(Knobs(input=0.5, goal=0.8), 1.6) == 0.0


@pytest.mark.parametrize("inp,alpha,product,factor,one,converges", [
    (0.5, 1.0, 0.25, 0.75, 4.0, True),
    (2.0, 1.0, 4.0, 3.0, 0.25, False),
    (2.0, 0.1, 0.4, 0.6, 0.25, True),
    (1.0, 2.0, 2.0, 1.0, 1.0, False),
    (1.0, 1.0, 1.0, 0.0, 1.0, True),
    (3.0, 0.0, 0.0, 1.0, 1 / 9, False),
    (1.0, -0.5, -0.5, 1.5, 1.0, False),
])
def test_stability(inp, alpha, product, factor, one, converges) -> None:
    st = stability(Knobs(input=inp, alpha=alpha))
    assert st.product == pytest.approx(product)
    assert st.factor == pytest.approx(factor)
    assert st.one_step_alpha == pytest.approx(one)
    assert st.converges is converges
    assert st.error_growth == pytest.approx(factor * factor)


def test_stability_edge_values() -> None:
    assert stability(Knobs(input=0.0)).one_step_alpha is None
    st = stability(Knobs(input=1e200, alpha=1e200))
    assert st.product == math.inf and not st.converges
    assert stability(Knobs(input=1e-200)).one_step_alpha is None  # 1/input^2 overflows


def test_one_step_alpha_lands_in_one_step() -> None:
    k = Knobs(weight=0.5, input=0.5, goal=0.8)
    k = k.with_values(alpha=stability(k).one_step_alpha)
    s = Session(k, "gradient")
    s.step()
    assert error_at(k, s.weight) == pytest.approx(0.0, abs=1e-30)
    assert s.step().error <= DEFAULT_TOLERANCE


@pytest.mark.parametrize("knobs", [
    get_preset("gradient").knobs, get_preset("from-zero").knobs, get_preset("watch-four").knobs,
    get_preset("alpha").knobs, get_preset("negative").knobs,
    Knobs(weight=3.0, input=2.0, goal=-1.0, alpha=0.4),
    Knobs(weight=-5.0, input=0.3, goal=2.0, alpha=5.0),
    Knobs(weight=10.0, input=3.0, goal=1.0, alpha=0.2),
    Knobs(weight=0.0, input=1.0, goal=1.0, alpha=1.0),
    Knobs(weight=1.0, input=1.0, goal=0.0, alpha=0.01),
])
def test_predicted_iterations_gradient(knobs: Knobs) -> None:
    s = Session(knobs, "gradient")
    predicted = predicted_iterations(knobs, "gradient", knobs.weight, s.tolerance)
    ff = s.fast_forward()
    assert ff.stop == "converged"
    assert predicted is not None
    assert abs(predicted - s.converged_at) <= 1, (predicted, s.converged_at)


def test_predicted_iterations_hot_cold() -> None:
    k = get_preset("hot-cold").knobs
    assert predicted_iterations(k, "hot-cold", k.weight, DEFAULT_TOLERANCE) == 1101
    s = Session(k, "hot-cold")
    s.fast_forward()
    assert s.converged_at == 1101
    # part way through, it counts what is left
    s.go_to(100)
    assert abs(predicted_iterations(k, "hot-cold", s.weight, DEFAULT_TOLERANCE) - 1001) <= 1


def test_predicted_iterations_none() -> None:
    assert predicted_iterations(get_preset("divergence").knobs, "gradient", 0.5, 1e-10) is None
    assert predicted_iterations(get_preset("stopping").knobs, "gradient", 0.5, 1e-10) is None
    assert predicted_iterations(Knobs(alpha=0.0), "gradient", 0.5, 1e-10) is None
    # toes: a 0.1 step never lands within 1e-10 of the goal weight
    toes = get_preset("toes").knobs
    assert predicted_iterations(toes, "hot-cold", toes.weight, 1e-10) is None
    assert predicted_iterations(Knobs(), "gradient", 1.6, 1e-10) == 1


def test_plot_geometry_helpers() -> None:
    """The curve's range, the tangent and the log10 series come from the pure package, and never raise."""
    from knobtui.learning.analysis import fit_range, log10_errors, tangent, too_large_to_draw
    lo, hi = fit_range([0.5, 1.6, 0.775])
    assert lo < 0.5 and hi > 1.6
    assert fit_range([2.0]) == (2.0 - 0.15 * 2.0, 2.0 + 0.15 * 2.0)
    k = Knobs(0.5, 0.5, 0.8)
    xs, ys = tangent(k, 0.5, 0.1, 1.0)
    assert ys[1] - ys[0] == pytest.approx(slope(k, 0.5) * 0.2)
    assert tangent(Knobs(0.5, 1e200, 0.8), 1e200, 1.0, 1.0) is None
    assert too_large_to_draw(k, -1e120, 0.0, 0.1) and not too_large_to_draw(k, 0.0, 2.0, 0.3)
    assert log10_errors((1, 2, 3), (100.0, 0.0, 1e-300)) == ([1, 3], [2.0, -40.0])
