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
    assert end.session.status.kind == "converged"
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
        assert app.hidden == frozenset({"input", "goal", "alpha"})
        for k in range(1, 4):
            await pilot.press("n")
            assert app.lesson_index == k
            assert app.session.iteration == lesson_state(lesson, k).session.iteration
        assert app.session.converged_at == 1101
        await pilot.press("N")
        assert app.lesson_index == 2 and app.session.iteration == 10
        await pilot.press("space")  # the presenter may play along between steps
        assert app.session.iteration == 11
        await pilot.press("N", "N", "N")
        assert app.lesson_index == 0
        assert app.lesson_note == lesson.steps[0].note


class TestLessonPanel:
    """Snapshots of the lesson panel."""

    def test_lesson_panel(self, snap_compare) -> None:
        """Step 3 of the chapter: the note above the simulator, the hidden knobs gone."""
        app = KnobApp(start_at("gradient"), lesson=load_lesson("chapter4"))
        assert snap_compare(app, press=["n", "n"], terminal_size=(100, 30))

    def test_lesson_panel_80x24(self, snap_compare) -> None:
        """The divergence step at 80x24."""
        app = KnobApp(start_at("gradient"), lesson=load_lesson("chapter4"))
        assert snap_compare(app, press=["n"] * 11, terminal_size=(80, 24))


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
