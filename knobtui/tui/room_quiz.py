"""A question for the room (presenter mode): the presenter asks with `a`, the room answers with one key each,
the presenter's screen shows the counts live, and closing the question steps once and shows everyone the
answer. The messages are knobtui/wire.py's (Ask, Reveal, Clear, Ballot, Tally), the counting
presenter/quiz.py's; the screens are screens/room.py; the questions are the engine's (learning/predict.py),
asked by the presenter's simulator, which alone knows the answer until the reveal.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Protocol

from ..learning.predict import Kind, ask, fitting_kind, position
from ..wire import Ballot, RoomQuestion, Tally

if TYPE_CHECKING:
    from ..learning.predict import Question
    from ..presenter.link import RelayLink
    from .host import Host
    from .screens.room import RoomBarsScreen, RoomQuestionScreen


class Seat(Protocol):
    """Where this simulator sits in the room (presenting.py's Presenting): what the questions need of it."""

    presenter: bool
    following: bool
    link: RelayLink


class RoomQuiz:
    """The app's side of the room's questions: the presenter's asking, or a follower's answering."""

    def __init__(self, host: Host) -> None:
        self.host = host
        self.seat: Seat | None = None  # presenter mode's; None without a relay (no room to ask)
        self.quiz: RoomQuestion | None = None  # the room's question now (open or revealed)
        self.question: Question | None = None  # the presenter's: with its answer, until the reveal
        self.asked = 0  # the presenter's: questions put to the room (the kinds take turns)
        self.room = 0  # the presenter's: how many follow
        self.mine: str | None = None  # a follower's answer to the question now, as they pressed it
        self.counted: str | None = None  # ... and as the relay confirmed it (the reveal judges this one)
        self.seen = 0  # a follower's: the id of the question they were shown (its reveal is theirs too)
        self._bars: RoomBarsScreen | None = None
        self._asking: RoomQuestionScreen | None = None

    @property
    def hides_answer(self) -> bool:
        """While a question is open, the next iteration's new weight is not on screen."""
        return self.quiz is not None and not self.quiz.revealed and (self._bars is not None or self._asking is not None)

    # ---- the presenter ----------------------------------------------------------------------------
    def ask(self, kind: Kind | None = None, overshoot: bool = False) -> None:
        """`a` (or a lesson step's question): put a question about the next step to the room (the host has
        stopped autoplay). `overshoot`: the lesson has taught divergence, so overshooting is a fair question."""
        app = self.host
        presenting = self.seat
        if presenting is None or not presenting.presenter or self._bars is not None:
            return
        kind = kind or fitting_kind(app.session, self.asked, overshoot=overshoot)
        question = ask(app.session, kind) or ask(app.session, "direction")
        if question is None:
            app.say("nothing to ask: the next step would leave the floats", title="Ask the room", severity="warning")
            return
        from .screens.room import RoomBarsScreen
        self.asked += 1
        self.question = question
        self.quiz = RoomQuestion.ask(secrets.randbelow(2 ** 52) + 1, question, position(app.session))
        self._bars = RoomBarsScreen(question, self.room, self)
        app.push_screen(self._bars)
        presenting.link.send_quiz(self.quiz)
        app.publish()

    @property
    def asking(self) -> bool:
        """The presenter's question is out (open or revealed): the room's state holds still until it ends."""
        return self._bars is not None

    def followers(self, n: int) -> None:
        self.room = n
        if self._bars is not None:
            self._bars.show(self._bars.counts, self._bars.answered, n)

    def counts(self, tally: Tally) -> None:
        """The relay's count of the room's answers."""
        if self._bars is not None and self.quiz is not None and tally.id == self.quiz.id:
            self._bars.show(tally.counts, tally.answered, self.room)

    def close(self) -> None:
        """Space on the bars: the answer to everyone, then the step."""
        app, quiz, question = self.host, self.quiz, self.question
        if self.seat is None or quiz is None or question is None or self._bars is None:
            return
        self.quiz = quiz.reveal(question)
        self.seat.link.send_quiz(self.quiz)
        self._bars.reveal(question)
        app.plain_step()

    def cancel(self) -> None:
        """Escape before closing: the question is taken back; nobody's answer counted."""
        self.clear()
        self.host.say("question taken back", title="Ask the room")

    def clear(self) -> None:
        """The room's question is over (the presenter went on)."""
        self.quiz, self.question, self._bars = None, None, None
        if self.seat is not None:
            self.seat.link.send_quiz(None)
        self.host.publish()

    def resume(self, quiz: RoomQuestion | None) -> None:
        """A presenter who reconnects: the room's question is still out. It is asked again from here if
        this simulator is where it was asked (it was just resumed there), else taken back."""
        if quiz is None or self.seat is None:
            return
        if not quiz.revealed and dict(quiz.at) == position(self.host.session):
            question = ask(self.host.session, quiz.question.kind)
            if question is not None and question.text == quiz.question.text:
                from .screens.room import RoomBarsScreen
                self.quiz, self.question = quiz, question
                self._bars = RoomBarsScreen(question, self.room, self)
                self.host.push_screen(self._bars)
                self.host.publish()
                return
        self.seat.link.send_quiz(None)

    # ---- a follower ----------------------------------------------------------------------------
    def on_quiz(self, quiz: RoomQuestion | None) -> None:
        """The room's question changed (asked, revealed, cleared)."""
        if quiz is None or self.quiz is None or quiz.id != self.quiz.id:
            self.mine = self.counted = None
        self.quiz = quiz
        self.host.publish()

    def on_yours(self, yours: Ballot) -> None:
        """The relay counted this follower's answer (or, on reconnecting, had it already)."""
        if self.quiz is not None and yours.id == self.quiz.id:
            value = yours.value
            if value in self.quiz.values:
                self.counted = value
                if self.mine is None or self.quiz.revealed:
                    self.mine = value
                self.host.publish()

    @property
    def can_answer(self) -> bool:
        return self.seat is not None and bool(self.seat.link.config.voter)

    def answer(self, value: str) -> None:
        """A key on the question: this follower's answer (again: their changed mind)."""
        quiz, presenting = self.quiz, self.seat
        if quiz is None or quiz.revealed or presenting is None or not self.can_answer:
            return
        self.mine = value
        presenting.link.send_answer(quiz.id, value)
        self.host.publish()

    def refresh(self) -> None:
        """Show the question if it is for this follower now, hide it if not: an open question is theirs
        if they are where it was asked (following, they are; alone, only if they are there too); its
        reveal is theirs if they saw it open, or follow. The app's publish calls it, before the view."""
        app, quiz, presenting = self.host, self.quiz, self.seat
        if presenting is None or presenting.presenter:
            return
        show = False
        if quiz is not None:
            if not quiz.revealed:
                show = dict(quiz.at) == position(app.session)
                if show:
                    self.seen = quiz.id
            else:
                show = self.seen == quiz.id or presenting.following
        if self._asking is not None and (not show or quiz is None or self._asking.quiz.id != quiz.id):
            self._close_asking()  # gone, or another question (a new screen: its frame is drawn whole)
        if not show or quiz is None:
            return
        mine = self.counted if quiz.revealed else self.mine  # the reveal judges what the room counted
        if self._asking is None:
            from .screens.room import RoomQuestionScreen
            self._asking = RoomQuestionScreen(quiz, mine, self.can_answer, self)
            app.push_screen(self._asking)
        else:
            self._asking.show(quiz, mine)

    def _close_asking(self) -> None:
        screen, self._asking = self._asking, None
        if screen is None:
            return
        if self.host.screen is screen:
            screen.dismiss(None)
        else:
            screen.stale = True  # under another screen (help): it goes when that one closes

    def link_ended(self) -> None:
        """The relay has gone: no question is open for this follower any more."""
        if self.seat is not None and not self.seat.presenter:
            self.quiz, self.mine, self.counted = None, None, None
