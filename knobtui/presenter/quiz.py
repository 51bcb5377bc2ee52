"""A question for the room: the room's answers, counted once per follower, and each follower's own line.

The messages (Ask, Reveal, Clear, Ballot, Tally) and RoomQuestion are knobtui/wire.py's:

    presenter → relay   Ask | Reveal | Clear       ask, reveal, or clear (the room's newest)
    relay → follower    Ask | Reveal | Clear       the newest only, as with scenes
    relay → follower    Ballot                     on connect and when it counts: this follower's answer
    follower → relay    Ballot                     again to change it, while it is open
    relay → presenter   Tally                      how many chose each value, and how many answered

Answers are counted per voter, an opaque id the server gives each follower (the same after a reconnect);
no name ever reaches the presenter, only counts.
"""

from __future__ import annotations

from ..wire import RoomQuestion, Tally



def own_line(quiz: RoomQuestion | None, mine: str | None) -> tuple[str, str]:
    """A follower's own line under the room's question, and its tone ('', 'right', 'wrong'); ('', '') for
    none. The follower's simulator shows it (tui/screens/room.py); in a shared view the server writes it
    (serve/room.py): the same words either way."""
    if quiz is None:
        return "", ""
    if quiz.revealed:
        if mine is None:
            return "You did not answer.", ""
        right = mine == quiz.question.answer
        return f"You said {mine}: {'right' if right else 'not right'}.", "right" if right else "wrong"
    if mine is None:
        return "Press a key to answer (you may change it until the question closes).", ""
    return f"Your answer: {mine}  (another key changes it)", ""


class BallotBox:
    """The room's answers to its newest question: one per voter, the last one given, counted by choice."""

    def __init__(self) -> None:
        self.quiz: RoomQuestion | None = None
        self.answers: dict[str, str] = {}

    def set(self, quiz: RoomQuestion | None) -> None:
        """The room's newest question (None: cleared). A new question starts with no answers; its reveal
        keeps them (each follower sees whether theirs was right)."""
        if quiz is None or self.quiz is None or quiz.id != self.quiz.id:
            self.answers = {}
        self.quiz = quiz

    @property
    def open(self) -> bool:
        return self.quiz is not None and not self.quiz.revealed

    def valid(self, voter: str, qid: object, value: object) -> bool:
        """Whether this answer would count: a voter's, to the open question, one of its choices."""
        quiz = self.quiz
        return bool(voter) and quiz is not None and not quiz.revealed and qid == quiz.id and value in quiz.values

    def vote(self, voter: str, qid: object, value: object) -> bool:
        """A follower's answer (or their changed mind); True if it counts. Only to the open question."""
        if not self.valid(voter, qid, value):
            return False
        self.answers[voter] = str(value)
        return True

    def replace(self, answers: dict[str, str]) -> None:
        """The open question's answers as another holds them (a node of the room catching up): only
        answers that are one of its choices."""
        quiz = self.quiz
        self.answers = {v: a for v, a in answers.items() if quiz is not None and a in quiz.values}

    def answer_of(self, voter: str) -> str | None:
        return self.answers.get(voter)

    def counts(self) -> Tally:
        """What the presenter sees: how many chose each value, and how many answered. Never who."""
        quiz = self.quiz
        values = quiz.values if quiz is not None else ()
        counts = {v: 0 for v in values}
        for value in self.answers.values():
            counts[value] = counts.get(value, 0) + 1
        return Tally(id=quiz.id if quiz is not None else 0, counts=counts, answered=len(self.answers))


__all__ = ["BallotBox", "own_line"]
