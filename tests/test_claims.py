"""Every claim on screen checked against the engine: the narrator's claims (learning/narrator.py) against
what the session does on the next step and the state they describe, over random knobs (hypothesis) and
the corners (negative alpha and input, alpha*input**2 at 0, 1 and 2 and around them, ties between the
probes, a weight at the goal, steps too small to print, convergence then divergence, overflow).

The first class holds the nine sentences that were wrong or misleading, each as a test that failed on
the code before the narrator (docs/claims.md lists the claim kinds and the cases each was tried on)."""

from __future__ import annotations

import math
import subprocess
import sys

import pytest
from appkit import make_app
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from knobtui.learning import Knobs, Session, error_at, get_preset, slope, stability
from knobtui.learning.analysis import SENSITIVITY_NUDGE, goal_weight
from knobtui.learning.narrator import HIDDEN, Move, move, sensitivity, shrink
from knobtui.learning.predict import ask, hide_answer
from knobtui.learning.view import compare, compare_verdict, make_view
from knobtui.tui.widgets.arithmetic import arithmetic_lines

EPS = sys.float_info.epsilon
PROPS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

small = st.floats(min_value=-10.0, max_value=10.0, allow_nan=False)
signed_alpha = st.one_of(small, st.sampled_from([0.0, -1.0, -0.1, 1e-30, -1e-30]))
anything = st.one_of(st.floats(allow_nan=False, allow_infinity=False),
                     st.sampled_from([0.0, -0.0, 1e-308, 5e-324, 1.7e308, -1.7e308, 1e154]))


@st.composite
def knobs(draw: st.DrawFn) -> Knobs:
    return Knobs(weight=draw(st.one_of(small, anything)), input=draw(st.one_of(small, anything)),
                 goal=draw(st.one_of(small, anything)), alpha=draw(signed_alpha),
                 step_amount=draw(st.one_of(st.floats(min_value=1e-6, max_value=10.0),
                                            st.sampled_from([1e-300, 5e-324, 0.1, 0.001]))))


@st.composite
def products(draw: st.DrawFn) -> Knobs:
    """Knobs whose alpha*input**2 is at 0, 1 or 2 exactly, just around them, or anywhere in between."""
    input = draw(st.sampled_from([0.5, 1.0, 2.0, -2.0, -0.5, 4.0]))
    p = draw(st.one_of(st.sampled_from([0.0, 1.0, 2.0, 1 - 1e-9, 1 + 1e-9, 2 - 1e-9, 2 + 1e-9, -1e-9]),
                       st.floats(min_value=-1.0, max_value=3.0)))
    return Knobs(weight=draw(small), input=input, goal=draw(small), alpha=p / input ** 2, step_amount=0.001)


def sign(x: float) -> int:
    return (x > 0) - (x < 0)


# ---- the nine, each failing on the code before the narrator -----------------------------------------

