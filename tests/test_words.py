"""Every sentence true: the claims help, compare and the messages make, checked against the engine."""

from __future__ import annotations

import subprocess
import sys

import pytest

from knobtui.learning import Knobs, Session, get_preset, parse_number, KnobError
from knobtui.learning.view import compare, compare_verdict
from knobtui.tui.screens.help import HELP


def converged_at(knobs: Knobs, method: str) -> int | None:
    s = Session(knobs, method)  # type: ignore[arg-type]
    s.fast_forward()
    return s.converged_at


class TestCompare:
    """Compare names the method that needed fewer iterations, for either winner."""

    def test_gradient_descent_wins(self) -> None:
        k = get_preset("gradient").knobs
        text = compare_verdict(k, *compare(k, 1e-10))
        assert text.startswith("Gradient descent needed 28.2x fewer iterations (39 against 1101)")

    def test_hot_and_cold_wins_with_a_big_step(self) -> None:
        k = get_preset("gradient").knobs.with_values(step_amount=0.1)
        assert converged_at(k, "hot-cold") == 12 and converged_at(k, "gradient") == 39
        text = compare_verdict(k, *compare(k, 1e-10))
        assert text.startswith("Hot and cold needed 3.25x fewer iterations here (12 against 39)")
        assert "fewer" in text and "Gradient descent needed" not in text

    def test_only_one_converges(self) -> None:
        k = get_preset("divergence").knobs
        text = compare_verdict(k, *compare(k, 1e-10))
        assert text.startswith("Only hot and cold converged") and "overflow" in text


class TestHelpClaims:
    """What help says about the presets and the rules is what the engine does."""

    def test_hot_cold_needs_1101_and_a_step_of_01_needs_12(self) -> None:
        k = get_preset("hot-cold").knobs
        assert "1101 iterations" in HELP and converged_at(k, "hot-cold") == 1101
        assert "at iteration 12" in HELP and converged_at(k.with_values(step_amount=0.1), "hot-cold") == 12

    def test_toes_bounces(self) -> None:
        p = get_preset("toes")
        s = Session(p.knobs, p.method)
        s.run(3)
        assert s.status.kind == "oscillating" and "bounces" in HELP

    def test_one_step_alpha_converges_at_iteration_2(self) -> None:
        k = get_preset("gradient").knobs
        assert "converged at iteration 2" in HELP
        assert converged_at(k.with_values(alpha=1 / k.input ** 2), "gradient") == 2

    def test_divergence_x9_even_from_a_small_error(self) -> None:
        p = get_preset("divergence")
        s = Session(p.knobs, p.method)
        s.run(3)
        errors = [r.error for r in s.records()]
        assert errors[0] < 0.05 and errors[2] / errors[1] == pytest.approx(9)
        assert "x9 per step" in HELP and "even when it started small" in HELP

    @pytest.mark.parametrize("product,converges", [(0.25, True), (1.0, True), (1.99, True), (2.0, False),
                                                   (2.5, False), (-0.1, False)])
    def test_the_stability_rule(self, product: float, converges: bool) -> None:
        """0 < alpha * input ** 2 < 2, as help states it."""
        k = Knobs(weight=0.5, input=2.0, goal=0.8, alpha=product / 4)
        assert (converged_at(k, "gradient") is not None) == converges
        assert "`0 < alpha * input ** 2 < 2`" in HELP

    def test_the_slope_is_twice_weight_delta(self) -> None:
        from knobtui.learning import slope
        k = get_preset("gradient").knobs
        rec = Session(k, "gradient").next_record()
        assert rec is not None and slope(k, k.weight) == 2 * rec.weight_delta
        assert "twice it" in HELP

    def test_no_colder(self) -> None:
        assert "colder" not in HELP.lower() and "warmer" in HELP


class TestMessages:
    def test_largest_float(self) -> None:
        with pytest.raises(KnobError, match="1.797e308"):
            parse_number("weight", "1e309")

    def test_alpha_advice_names_the_range(self) -> None:
        proc = subprocess.run([sys.executable, "-m", "knobtui", "run", "--preset", "divergence", "--steps", "5"],
                              capture_output=True, text=True, timeout=60)
        assert "try alpha between 0 and 0.5" in proc.stderr
