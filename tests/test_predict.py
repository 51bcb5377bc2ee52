"""Predict mode's questions against the engine: the right answer is what the session does next."""

from __future__ import annotations


import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from knobtui.learning import PRESETS, Knobs, Session, get_preset
from knobtui.learning.analysis import error_at, goal_weight
from knobtui.learning.predict import KINDS, Question, Tally, ask, fitting_kind


def what_happened(kind: str, before: Session, after: Session) -> str:
    """The engine's own outcome, read off the session after the step (not from the question)."""
    rec = after.record(after.iteration)
    if kind == "direction":
        return "up" if after.weight > rec.weight else "down" if after.weight < rec.weight else "stay"
    if kind == "error":
        e_after = error_at(after.knobs, after.weight)
        return "rise" if e_after > rec.error else "fall" if e_after < rec.error else "stay"
    target = goal_weight(before.knobs)
    assert target is not None
    return "yes" if (rec.weight < target < after.weight) or (after.weight < target < rec.weight) else "no"


def check_all_kinds(session: Session, steps: int) -> int:
    asked = 0
    for _ in range(steps):
        questions = {kind: ask(session, kind) for kind in KINDS}
        before = session.copy()
        if session.step() is None:
            assert all(q is None for q in questions.values())
            return asked
        for kind, q in questions.items():
            if q is None:
                continue
            asked += 1
            assert q.answer in {c.value for c in q.choices}, q
            assert what_happened(kind, before, session) == q.answer, (kind, q)
            right, line = q.verdict(q.answer)
            assert right and line.startswith("right: ")
            wrong = next(c.value for c in q.choices if c.value != q.answer)
            assert q.verdict(wrong) == (False, f"not {wrong}: {q.why}")
    return asked


@pytest.mark.parametrize("name", list(PRESETS))
def test_every_preset_every_kind_for_its_book_steps(name: str) -> None:
    preset = get_preset(name)
    session = Session(preset.knobs, preset.method)
    assert check_all_kinds(session, max(preset.book_steps, 5)) > 0


finite = st.floats(min_value=-50, max_value=50, allow_nan=False).filter(lambda x: abs(x) > 1e-6 or x == 0)


@settings(max_examples=150, deadline=None)
@given(weight=finite, input=finite, goal=finite, alpha=st.floats(0, 3), step=st.floats(1e-4, 1),
       method=st.sampled_from(["gradient", "hot-cold"]))
def test_random_knobs(weight: float, input: float, goal: float, alpha: float, step: float, method: str) -> None:
    session = Session(Knobs(weight, input, goal, alpha, step), method)  # type: ignore[arg-type]
    check_all_kinds(session, 6)


def test_the_why_names_the_numbers_on_screen() -> None:
    session = Session(get_preset("gradient").knobs, "gradient")
    q = ask(session, "direction")
    assert isinstance(q, Question) and q.answer == "up"
    assert q.why == "weight_delta -0.275 < 0, and the weight moves against it: it goes up"
    e = ask(session, "error")
    assert e is not None and e.answer == "fall" and "0.30250000000000005" in e.why
    hc = ask(Session(get_preset("hot-cold").knobs, "hot-cold"), "direction")
    assert hc is not None and hc.why.startswith("error up ") and {c.key for c in hc.choices} == {"up", "down", "s"}


def test_overshoot_only_where_it_means_something() -> None:
    div = get_preset("divergence")
    q = ask(Session(div.knobs, div.method), "overshoot")
    assert q is not None and q.answer == "yes"
    assert ask(Session(get_preset("hot-cold").knobs, "hot-cold"), "overshoot") is None
    assert ask(Session(Knobs(input=0.0), "gradient"), "overshoot") is None


def test_no_question_when_the_next_step_would_overflow() -> None:
    s = Session(Knobs(weight=1e300, input=1e10, goal=0.0, alpha=1.0), "gradient")
    assert all(ask(s, kind) is None for kind in KINDS)
    assert s.next_record() is None


def test_kinds_take_turns_and_the_tally_counts() -> None:
    s = Session(get_preset("gradient").knobs, "gradient")
    assert [fitting_kind(s, n) for n in range(4)] == ["direction", "error", "direction", "error"]
    assert [fitting_kind(s, n, overshoot=True) for n in range(3)] == ["direction", "error", "overshoot"]
    t = Tally()
    for right in (True, True, False, True, True, True):
        t.add(right)
    assert (t.asked, t.right, t.streak) == (6, 5, 3) and str(t) == "predicted 5/6, streak 3"


def test_a_typed_new_weight_is_judged_against_the_engines() -> None:
    from knobtui.learning.predict import weight_verdict
    rec = Session(get_preset("gradient").knobs, "gradient").next_record()
    assert rec is not None and rec.new_weight == 0.775
    assert weight_verdict(0.775, rec.new_weight) == (True, "the new weight is 0.775; you said 0.775: exactly")
    assert weight_verdict(0.77, rec.new_weight) == (
        True, "the new weight is 0.775; you said 0.77: off by 0.005 (within 1%)")
    assert weight_verdict(0.5, rec.new_weight) == (False, "the new weight is 0.775; you said 0.5: off by 0.275")
    assert weight_verdict(1e-300, 0.0) == (False, "the new weight is 0.0; you said 1e-300: off by 1e-300")
