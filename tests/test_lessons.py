"""Lessons: the shipped one parses and runs to the end; bad files are refused with their line; n and N."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from appkit import start_at
from knobtui.learning import stability
from knobtui.learning.lesson import LessonError, lesson_state, parse_lesson
from knobtui.lessons import load_lesson, shipped_lessons
from knobtui.tui.app import KnobApp
from knobtui.tui.widgets import LessonPanel


def test_chapter4_ships_parses_and_runs_to_the_end() -> None:
    assert "chapter4" in shipped_lessons()
    lesson = load_lesson("chapter4")
    assert len(lesson.steps) >= 10
    end = lesson_state(lesson, len(lesson.steps) - 1)
    assert end.session.status.kind == "converged"  # the closing summary, over a run that learned
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
        assert app.stage.hidden == frozenset({"alpha", "step_amount"})
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
        assert app.stage.lesson_note == lesson.steps[0].note


class TestLessonPanel:
    """Snapshots of the lesson panel."""

    def test_lesson_panel(self, snap_compare) -> None:
        """Step 3 of the chapter (hot and cold's first step): the note above the simulator, alpha hidden."""
        app = KnobApp(start_at("gradient"), lesson=load_lesson("chapter4"))
        assert snap_compare(app, press=["n", "n"], terminal_size=(100, 30))

    @pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
    def test_your_turn(self, snap_compare, size: tuple[int, int]) -> None:
        """Your turn: alpha shown, not converged, the note's values to try, alpha*input**2 in the status."""
        lesson = load_lesson("chapter4")
        k = next(k for k, step in enumerate(lesson.steps) if step.note.startswith("Your turn"))
        app = KnobApp(start_at("gradient"), lesson=lesson)
        assert snap_compare(app, press=["n"] * k, terminal_size=size)


STEPS = len(load_lesson("chapter4").steps)


class TestLessonWalk:
    """Every step of the chapter at 80x24, as a learner reads it: one snapshot a step."""

    @pytest.mark.parametrize("k", range(STEPS), ids=lambda k: f"step{k + 1:02d}")
    def test_step_80x24(self, snap_compare, k: int) -> None:
        """Step k+1 of chapter4 at 80x24: its note, nothing cut, nothing used before it is taught."""
        app = KnobApp(start_at("gradient"), lesson=load_lesson("chapter4"))
        assert snap_compare(app, press=["n"] * k, terminal_size=(80, 24))


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
        """Each number and verdict a note states is the engine's at that step (found by its words, so
        a new step in between does not move the check)."""
        lesson = load_lesson("chapter4")

        def at(words: str):  # the lesson's state at the step whose note holds `words`
            k = next(k for k, step in enumerate(lesson.steps) if words in step.note)
            return lesson_state(lesson, k), lesson.steps[k].note

        squared, note = at("squared is 0.3025")
        rec = squared.session.next_record()
        assert rec is not None and round(abs(rec.prediction - 0.8), 12) == 0.55
        assert f"{rec.error:.4g}" == "0.3025" and rec.error < 0.55  # a miss below 1 shrinks when squared
        hot, note = at("1101 iterations")
        s = hot.session
        assert s.converged_at == s.iteration == 1101 and s.status.kind == "converged"
        assert f"{s.record(1101).error:.3g}" == "1.08e-27" and f"{s.weight:.4g}" == "1.601" and s.weight > 1.6
        toes, _ = at("toes")
        assert toes.preset == "toes" and toes.session.status.kind == "oscillating"
        for words, want in (("Input 100:", (49.2, 4920.0)), ("Input -100: the prediction", (-50.8, 5080.0)),
                            ("Input 50000", (24999.2, 1249960000.0))):
            rec = at(words)[0].session.next_record()
            assert rec is not None and (rec.delta, rec.weight_delta) == want and rec.new_weight < rec.weight
        for words, prediction, wd in (("Weight 0.75, input 100", 75.0, 7420.0), ("prediction -75.0", -75.0, 7580.0)):
            assert f"{repr(wd)}" in at(words)[1]
            state = at(words)[0]
            rec = state.session.next_record()
            assert rec is not None and (rec.weight, rec.prediction, rec.weight_delta) == (0.75, prediction, wd)
            assert rec.new_weight < rec.weight  # the weight goes down both times
            after = state.session.knobs.input * rec.new_weight
            assert abs(after - 0.8) < abs(rec.prediction - 0.8) or (after > 0.8) != (rec.prediction > 0.8)
        start = at("ten steps")[0].session
        errors = [r.error for r in start.records()]
        assert len(errors) == 10 and all(b < a for a, b in zip(errors, errors[1:]))
        rods, note = at("Rods in a box")
        from knobtui.learning import slope
        from knobtui.tui.numbers import fit
        assert fit(slope(rods.session.knobs, rods.session.weight), 9) in note
        div = at("Divergence:")[0].session
        assert div.status.kind == "diverging" and div.record(1).error < 0.05
        tamed, note = at("Alpha shrinks")
        assert tamed.session.status.kind == "converged" and "alpha" not in tamed.hidden
        assert f"{stability(tamed.session.knobs).product:.3g}" == "0.4"
        last, _ = at("What you really need to know")
        assert last.session.status.kind == "converged"
        from knobtui.learning.view import make_view
        from knobtui.tui.widgets.status_bar import status_parts
        for k in range(len(lesson.steps)):  # nothing about alpha on the status line before it is shown
            state = lesson_state(lesson, k)
            parts = status_parts(make_view(state.session, state.preset), hidden=state.hidden)
            said = " ".join(p[0] for p in parts)
            assert ("alpha" in said) == (state.session.method == "gradient" and "alpha" not in state.hidden), (k, said)

    @pytest.mark.parametrize("alpha,kind", [(0.5, "oscillating"), (0.6, "diverging"), (0.25, "converged"),
                                            (0.1, "learning")])
    def test_your_turn_shows_each_alpha(self, alpha: float, kind: str) -> None:
        """The last step starts unconverged, and each alpha the note suggests does what it says."""
        lesson = load_lesson("chapter4")
        k = next(k for k, step in enumerate(lesson.steps) if step.note.startswith("Your turn"))
        s = lesson_state(lesson, k).session
        assert s.iteration == 0 and s.status.kind == "ready" and "alpha" in lesson.steps[k].note
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
        assert app.session.iteration == before + 1 and app.stage.note[0].startswith("right: ")
        assert ("predicted 1/1", 2) in app.stage.status_extra
        await pilot.press("space")  # asked once: the next space steps
        await pilot.pause()
        assert app.session.iteration == before + 2 and type(app.screen).__name__ != "QuestionScreen"


@pytest.mark.parametrize("size", [(80, 24), (100, 30), (120, 40)], ids=lambda s: f"{s[0]}x{s[1]}")
async def test_the_walk_cuts_nothing(size: tuple[int, int]) -> None:
    """Walked at three sizes, answering each question a step asks (wrongly, the longer verdict): no line of
    the status, the lesson panel or the arithmetic is cut."""
    lesson = load_lesson("chapter4")
    app = KnobApp(start_at("gradient"), lesson=lesson)
    async with app.run_test(size=size) as pilot:
        for k, step in enumerate(lesson.steps):
            if k:
                await pilot.press("n")
            await pilot.pause()
            if step.ask:
                await pilot.press("space")
                await pilot.pause()
                question = app.predicting.question
                assert question is not None, k
                wrong = next(c for c in question.choices if c.value != question.answer)
                await pilot.press(wrong.key)
                await pilot.pause()
                assert app.stage.note[0].startswith(f"not {wrong.value}: "), (k, app.stage.note)
            for selector in ("#status", "#arithmetic", "LessonPanel"):
                widget = app.query_one(selector)
                lines = [widget.render_line(y).text.rstrip() for y in range(widget.size.height)]
                assert not any("…" in line for line in lines), (k, selector, lines)
            status = app.query_one("#status").render_line(0).text
            if step.ask:  # the verdict is whole: one of its forms, numbers shortened by digits at most
                from knobtui.tui.numbers import shorten_numbers
                from knobtui.tui.widgets.status_bar import NOTE_DIGITS
                said = status.strip().split(" · ")[0]
                forms = {shorten_numbers(form, d) for form in (app.stage.note[0], app.stage.note_brief) for d in NOTE_DIGITS}
                assert said in forms, (k, said, forms)
