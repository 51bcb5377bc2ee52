"""The stage: one immutable value that is everything the simulator's screen shows.

The app holds one reactive of it (`KnobApp.stage`); the helpers around the app (autoplay, undo, predict
mode, the room's question, the lesson, presenter mode, the knob keys) take a stage and give the next one,
and `tui/show.py` is the one place a stage reaches the widgets. Pure: no Textual, so every change of
state can be checked without a screen.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from ..learning import KNOB_NAMES
from ..learning.predict import hide_answer
from ..learning.view import View

Note = tuple[str, str]
"""A message and its severity ("information", "warning", "error")."""


@dataclass(frozen=True, slots=True)
class Stage:
    """Everything on the simulator's screen, as values. Replaced, never mutated."""

    view: View | None = None
    """The engine's view of the session, the next outcome already `HIDDEN` while a question keeps it back."""
    hidden: frozenset[str] = frozenset()
    """Knobs a lesson (or --hide, or the presenter's scene) keeps off the screen."""
    outcome_hidden: bool = False
    """The lesson step (or the presenter's scene) keeps the next outcome back."""
    question: str = ""
    """The question open or due now that keeps the next outcome back: "predict", "room", or ""."""
    selected: int = 0
    """The selected knob (an index into KNOB_NAMES)."""
    editing: bool = False
    """The knob editor is open: the arrows edit text, not knobs."""
    knob_message: str = ""
    """Why the last knob entry was refused."""
    playing: str = ""
    """Autoplay's label while it runs ('playing 15/s')."""
    per_iteration: bool = False
    """The plot shows the error per iteration instead of the curve."""
    arithmetic_rows: int = 7
    """The lines the layout gives the arithmetic (tui/layout.py)."""
    note: Note = ("", "")
    """The last message and its severity, until the next key."""
    note_brief: str = ""
    """The same message in fewer words (a claim's brief form), or nothing."""
    extras: tuple[tuple[str, str, int], ...] = ()
    """The status line's extras as (name, text, rank): the autoplay speed, predict mode's tally."""
    keys_shown: tuple[tuple[str, str, int], ...] = ()
    """The key bar for the situation now."""
    lesson_heading: str = ""
    """'lesson title · step k of n', or empty without a lesson."""
    lesson_note: str = ""
    """The note of the lesson step on screen."""
    link_status: str = ""
    """Presenter mode: 'presenting to N', 'following the presenter', ..."""
    followers: int = 0
    """Presenter mode: how many follow the presenter now (the join screen's count)."""
    curve_at_once: bool = False
    """The curve comes in the same frame as the numbers: a shared view's renderer, which no key waits on
    (elsewhere the curve comes a frame later, so a key's first bytes do not wait for plotext)."""

    def but(self, **changes: Any) -> Stage:
        """This stage with some fields changed."""
        return replace(self, **changes)

    # ---- the status line's words ------------------------------------------------------------------
    def saying(self, message: str, title: str = "", severity: str = "information", brief: str = "") -> Stage:
        """A message at the front of the status line until the next key; a claim's `brief` form too."""
        return replace(self, note=(f"{title}: {message}" if title else message, severity),
                       note_brief=(f"{title}: {brief}" if title else brief) if brief else "")

    def quiet(self) -> Stage:
        """A key was pressed: the last message goes."""
        return self if self.note == ("", "") and not self.note_brief else replace(self, note=("", ""), note_brief="")

    def with_extra(self, name: str, text: str, rank: int) -> Stage:
        """One of the status line's extras set (empty text removes it); the others keep their order."""
        kept = tuple(e for e in self.extras if e[0] != name)
        if text:
            at = next((i for i, e in enumerate(self.extras) if e[0] == name), len(kept))
            kept = (*kept[:at], (name, text, rank), *kept[at:])
        return replace(self, extras=kept)

    @property
    def status_extra(self) -> tuple[tuple[str, int], ...]:
        """The extras as the status line takes them: (text, rank)."""
        return tuple((text, rank) for _, text, rank in self.extras)

    # ---- what is shown of the engine --------------------------------------------------------------
    @property
    def keeps_back(self) -> bool:
        """The next outcome is not on the screen: a question is open or due, or the lesson keeps it back."""
        return bool(self.question) or self.outcome_hidden

    def showing(self, view: View, question: str = "") -> Stage:
        """The engine's new view on the stage, its next outcome kept back while a question is open or due."""
        staged = replace(self, question=question)
        return replace(staged, view=hide_answer(view) if staged.keeps_back else view)

    def select(self, change: int) -> Stage:
        """The next (or previous) knob that is shown; the selection stays while the editor is open."""
        shown = [i for i, name in enumerate(KNOB_NAMES) if name not in self.hidden] or [self.selected]
        at = shown.index(self.selected) if self.selected in shown else 0
        return self if self.editing else replace(self, selected=shown[(at + change) % len(shown)])

    def hiding(self, hidden: frozenset[str]) -> Stage:
        """Other knobs hidden; a selected knob that is now hidden gives way to the next one shown."""
        staged = replace(self, hidden=frozenset(hidden))
        if KNOB_NAMES[staged.selected] in staged.hidden:
            staged = staged.select(1)
        return staged


def first_stage(hidden: frozenset[str] = frozenset()) -> Stage:
    """The stage before anything is shown: the first knob that is not hidden selected."""
    return Stage(hidden=frozenset(hidden),
                 selected=next((i for i, name in enumerate(KNOB_NAMES) if name not in hidden), 0))
