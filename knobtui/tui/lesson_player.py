"""The lesson player (`n`, `N`): which step of a lesson is on screen, and each step's scene."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..learning import KNOB_NAMES
from ..learning.lesson import Lesson, LessonState, lesson_snapshots, state_from_snapshot
from ..learning.scene import Scene

if TYPE_CHECKING:
    from .app import KnobApp


class LessonPlayer:
    """A lesson's steps, played once when first needed and kept as scenes: going to any step, back
    included, costs one rebuild."""

    def __init__(self, app: KnobApp, lesson: Lesson, tolerance: float, sep: str) -> None:
        self.app = app
        self.lesson = lesson
        self.tolerance = tolerance
        self.sep = sep
        self.index = -1  # the step on screen (-1 before the first)
        self._scenes: list[Scene] | None = None

    @property
    def taught_divergence(self) -> bool:
        """The lesson has shown divergence by now (a step so far loaded the divergence preset)."""
        return any(step.preset == "divergence" for step in self.lesson.steps[: self.index + 1])

    def heading(self, index: int) -> str:
        return self.lesson.heading(index, self.sep)

    def refusal(self, change: int) -> str | None:
        """Why `n` (+1) or `N` (-1) cannot move from here, or None."""
        target = self.index + change
        if 0 <= target < len(self.lesson.steps):
            return None
        return "that was the last step" if change > 0 else "this is the first step"

    def state(self, index: int) -> LessonState:
        """The lesson as it stands after step `index`: replayed from the start, so going back is exact."""
        if self._scenes is None:
            self._scenes = lesson_snapshots(self.lesson, self.tolerance)
        self.index = index
        return state_from_snapshot(index, self._scenes[index])

    def find(self, heading: str) -> None:
        """After a presenter resumes the room, `n` goes on from the step the room was at (by its heading)."""
        for index in range(len(self.lesson.steps)):
            if self.heading(index) == heading:
                self.index = index
                return

    def move(self, change: int) -> None:
        """n / N: the next or the previous step."""
        why = self.refusal(change)
        if why is not None:
            self.app.say(why, title="Lesson")
        else:
            self.show(self.index + change)

    def show(self, index: int) -> None:
        """Put step `index` on the app's screen."""
        app = self.app
        app.autoplay.stop()
        state = self.state(index)
        app.session, app.preset, app.hidden, app.knob_message = state.session, state.preset, state.hidden, ""
        if KNOB_NAMES[app.selected] in state.hidden:
            app.knobs.select(1)
        app.lesson_heading, app.lesson_note = self.heading(index), state.note
        app.predicting.ask_once(self.lesson.steps[index].ask)
        app.outcome_hidden = not self.lesson.steps[index].outcome
        app.publish(rebuild_log=True)
        app.fit()
