"""The lesson player (`n`, `N`): which step of a lesson is on screen, and each step's scene."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..learning.lesson import Lesson, LessonState, lesson_snapshots, state_from_snapshot
from ..learning.scene import Scene

if TYPE_CHECKING:
    from ..learning import Session
    from .stage import Stage


class LessonPlayer:
    """A lesson's steps, played once when first needed and kept as scenes: going to any step, back
    included, costs one rebuild."""

    def __init__(self, lesson: Lesson, tolerance: float, sep: str) -> None:
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

    def step(self, stage: Stage, index: int) -> tuple[Session, str, Stage, str | None]:
        """Step `index` of the lesson: its session, its preset, the stage it is shown on, and the question
        it asks of the next single step (if any)."""
        state = self.state(index)
        step = self.lesson.steps[index]
        staged = stage.hiding(state.hidden).but(knob_message="", lesson_heading=self.heading(index),
                                                lesson_note=state.note, outcome_hidden=not step.outcome)
        return state.session, state.preset, staged, step.ask