class TestTheNine:
    """The sentences that were wrong (1-5) or misleading (6-9)."""

    async def test_1_a_hidden_answer_is_not_a_tie(self) -> None:
        """Hot and cold with a direction question open: the panel keeps the way back, it never says tie."""
        app = make_app("hot-cold")
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.press("a", "space")
            assert type(app.screen).__name__ == "QuestionScreen"
            assert app.view is not None and app.view.next_move is HIDDEN and app.view.next_weight is HIDDEN
            text = "\n".join(body for _, body in arithmetic_lines(app.view, 7, 92))
            assert "tie" not in text and "stays" not in text and "warmer:" not in text
            assert "the warmer (lower error) of up and down: weight = ?" in text

    def test_1_every_panel_shows_the_same_placeholder(self) -> None:
        for name in ("hot-cold", "gradient", "toes", "negative"):
            p = get_preset(name)
            view = hide_answer(make_view(Session(p.knobs, p.method), name))
            for rows in (3, 4, 5, 7):
                bodies = [body for _, body in arithmetic_lines(view, rows, 200)]
                assert sum(body.endswith("= ?") for body in bodies) == 1, (name, rows, bodies)

    def test_2_the_sensitivity_row_says_which_is_which_and_agrees_near_the_goal(self) -> None:
        """Near the goal weight a one-sided difference has the other sign than the slope; the central
        difference shown now has the slope's sign, and the row names both."""
        k = get_preset("gradient").knobs.with_values(weight=1.5999)
        claim = sensitivity(k, k.weight)
        assert claim is not None and slope(k, k.weight) < 0
        one_sided = (error_at(k, k.weight + SENSITIVITY_NUDGE) - error_at(k, k.weight)) / SENSITIVITY_NUDGE
        assert one_sided > 0  # what the old row called "near the slope"
        assert claim.ratio < 0 and claim.ratio == pytest.approx(claim.slope, rel=1e-6)
        text = " ".join(b for _, b in arithmetic_lines(make_view(Session(k), "x"), 7, 160))
        assert "measured" in text and "derivative 2 * input * delta = " in text and "near the slope" not in text

    def test_3_a_dip_then_growth_is_not_converged(self) -> None:
        proc = subprocess.run([sys.executable, "-m", "knobtui", "run", "--preset", "divergence", "--weight",
                               "0.4000001", "--steps", "60", "--format", "summary"],
                              capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0
        assert "converged" not in proc.stdout and "diverging: error x9 per step" in proc.stdout
        assert "diverged" in proc.stderr

    async def test_3_play_goes_on_after_the_dip(self) -> None:
        """p does not refuse: the run dipped within the tolerance but is diverging now."""
        app = make_app("divergence", weight=0.4000001)
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.press("space")
            assert app.session.converged_at == 1 and app.session.status.kind == "diverging"
            assert "within the tolerance for now" in app.session.status.text
            await pilot.press("p")
            while app.session.iteration <= 5:
                await pilot.pause()
            await pilot.press("p")
            assert app.session.status.kind == "diverging" and "for now" not in app.session.status.text

    def test_4_negative_alpha_and_a_step_too_small_to_print(self) -> None:
        s = Session(Knobs(weight=0.5, input=0.5, goal=0.8, alpha=-1.0))
        q = ask(s, "direction")
        assert q is not None and q.answer == "down"
        assert "negative" in q.why and "moves with weight_delta" in q.why
        s = Session(Knobs(weight=0.5, input=0.5, goal=0.8, alpha=1e-30))
        q = ask(s, "direction")
        assert q is not None and q.answer == "stay"
        assert "is 0" not in q.why and "too small to change the weight 0.5" in q.why

    @pytest.mark.parametrize("preset,method", [("toes", "gradient"), ("watch-four", "hot-cold"),
                                               ("stopping", "hot-cold"), ("negative", "hot-cold")])
    def test_5_book_format_with_another_method_prints_no_none(self, preset: str, method: str) -> None:
        proc = subprocess.run([sys.executable, "-m", "knobtui", "run", "--preset", preset, "--method", method,
                               "--format", "book", "--steps", "3"], capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0 and "None" not in proc.stdout
        assert proc.stdout.splitlines()[0].startswith("Error: ") and "loop line" in proc.stderr

    def test_6_the_weight_moves_against_weight_delta(self) -> None:
        from knobtui.lessons import load_lesson
        notes = " ".join(step.note for step in load_lesson("chapter4").steps)
        assert "moves by it" not in notes and "moves against it" in notes
        s = Session(get_preset("gradient").knobs)
        rec = s.next_record()
        assert rec is not None and rec.weight_delta is not None
        assert sign(rec.new_weight - rec.weight) == -sign(rec.weight_delta)

    def test_7_the_toes_preset_promises_only_what_the_simulator_shows(self) -> None:
        toes = get_preset("toes")
        assert "slip" not in toes.shows and "--format book" in toes.shows
        s = Session(toes.knobs, toes.method)
        rec = s.next_record()
        assert rec is not None and rec.down_error == error_at(toes.knobs, 0.1 - 0.1)  # a step of 0.1 down here

    @pytest.mark.parametrize("alpha", [0.3, 0.2, 0.5])  # alpha*input**2 = 1.2, 0.8, 2.0 at input 2
    def test_8_compare_says_overshoot_when_it_does(self, alpha: float) -> None:
        k = get_preset("divergence").knobs.with_values(alpha=alpha, step_amount=0.01)
        text = compare_verdict(k, *compare(k, 1e-10, limit=20000))
        p = stability(k).product
        if 1 < p < 2:
            assert "overshoots the goal weight each step" in text and "removes" not in text
        elif p < 1:
            assert "removes 0.8 of the remaining miss" in text

    def test_9_the_readme_does_not_claim_the_whole_chapter_unless_it_is(self) -> None:
        from pathlib import Path
        readme = (Path(__file__).parent.parent / "README.md").read_text()
        from knobtui.lessons import load_lesson
        n = len(load_lesson("chapter4").steps)
        assert f"({n} steps" in readme
        notes = " ".join(s.note for s in load_lesson("chapter4").steps).lower()
        for part in ("rods in a box", "derivative", "squaring", "0.75", "what you really need to know"):
            assert part in notes, part


# ---- property tests: each claim kind against the engine ----------------------------------------------

class TestMove:
    """The next move's claim: its way is the engine's, its cause is what makes it, its sentences say so."""

    @PROPS
    @given(knobs(), st.sampled_from(["gradient", "hot-cold"]))
    @example(Knobs(weight=0.5, input=0.5, goal=0.8, alpha=-1.0), "gradient")
    @example(Knobs(weight=0.5, input=0.5, goal=0.8, alpha=1e-30), "gradient")
    @example(Knobs(weight=1.6, input=0.5, goal=0.8, alpha=1.0), "gradient")  # at the goal
    @example(Knobs(weight=1.6, input=0.5, goal=0.8, step_amount=0.001), "hot-cold")  # a tie of the probes
    @example(Knobs(weight=1e17, input=1e-17, goal=0.8, step_amount=1.0), "hot-cold")  # a tie of the probes, far out
    @example(Knobs(weight=2.0 ** 53, input=1.0, goal=2.0 ** 53 + 10, step_amount=1.0), "hot-cold")  # below the last digit
    @example(Knobs(weight=0.5, input=0.0, goal=0.8), "gradient")  # stopping
    def test_the_move_is_the_engines(self, k: Knobs, method: str) -> None:
        s = Session(k, method)  # type: ignore[arg-type]
        rec = s.next_record()
        assume(rec is not None)
        assert rec is not None
        claim = move(rec, k.alpha)
        s.step()
        after = s.weight
        assert claim.way == ("up" if after > k.weight else "down" if after < k.weight else "stay")
        assert claim.new_weight == after
        for text in (claim.why, claim.brief):
            assert text.endswith(f"it goes {claim.way}") or (claim.way == "stay" and text.endswith("it stays")) \
                or (claim.method == "gradient" and claim.alpha < 0 and text.endswith(claim.way)), text
        if method == "gradient":
            change = k.alpha * (rec.weight_delta or 0.0)
            assert claim.change == change
            if claim.cause == "slope":
                assert sign(after - k.weight) == -sign(change)  # against alpha * weight_delta
                assert ("negative" in claim.why) == (k.alpha < 0)
            elif claim.cause == "zero":
                assert change == 0 and "is 0" in claim.why
            else:
                assert claim.cause == "too-small" and change != 0 and after == k.weight
                assert "too small" in claim.why and "is 0" not in claim.why
        else:
            up, down = rec.up_error, rec.down_error
            assert up is not None and down is not None
            assert claim.warmer == ("down" if down < up else "up" if up < down else "tie")
            if claim.cause == "tie":
                assert up == down and after == k.weight and "tie" in claim.why
            elif claim.cause == "warmer":
                assert claim.way == claim.warmer
            else:
                assert claim.cause == "too-small" and after == k.weight and claim.warmer != "tie"

    @PROPS
    @given(knobs(), st.sampled_from(["gradient", "hot-cold"]))
    def test_predicts_direction_question_is_the_claim(self, k: Knobs, method: str) -> None:
        s = Session(k, method)  # type: ignore[arg-type]
        q = ask(s, "direction")
        assume(q is not None)
        assert q is not None
        before = s.weight
        s.step()
        assert q.answer == ("up" if s.weight > before else "down" if s.weight < before else "stay")
        right, line = q.verdict(q.answer)
        assert right and line == f"right: {q.why}"


class TestShrink:
    """What compare says a gradient-descent step does to the miss is what the engine does."""

    @PROPS
    @given(products())
    def test_the_miss_after_one_step(self, k: Knobs) -> None:
        claim = shrink(k)
        miss = k.input * k.weight - k.goal
        assume(abs(miss) > 1e-6)
        s = Session(k)
        s.step()
        new_miss = k.input * s.weight - k.goal
        expected = (1 - claim.product) * miss
        assert new_miss == pytest.approx(expected, rel=1e-6, abs=1e-9 * (abs(miss) + abs(k.goal) + 1))
        if abs(expected) > 1e-6 * abs(miss):
            assert claim.overshoots == (sign(new_miss) == -sign(miss))
        words = claim.words
        if 0 < claim.product < 1:
            assert "removes" in words and abs(new_miss) <= abs(miss)
        elif 1 < claim.product < 2:
            assert "overshoots" in words and "shrinks" in words and abs(new_miss) < abs(miss) * (1 + 1e-9)
        elif claim.product > 2:
            assert "grows" in words and abs(new_miss) >= abs(miss)
        elif claim.product < 0:
            assert "away" in words and abs(new_miss) >= abs(miss)


class TestSensitivity:
    """The rods in the box: the measured rate is the derivative up to rounding, and has its sign."""

    @PROPS
    @given(st.floats(min_value=-1e3, max_value=1e3), st.floats(min_value=-100.0, max_value=100.0),
           st.floats(min_value=-100.0, max_value=100.0))
    @example(1.5999, 0.5, 0.8)
    @example(1.6, 0.5, 0.8)
    @example(1.0, 78.0, 78.0)  # on the goal with a big input: the rounding of prediction - goal shows
    def test_the_rate_is_the_derivative(self, weight: float, input: float, goal: float) -> None:
        k = Knobs(weight=weight, input=input, goal=goal)
        claim = sensitivity(k, weight)
        assert claim is not None
        assert claim.slope == slope(k, weight)
        n = SENSITIVITY_NUDGE
        # Rounding: of each square, and of prediction - goal on each side (the product, the subtraction and
        # weight ± n each round once), which the difference of the squares carries over to the rate.
        miss = abs(input * weight - goal)
        side = EPS * (2 * abs(input) * (abs(weight) + n) + abs(goal))
        noise = (8 * EPS * (abs(claim.above) + abs(claim.below)) / (2 * n)
                 + 2 * (miss / n + abs(input)) * side + 1e-12)
        assert abs(claim.ratio - claim.slope) <= noise + 1e-9 * abs(claim.slope)
        if abs(claim.slope) > noise:
            assert sign(claim.ratio) == sign(claim.slope)


class TestStatus:
    """Converged, diverging and the rest describe the state now; play and fast-forward agree."""

    @PROPS
    @given(st.one_of(products(), knobs()), st.integers(min_value=1, max_value=80),
           st.sampled_from(["gradient", "hot-cold"]))
    @example(get_preset("divergence").knobs.with_values(weight=0.4000001), 60, "gradient")
    @example(get_preset("divergence").knobs.with_values(weight=0.4000001), 1, "gradient")
    @example(get_preset("divergence").knobs.with_values(weight=0.4), 1, "gradient")  # on the goal, unstable
    @example(get_preset("hot-cold").knobs, 1103, "hot-cold")  # hot and cold bouncing at the goal
    def test_converged_is_now(self, k: Knobs, steps: int, method: str) -> None:
        s = Session(k, method)  # type: ignore[arg-type]
        s.run(steps)
        st_ = s.status
        last = s.last_record
        if st_.kind == "converged":
            assert last is not None and last.error <= s.tolerance
            nxt = s.next_record()
            assert method == "hot-cold" or 0 <= stability(k).product <= 2 or (
                nxt is not None and nxt.new_weight == nxt.weight)
            assert s.fast_forward().stop == "already"
        if last is not None and last.error > s.tolerance:
            assert st_.kind != "converged" and s.converged_at is None
        if st_.kind == "stuck" or (st_.kind == "converged" and "stays put" in st_.text):
            before = s.weight
            assert s.fast_forward(1000).steps <= 1 and s.weight == before  # nothing moves: f says so at once
        if st_.kind == "diverging":
            rec = s.next_record()
            if rec is not None and abs(k.input * s.weight - k.goal) > 1e-300:
                s.step()
                assert s.last_record is None or s.last_record.error >= rec.error * (1 - 1e-9)


class TestOnScreen:
    """Claims keep their words whole on the status line at every size the lesson is walked at."""

    @pytest.mark.parametrize("width", [80, 100, 120])
    def test_a_verdict_is_never_cut(self, width: int) -> None:
        from knobtui.tui.widgets.status_bar import status_text
        for name in ("hot-cold", "gradient", "watch-four", "divergence", "negative"):
            p = get_preset(name)
            s = Session(p.knobs, p.method)
            for kind in ("direction", "error", "overshoot"):
                q = ask(s, kind)  # type: ignore[arg-type]
                if q is None:
                    continue
                wrong = next(c.value for c in q.choices if c.value != q.answer)
                for value in (q.answer, wrong):
                    _, line = q.verdict(value)
                    text = status_text(make_view(s, name), width=width - 2, note=(line, "information"),
                                       note_brief=q.verdict_brief(value)).plain
                    assert "…" not in text and len(text) <= width - 2, text
                    said = text.split(" · ")[0]
                    assert said.startswith(("right: ", f"not {value}: ")), said


class TestHiddenEverywhere:
    """A question due at a lesson step keeps its answer off every screen: the presenter's and the room's."""

    def test_the_scene_carries_the_hidden_outcome(self) -> None:
        from knobtui.learning.lesson import lesson_snapshots
        from knobtui.learning.scene import Scene
        from knobtui.lessons import load_lesson
        lesson = load_lesson("chapter4")
        scenes = lesson_snapshots(lesson)
        for step, scene in zip(lesson.steps, scenes):
            assert scene.outcome_hidden == (step.ask is not None or not step.outcome)
            assert Scene.from_dict(scene.as_dict()) == scene

    async def test_a_follower_sees_the_placeholder(self) -> None:
        from knobtui.learning.lesson import lesson_snapshots
        from knobtui.lessons import load_lesson
        from knobtui.tui.app import KnobApp
        from appkit import start_at
        scenes = lesson_snapshots(load_lesson("chapter4"))
        asking = next(s for s in scenes if s.outcome_hidden and "Which is warmer" in s.note)
        app = KnobApp(start_at("gradient"))
        async with app.run_test(size=(80, 24)) as pilot:
            assert app.become(asking) is None
            await pilot.pause()
            assert app.view is not None and app.view.next_move is HIDDEN
            text = "\n".join(app.query_one("#arithmetic").render_line(y).text for y in range(5))
            assert "= ?" in text and "warmer:" not in text and "0.501" not in text

    def test_the_halt_says_nothing_of_alpha_while_it_is_hidden(self) -> None:
        from knobtui.learning.lesson import lesson_state
        from knobtui.lessons import load_lesson
        lesson = load_lesson("chapter4")
        for k, step in enumerate(lesson.steps):
            state = lesson_state(lesson, k)
            view = make_view(state.session, state.preset)
            for rows, width in ((3, 80), (6, 120), (7, 160)):
                text = " ".join(b for _, b in arithmetic_lines(view, rows, width, state.hidden))
                if "alpha" in state.hidden and view.next is None:
                    assert "alpha*input**2" not in text, (k, text)

    @pytest.mark.parametrize("name", ["gradient", "hot-cold", "stopping", "negative"])
    def test_the_choices_never_tell(self, name: str) -> None:
        p = get_preset(name)
        s = Session(p.knobs, p.method)
        for kind in ("direction", "error"):
            q = ask(s, kind)  # type: ignore[arg-type]
            assert q is not None and [c.value for c in q.choices] in (["up", "down", "stay"], ["rise", "fall", "stay"])


class TestWordsNeverRoundOntoAMark:
    """alpha*input**2 near 0, 1 or 2 is never printed as 0, 1 or 2 (nor its miss factor as 1)."""

    @pytest.mark.parametrize("p", [0.9996, 1.9996, 2 + 1e-9, 2 - 1e-9, 1e-9, -1e-9, 1 + 1e-12])
    def test_numbers_in_sentences(self, p: float) -> None:
        import re
        from knobtui.learning.analysis import Stability
        from knobtui.learning.narrator import Shrink, stability_words
        long, short = stability_words(Stability(p, abs(1 - p), None))
        for text in (long, short):
            shown = float(re.match(r"alpha\*input\*\*2 = (\S+)", text).group(1))  # type: ignore[union-attr]
            assert shown not in (0.0, 1.0, 2.0), text
        words = Shrink(p, abs(1 - p)).words
        numbers = [float(n) for n in re.findall(r"(?<![*\w])-?\d+(?:\.\d+)?e[+-]?\d+|(?<![*\w])-?\d+\.\d+", words)]
        assert numbers and not any(n in (0.0, 1.0, 2.0) for n in numbers), words
