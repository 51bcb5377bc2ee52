"""Predict before you step: one question the engine can answer about the next iteration.

The answer is what the session does next (Session.next_record), never a second computation of it, so
a question is right exactly when the engine agrees. Each answer comes with one line of why, tied to
numbers on the screen (the slope, the two errors hot and cold tried, the goal weight).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from .analysis import error_at, goal_weight
from .narrator import move
from .session import Session
from .view import View, hide_next

Kind = Literal["direction", "error", "overshoot"]
KINDS: tuple[Kind, ...] = ("direction", "error", "overshoot")


@dataclass(frozen=True, slots=True)
class Choice:
    """One answer: the key that gives it, and its words."""

    key: str
    value: str
    label: str


UP, DOWN, STAY = Choice("up", "up", "up"), Choice("down", "down", "down"), Choice("s", "stay", "stay")
RISE, FALL = Choice("up", "rise", "rise"), Choice("down", "fall", "fall")
YES, NO = Choice("y", "yes", "yes"), Choice("n", "no", "no")


@dataclass(frozen=True, slots=True)
class Question:
    """A question about the next iteration, its choices, the engine's answer and why."""

    kind: Kind
    text: str
    choices: tuple[Choice, ...]
    answer: str  # the value of the right choice
    why: str  # one line, naming numbers on the screen
    brief: str = ""  # the same in fewer words, for a short line ('' : the why is short already)

    def choice(self, key: str) -> Choice | None:
        return next((c for c in self.choices if c.key == key), None)

    def verdict(self, value: str) -> tuple[bool, str]:
        """Whether `value` was right, and the line that says so and why."""
        right = value == self.answer
        return right, f"{'right' if right else f'not {value}'}: {self.why}"

    def verdict_brief(self, value: str) -> str:
        """The verdict in fewer words (the brief why), for a short line."""
        return f"{'right' if value == self.answer else f'not {value}'}: {self.brief or self.why}"


def _way(before: float, after: float, up: str, down: str, same: str) -> str:
    return up if after > before else down if after < before else same


def ask(session: Session, kind: Kind) -> Question | None:
    """The question of `kind` about the session's next iteration, or None when there is no next one to
    ask about (it would overflow) or the kind does not fit (overshoot without a goal weight, or for hot
    and cold)."""
    rec = session.next_record()
    if rec is None:
        return None
    knobs, w, nw = session.knobs, rec.weight, rec.new_weight
    if kind == "direction":
        claim = move(rec, knobs.alpha)
        choices: tuple[Choice, ...] = (UP, DOWN, STAY)  # the same every time: the choices never tell
        return Question(kind, "Will the weight go up or down?", choices, claim.way, claim.why, claim.brief)
    if kind == "error":
        after = error_at(knobs, nw)
        answer = _way(rec.error, after, "rise", "fall", "stay")
        why = f"the error goes from {rec.error!r} to {after!r}"
        brief = f"error {rec.error!r} -> {after!r}"
        return Question(kind, "Will the error rise or fall?", (RISE, FALL, STAY), answer, why, brief)
    target = goal_weight(knobs)
    if target is None or rec.method != "gradient" or w == target:
        return None
    over = (w < target < nw) or (nw < target < w)
    past = "past" if over else "not past"
    why = f"the weight goes from {w!r} to {nw!r}, {past} the goal weight {target!r}"
    return Question(kind, f"Will the weight overshoot the goal weight {target!r}?", (YES, NO),
                    "yes" if over else "no", why, f"{w!r} -> {nw!r}, {past} {target!r}")


def position(session: Session) -> dict[str, object]:
    """Where a session is, as far as a question about its next iteration goes: the iteration, the method
    and the knobs now (a room question is put to a follower playing alone only if they are there too)."""
    return {"iteration": session.iteration, "method": session.method, **session.knobs.as_dict()}


CLOSE = 0.01
"""A typed guess of the new weight counts as right within 1% of it."""


def weight_verdict(guess: float, actual: float) -> tuple[bool, str]:
    """A typed guess of the next new weight against the engine's: whether it is close, and one line that
    gives both numbers in full and how far apart they are (shortened to 3 significant digits)."""
    off = abs(guess - actual)
    close = off <= abs(actual) * CLOSE
    how = "exactly" if off == 0 else f"off by {off:.3g}" + (" (within 1%)" if close else "")
    return close, f"the new weight is {actual!r}; you said {guess!r}: {how}"


def hide_answer(view: View) -> View:
    """The view with the next iteration's outcome kept back (narrator.HIDDEN), while a question is open."""
    return hide_next(view)


def fitting_kind(session: Session, asked: int, overshoot: bool = False) -> Kind:
    """The kind to ask now: direction and error in turn; overshoot in turn too, once a lesson has taught
    divergence (`overshoot`), for gradient descent."""
    kinds: list[Kind] = ["direction", "error"]
    if overshoot and session.method == "gradient":
        kinds.append("overshoot")
    return kinds[asked % len(kinds)]


@dataclass
class Tally:
    """Right out of asked, and the streak of right answers now."""

    asked: int = 0
    right: int = 0
    streak: int = 0

    def add(self, right: bool) -> None:
        self.asked += 1
        self.right += right
        self.streak = self.streak + 1 if right else 0

    def __str__(self) -> str:
        return f"predicted {self.right}/{self.asked}" + (f", streak {self.streak}" if self.streak > 1 else "")
