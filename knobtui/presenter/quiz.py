"""A question for the room: what travels between the presenter, the relay and the followers, and the
room's answers, counted once per follower.

    presenter → relay   {"quiz": QUIZ | null}                      ask, reveal, or clear (the room's newest)
    relay → follower    {"quiz": QUIZ | null}                      the newest only, as with scenes
    relay → follower    {"yours": {"id": ID, "value": VALUE}}      on connect: this follower's answer so far
    follower → relay    {"answer": {"id": ID, "value": VALUE}}     again to change it, while it is open
    relay → presenter   {"answers": {"id": ID, "counts": {VALUE: N, ...}, "answered": N}}

QUIZ is RoomQuestion.as_dict(): an id, "open" or "reveal", the question's words and choices, and the
position it was asked at (followers who play alone are asked only if they are there too). The answer
and its why travel only with the reveal. Answers are counted per voter, an opaque id the server gives
each follower (the same after a reconnect); no name ever reaches the presenter, only counts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from ..learning.predict import KINDS, Choice, Kind, Question

ANSWER_KEYS = ("up", "down", "s", "y", "n")
"""The keys a choice may have (learning/predict.py's choices use these)."""

ASKS_TITLE, ANSWER_TITLE = "The presenter asks", "The answer"
"""A follower's question panel's titles: the server knows from them that a shared view shows it."""
MAX_TEXT = 400  # the longest question or why a follower accepts
MAX_CHOICES = 3


def _text(value: object, limit: int = MAX_TEXT) -> str:
    if not isinstance(value, str) or len(value) > limit:
        raise ValueError("not a short string")
    return value


@dataclass(frozen=True)
class RoomQuestion:
    """One question put to the room: open (answers come in) or revealed (the answer and why known)."""

    id: int
    question: Question  # answer and why are "" while open: they do not travel before the reveal
    at: Mapping[str, object]  # learning.predict.position() of the session it was asked about
    revealed: bool = False

    @classmethod
    def ask(cls, qid: int, question: Question, at: Mapping[str, object]) -> RoomQuestion:
        return cls(qid, replace(question, answer="", why="", brief=""), dict(at))  # nothing of the answer

    def reveal(self, question: Question) -> RoomQuestion:
        """The same question with its answer (the presenter's engine knows it)."""
        return replace(self, question=replace(question, brief=""), revealed=True)  # as the wire carries it

    @property
    def values(self) -> tuple[str, ...]:
        return tuple(c.value for c in self.question.choices)

    def as_dict(self) -> dict[str, object]:
        q = self.question
        out: dict[str, object] = {"id": self.id, "phase": "reveal" if self.revealed else "open", "kind": q.kind,
                                  "text": q.text, "choices": [[c.key, c.value, c.label] for c in q.choices],
                                  "at": dict(self.at)}
        if self.revealed:
            out.update(answer=q.answer, why=q.why)
        return out

    @classmethod
    def from_dict(cls, data: object) -> RoomQuestion:
        """Read a question off the wire; ValueError for anything a presenter's knobtui would not send."""
        if not isinstance(data, dict):
            raise ValueError("not a question")
        qid, phase, kind, at = data.get("id"), data.get("phase"), data.get("kind"), data.get("at")
        if not isinstance(qid, int) or isinstance(qid, bool) or not 0 < qid < 2 ** 53:
            raise ValueError("a question's id is a positive whole number")
        if phase not in ("open", "reveal") or not isinstance(at, dict):
            raise ValueError("a question is open or revealed, at a position")
        kind_ok: Kind | None = next((k for k in KINDS if k == kind), None)
        if kind_ok is None:
            raise ValueError(f"no such kind of question: {kind!r}")
        raw = data.get("choices")
        if not isinstance(raw, list) or not 2 <= len(raw) <= MAX_CHOICES:
            raise ValueError("a question has two or three choices")
        choices = []
        for item in raw:
            if not (isinstance(item, list) and len(item) == 3 and item[0] in ANSWER_KEYS):
                raise ValueError("a choice is [key, value, label]")
            choices.append(Choice(item[0], _text(item[1], 16), _text(item[2], 16)))
        if len({c.key for c in choices}) != len(choices) or len({c.value for c in choices}) != len(choices):
            raise ValueError("two choices alike")
        revealed = phase == "reveal"
        answer = _text(data.get("answer", ""), 16) if revealed else ""
        if revealed and answer not in (c.value for c in choices):
            raise ValueError("the answer is not one of the choices")
        why = _text(data.get("why", "")) if revealed else ""
        return cls(qid, Question(kind_ok, _text(data.get("text")), tuple(choices), answer, why), at, revealed)


def quiz_in(message: Mapping[str, object]) -> RoomQuestion | None:
    """The question a `{"quiz": ...}` message carries, or None (cleared, or malformed)."""
    try:
        return RoomQuestion.from_dict(message.get("quiz"))
    except ValueError:
        return None


def own_line(quiz: RoomQuestion | None, mine: str | None) -> tuple[str, str]:
    """A follower's own line under the room's question, and its tone ('', 'right', 'wrong'); ('', '') for
    none. The follower's simulator shows it (tui/screens/room.py); in a shared view the server writes it
    (serve/overlay.py): the same words either way."""
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


class Ballot:
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

    def counts(self) -> dict[str, object]:
        """What the presenter sees: how many chose each value, and how many answered. Never who."""
        quiz = self.quiz
        values = quiz.values if quiz is not None else ()
        counts = {v: 0 for v in values}
        for value in self.answers.values():
            counts[value] = counts.get(value, 0) + 1
        return {"id": quiz.id if quiz is not None else 0, "counts": counts, "answered": len(self.answers)}


@dataclass(frozen=True)
class Counts:
    """The `answers` message, read by the presenter's simulator."""

    id: int
    counts: Mapping[str, int]
    answered: int

    @classmethod
    def from_message(cls, message: Mapping[str, object]) -> Counts | None:
        data = message.get("answers")
        if not isinstance(data, dict):
            return None
        qid, counts, answered = data.get("id"), data.get("counts"), data.get("answered")
        if not (isinstance(qid, int) and isinstance(counts, dict) and isinstance(answered, int)):
            return None
        clean = {str(k): v for k, v in counts.items() if isinstance(v, int) and v >= 0}
        return cls(qid, clean, answered)
