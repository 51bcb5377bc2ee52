"""Lessons: the shipped one parses and runs to the end; bad files are refused with their line; n and N."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from appkit import start_at
from knobtui.learning.lesson import LessonError, lesson_state, parse_lesson
from knobtui.lessons import load_lesson, shipped_lessons
from knobtui.tui.app import KnobApp
from knobtui.tui.widgets import LessonPanel


def test_chapter4_ships_parses_and_runs_to_the_end() -> None:
    assert "chapter4" in shipped_lessons()
    lesson = load_lesson("chapter4")
    assert len(lesson.steps) >= 10
    end = lesson_state(lesson, len(lesson.steps) - 1)
    assert end.session.status.kind == "ready"  # "your turn" starts where trying alpha shows something
    seen = {lesson_state(lesson, k).session.status.kind for k in range(len(lesson.steps))}
    assert {"converged", "oscillating", "stuck", "diverging", "overflow"} <= seen  # the whole chapter


def test_going_back_is_exact() -> None:
    lesson = load_lesson("chapter4")
    a = lesson_state(lesson, 5).session
    lesson_state(lesson, 9)
    b = lesson_state(lesson, 5).session
    assert list(a.records()) == list(b.records()) and a.knobs == b.knobs


@pytest.mark.parametrize("text,line,words", [
    ('title = "x"\n[[step]]\nnote = "a"\n\n[[step]]\npreset = "nope"\n', 6, "preset 'nope'"),
    ('[[step]]\nnote = "a"\nsteps = 1.5\n', 3, "steps must be a whole number"),
    ('[[step]]\nnote = "a"\n[[step]]\nset = { wieght = 1 }\n', 4, "'wieght' is not a knob"),
    ('[[step]]\nset = { step_amount = 0 }\n', 2, "step amount"),
    ('[[step]]\nnote = "a"\nhide = ["nose"]\n', 3, "'nose' is not a knob"),
    ('[[step]]\nnote = "a"\nbogus = 1\n', 3, "unknown key 'bogus'"),
    ('[[step]]\nnote = "a"\nask = "why"\n', 3, "ask must be one of 'direction', 'error', 'overshoot', not 'why'"),
    ('title = "x"\n[[step]\nnote = "a"\n', 2, "line 2"),
    ('[[step]]\n', 1, "an empty step"),
    ('title = "x"\n', 0, "at least one [[step]]"),
])
def test_bad_lessons_are_refused_with_their_line(text: str, line: int, words: str) -> None:
    with pytest.raises(LessonError) as info:
        parse_lesson(text, "talk.toml")
    msg = str(info.value)
    assert msg.startswith("talk.toml") and words in msg
    if line:
        assert f"line {line}" in msg


def test_a_bad_lesson_never_opens_a_screen(tmp_path: Path) -> None:
    bad = tmp_path / "talk.toml"
    bad.write_text('[[step]]\nnote = "hello"\n\n[[step]]\nmethod = "newton"\n')
    r = subprocess.run([sys.executable, "-m", "knobtui", "--lesson", str(bad)], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.count("\n") == 1 and f"{bad}, line 5 (step 2)" in r.stderr and "'newton'" in r.stderr


async def test_n_and_N_walk_the_lesson() -> None:
    lesson = load_lesson("chapter4")
    app = KnobApp(start_at("gradient"), lesson=lesson)
    async with app.run_test(size=(100, 30)) as pilot:
        panel = app.query_one(LessonPanel)
        assert panel.has_class("-shown") and "step 1 of" in panel.heading
        assert app.hidden == frozenset({"alpha", "step_amount"})
        for k in range(1, 5):
            await pilot.press("n")
            assert app.lessons.index == k
            assert app.session.iteration == lesson_state(lesson, k).session.iteration
        assert app.session.converged_at == 1101
        await pilot.press("N")
        assert app.lessons.index == 3 and app.session.iteration == 10
        await pilot.press("space")  # the presenter may play along between steps
        assert app.session.iteration == 11
        await pilot.press("N", "N", "N", "N")
        assert app.lessons.index == 0
        assert app.lesson_note == lesson.steps[0].note


class TestLessonPanel:
    """Snapshots of the lesson panel."""

    def test_lesson_panel(self, snap_compare) -> None:
        """Step 3 of the chapter (hot and cold's first step): the note above the simulator, alpha hidden."""
        app = KnobApp(start_at("gradient"), lesson=load_lesson("chapter4"))
        assert snap_compare(app, press=["n", "n"], terminal_size=(100, 30))

    @pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
    def test_your_turn(self, snap_compare, size: tuple[int, int]) -> None:
        """The last step: alpha shown, not converged, the note's values to try, alpha*input**2 in the status."""
        app = KnobApp(start_at("gradient"), lesson=load_lesson("chapter4"))
        assert snap_compare(app, press=["n"] * 18, terminal_size=size)

    def test_lesson_panel_80x24(self, snap_compare) -> None:
        """The divergence step at 80x24."""
        app = KnobApp(start_at("gradient"), lesson=load_lesson("chapter4"))
        assert snap_compare(app, press=["n"] * 15, terminal_size=(80, 24))


def test_snapshots_rebuild_the_same_state_as_a_replay() -> None:
    from knobtui.learning.lesson import lesson_snapshots, state_from_snapshot
    lesson = load_lesson("chapter4")
    for k, snap in enumerate(lesson_snapshots(lesson)):
        a, b = lesson_state(lesson, k), state_from_snapshot(k, snap)
        assert [repr(r) for r in a.session.records()] == [repr(r) for r in b.session.records()]
        assert (a.preset, a.hidden, a.note, a.session.status) == (b.preset, b.hidden, b.note, b.session.status)


@pytest.mark.parametrize("text", ['step = [1]\n', 'step = [{note = "a"}, 5]\n', '[[step]]\npreset = ["hot-cold"]\n',
                                  '[[step]]\nmethod = { a = 1 }\n'])
def test_malformed_steps_are_lesson_errors(text: str) -> None:
    with pytest.raises(LessonError):
        parse_lesson(text, "odd.toml")


class TestChapterLesson:
    """The shipped lesson walks the chapter in order, and what each note claims is what the engine shows."""

    def test_notes_fit_at_80x24(self) -> None:
        from knobtui.tui.layout import note_rows, plan
        lesson = load_lesson("chapter4")
        for step in lesson.steps:
            assert note_rows(step.note, 80) <= 2, step.note
            assert not plan(80, 24, step.note).too_small

    def test_terms_come_before_they_are_used(self) -> None:
        lesson = load_lesson("chapter4")
        notes = [s.note.lower() for s in lesson.steps]
        first = {term: next(i for i, n in enumerate(notes) if term in n)
                 for term in ("alpha", "pure error", "direction and amount", "divergence", "slope")}
        assert first["pure error"] <= first["direction and amount"] < first["divergence"] < max(
            i for i, n in enumerate(notes) if "alpha shrinks" in n)
        assert "colder" not in " ".join(notes)

    def test_the_claims_of_the_notes(self) -> None:
        lesson = load_lesson("chapter4")
        hot = lesson_state(lesson, 4)
        assert hot.session.converged_at == 1101
        toes = lesson_state(lesson, 5)
        assert toes.preset == "toes" and toes.session.status.kind == "oscillating"
        for k, want in ((9, (49.2, 4920.0)), (10, (-50.8, 5080.0)), (11, (24999.2, 1249960000.0))):
            rec = lesson_state(lesson, k).session.next_record()
            assert rec is not None and (rec.delta, rec.weight_delta) == want
        start = lesson_state(lesson, 12).session
        errors = [r.error for r in start.records()]
        assert len(errors) == 10 and all(b < a for a, b in zip(errors, errors[1:]))
        div = lesson_state(lesson, 15).session
        assert div.status.kind == "diverging" and div.record(1).error < 0.05

    @pytest.mark.parametrize("alpha,kind", [(0.5, "oscillating"), (0.6, "diverging"), (0.25, "converged"),
                                            (0.1, "learning")])
    def test_your_turn_shows_each_alpha(self, alpha: float, kind: str) -> None:
        """The last step starts unconverged, and each alpha the note suggests does what it says."""
        lesson = load_lesson("chapter4")
        s = lesson_state(lesson, len(lesson.steps) - 1).session
        assert s.iteration == 0 and s.status.kind == "ready" and "alpha" in lesson.steps[-1].note
        s.set_knobs(alpha=alpha)
        s.run(3)
        assert s.status.kind == kind
        if alpha == 0.25:
            assert s.converged_at == 2


async def test_the_lesson_asks_before_the_step_it_marks() -> None:
    """chapter4's third step (hot and cold) has `ask = "direction"`: space asks first, once, without
    predict mode; the answer is the engine's."""
    lesson = load_lesson("chapter4")
    marked = [k for k, step in enumerate(lesson.steps) if step.ask]
    assert [lesson.steps[k].ask for k in marked] == ["direction", "direction", "error", "overshoot"]
    app = KnobApp(start_at("gradient"), lesson=lesson)
    async with app.run_test(size=(100, 30)) as pilot:
        for _ in range(marked[0]):
            await pilot.press("n")
        before = app.session.iteration
        await pilot.press("space")
        await pilot.pause()
        assert type(app.screen).__name__ == "QuestionScreen" and app.session.iteration == before
        assert app.predicting.question is not None and app.predicting.question.kind == "direction"
        right = app.predicting.question.answer
        await pilot.press({"up": "up", "down": "down", "stay": "s"}[right])
        await pilot.pause()
        assert app.session.iteration == before + 1 and app.note[0].startswith("right: ")
        assert ("predicted 1/1", 2) in app.status_extra
        await pilot.press("space")  # asked once: the next space steps
        await pilot.pause()
        assert app.session.iteration == before + 2 and type(app.screen).__name__ != "QuestionScreen"
