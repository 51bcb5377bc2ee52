"""Predict mode (`a`): before each single step, one question about what the step will do; the learner
answers with one key, the step runs, and the status line says right or wrong and why, with a tally.

Fast-forward, autoplay and back work as always: only a single step (space) asks.
The questions and their answers are the engine's (learning/predict.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..learning.predict import KINDS, Kind, Question, Tally, ask, fitting_kind, weight_verdict

if TYPE_CHECKING:
    from .host import Host

TALLY_RANK = 2  # the tally stays on the status line before the less important parts


class Predicting:
    """Whether predict mode is on, the question open now, and the tally."""

    def __init__(self, host: Host) -> None:
        self.host = host
        self.on = False
        self.question: Question | None = None
        self.tally = Tally()
        self.once: Kind | None = None  # a lesson step's question for the next single step, predict mode or not

    def toggle(self) -> None:
        self.on = not self.on
        self.host.publish()  # the next outcome hides (or shows again) with predict mode
        self.host.say("predict mode: space asks first, then steps (a: off)" if self.on else "predict mode off",
                     title="Predict")
        self.show_tally()

    def show_tally(self) -> None:
        """The tally in the status line once anything was asked; 'predict mode' before that, while on."""
        text = str(self.tally) if self.tally.asked else "predict mode" if self.on else ""
        self.host.stage = self.host.stage.with_extra("predict", text, TALLY_RANK)

    def ask_once(self, kind: str | None) -> None:
        """A lesson step marks the next single step with a question (`ask = "direction"`)."""
        self.once = next((k for k in KINDS if k == kind), None)

    @property
    def asking(self) -> bool:
        """Space asks first: predict mode is on, or a lesson step asked for one question."""
        return self.on or self.once is not None

    def step(self, overshoot: bool = False) -> bool:
        """Space in predict mode: ask instead of stepping (True), or False when there is nothing to ask
        (the next step would overflow): then it is a plain step. `overshoot`: the lesson has taught
        divergence, so overshooting is a fair question."""
        app = self.host
        kind = self.once or fitting_kind(app.session, self.tally.asked, overshoot=overshoot)
        self.once = None
        question = ask(app.session, kind) or ask(app.session, "direction")
        if question is None:
            return False
        from .screens.question import QuestionScreen
        self.question = question
        app.push_screen(QuestionScreen(question), self._answered)
        app.publish()  # the new weight and the curve's next point wait for the answer (hides_answer)
        return True

    @property
    def hides_answer(self) -> bool:
        """A question is open, or the next space will ask one (predict mode, a lesson step's question): the
        next iteration's outcome is not on screen, so the question is never answered before it is asked."""
        return self.question is not None or self.asking

    def _answered(self, value: str | float | None) -> None:
        app, question, self.question = self.host, self.question, None
        if question is None or value is None:
            app.publish()  # skipped: the screen shows the next iteration again
            app.say("skipped (space asks again)", title="Predict")
            return
        if isinstance(value, float):  # a typed new weight: how close, against the engine's
            rec = app.session.next_record()
            if rec is None:
                app.plain_step()
                return
            right, line = weight_verdict(value, rec.new_weight)
            brief = line
        else:
            right, line = question.verdict(value)
            brief = question.verdict_brief(value)
        self.tally.add(right)
        app.plain_step()
        app.say(line, severity="information" if right else "warning", brief=brief)
        self.show_tally()
