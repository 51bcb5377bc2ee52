"""A question for the room (presenter mode), docked at the bottom like predict mode's, so the curve and the
arithmetic stay in view.

- RoomBarsScreen, the presenter's: the question, how many answered out of how many follow, a bar per
  choice (counts, never names); space closes it and steps, and the bars stay with the answer marked
  until the presenter goes on.
- RoomQuestionScreen, a follower's: the question and its keys; their answer (they may change it until
  the presenter closes); then the answer, why, and whether theirs was right. In a shared view the
  renderer cannot know whose screen it is: it leaves the last line blank and the server writes each
  follower's own answer there (serve/overlay.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult, RenderResult
from textual.binding import Binding
from textual.screen import ModalScreen, Screen
from textual.widget import Widget
from textual.widgets import Static

from ...learning.predict import Question
from ...presenter.quiz import ANSWER_TITLE, ASKS_TITLE
from .question import ASCII_KEY_NAMES, KEY_NAMES

if TYPE_CHECKING:
    from ..app import KnobApp

PANEL_CSS = """
{name} {{ align: center bottom; background: $background 0%; }}
{name} > .panel {{ width: 100%; height: auto; border: round $accent; background: $surface; padding: 0 1; }}
App.-ascii {name} > .panel {{ border: ascii $accent; }}
"""


def _colour(app: object, name: str) -> str:
    """A theme colour, for Rich text (which knows no $variables)."""
    variables = getattr(app, "theme_variables", {})
    return str(variables.get(name, "green" if name == "success" else "yellow" if name == "warning" else "blue"))


def _key_name(app: object, key: str) -> str:
    names = ASCII_KEY_NAMES if getattr(app, "ascii", False) else KEY_NAMES
    return names.get(key, key)


class Bars(Widget):
    """A bar per choice, as long as the share of the room that chose it; the right one marked once known."""

    DEFAULT_CSS = "Bars { height: auto; }"

    def __init__(self, question: Question) -> None:
        super().__init__(classes="bars")
        self.question = question
        self.counts: Mapping[str, int] = {}
        self.room = 0  # how many follow (bars are shares of the room, so they grow as answers come in)
        self.answer = ""  # the right value, once revealed

    def show(self, counts: Mapping[str, int], room: int, answer: str = "") -> None:
        self.counts, self.room, self.answer = counts, room, answer
        self.refresh()

    def get_content_height(self, container: object, viewport: object, width: int) -> int:
        return len(self.question.choices)

    def render(self) -> RenderResult:
        ascii = getattr(self.app, "ascii", False)
        full, empty, mark = ("#", ".", "<- right") if ascii else ("█", "░", "✓ right")
        labels = [f"{_key_name(self.app, c.key)} {c.label}" for c in self.question.choices]
        label_w = max(len(s) for s in labels)
        counts = [self.counts.get(c.value, 0) for c in self.question.choices]
        count_w = max(len(str(n)) for n in counts + [self.room])
        tail = len(mark) + 2 if self.answer else 0
        width = max(4, self.size.width - label_w - count_w - 3 - tail)
        whole = max(self.room, sum(counts), 1)  # a bar's share of the room (or of the answers, if more)
        text = Text()
        for n, (choice, label, count) in enumerate(zip(self.question.choices, labels, counts)):
            filled = round(width * count / whole)
            right = choice.value == self.answer
            text.append(label.ljust(label_w) + " ", style="bold" if right else "")
            text.append(full * filled, style=_colour(self.app, "success" if right else "accent"))
            text.append(empty * (width - filled), style="dim")
            text.append(f" {count:>{count_w}}", style="bold")
            if right:
                text.append(f"  {mark}", style=f"bold {_colour(self.app, 'success')}")
            if n < len(labels) - 1:
                text.append("\n")
        return text


class RoomBarsScreen(ModalScreen[None]):
    """The presenter's: the room answering, live. Space closes the question (and steps); Escape takes it
    back unasked. Once revealed, space, enter or escape goes on. Modal: the room's state holds still
    while it answers."""

    BINDINGS = [Binding("space,enter", "close", "Close", show=False),
                Binding("escape", "cancel", "Cancel", show=False)]
    DEFAULT_CSS = PANEL_CSS.format(name="RoomBarsScreen")

    def __init__(self, question: Question, room: int) -> None:
        super().__init__()
        self.question = question
        self.room = room
        self.answered = 0
        self.counts: Mapping[str, int] = {}  # kept here: counts may come before the screen is mounted
        self.revealed = False

    def compose(self) -> ComposeResult:
        bars = Bars(self.question)
        bars.show(self.counts, self.room)
        with _panel():
            yield Static(self._heading(), classes="heading")
            yield bars
            yield Static(self._footer(), classes="footer")

    def on_mount(self) -> None:
        self.query_one(".panel").border_title = "Ask the room"

    def _heading(self) -> Text:
        text = Text()
        text.append(self.question.text, style="bold")
        who = ("nobody follows yet" if not self.room and not self.answered
               else f"{self.answered} of {self.room} answered" if self.answered <= self.room
               else f"{self.answered} answered, {self.room} here now")  # answers stay when people leave
        text.append(f"   {who}", style="dim" if not self.answered else "")
        return text

    def _footer(self) -> Text:
        if not self.revealed:
            return Text("space close and step   esc cancel", style="dim")
        right = self.counts.get(self.question.answer, 0)
        text = Text()
        text.append(f"{self.question.why}\n")
        text.append(f"{right} of {self.answered} right" if self.answered else "nobody answered")
        text.append("   space go on", style="dim")
        return text

    @property
    def bars(self) -> Bars:
        return self.query_one(Bars)

    def show(self, counts: Mapping[str, int], answered: int, room: int) -> None:
        """New counts from the relay (or a new number of followers)."""
        self.counts, self.answered, self.room = counts, answered, room
        if self.is_mounted:
            self.bars.show(counts, self.room, self.question.answer if self.revealed else "")
            self.query_one(".heading", Static).update(self._heading())
            self.query_one(".footer", Static).update(self._footer())

    def reveal(self, question: Question) -> None:
        self.question, self.revealed = question, True
        self.query_one(".panel").border_title = "The room's answers"
        self.bars.show(self.counts, self.room, question.answer)
        self.query_one(".footer", Static).update(self._footer())

    def action_close(self) -> None:
        app: KnobApp = self.app  # type: ignore[assignment]
        if self.revealed:
            self.dismiss(None)
            app.room_quiz.clear()
        else:
            app.room_quiz.close()

    def action_cancel(self) -> None:
        app: KnobApp = self.app  # type: ignore[assignment]
        self.dismiss(None)
        if self.revealed:
            app.room_quiz.clear()
        else:
            app.room_quiz.cancel()


class RoomQuestionScreen(Screen[None]):
    """A follower's: the presenter's question; one key answers (another changes it) while it is open.
    Not modal: the follower's other keys (d, q, ?, ctrl+l for a shared view's newcomer) work under it."""

    BINDINGS = [Binding(key, f"answer({key!r})", show=False) for key in ("up", "down", "s", "y", "n")]
    DEFAULT_CSS = PANEL_CSS.format(name="RoomQuestionScreen")

    def __init__(self, qid: int, question: Question, revealed: bool, mine: str | None, can_answer: bool) -> None:
        super().__init__()
        self.qid = qid
        self.question, self.revealed, self.mine, self.can_answer = question, revealed, mine, can_answer
        self.stale = False  # the question went while another screen was over this one

    def on_screen_resume(self) -> None:
        if self.stale and self.app.screen is self:
            self.dismiss(None)

    def compose(self) -> ComposeResult:
        with _panel():
            yield Static(self._text())

    def on_mount(self) -> None:
        self._title()

    def _title(self) -> None:
        self.query_one(".panel").border_title = ANSWER_TITLE if self.revealed else ASKS_TITLE

    def show(self, question: Question, revealed: bool, mine: str | None) -> None:
        self.question, self.revealed, self.mine = question, revealed, mine
        if self.is_mounted:
            self._title()
            self.query_one(Static).update(self._text())

    def _text(self) -> Text:
        q, text = self.question, Text()
        text.append(q.text + "\n", style="bold")
        if self.revealed:
            label = next((c.label for c in q.choices if c.value == q.answer), q.answer)
            text.append(f"The answer: {label}. ", style="bold")
            text.append(q.why + "\n")
        else:
            for n, choice in enumerate(q.choices):
                if n:
                    text.append("   ")
                text.append(_key_name(self.app, choice.key), style="bold")
                text.append(f" {choice.label}")
            text.append("\n")
        if not self.can_answer:
            text.append(" ")  # a shared view: the server writes each follower's own line here
        elif self.revealed:
            if self.mine is None:
                text.append("You did not answer.", style="dim")
            else:
                right, _ = q.verdict(self.mine)
                text.append(f"You said {self.mine}: ", style="bold")
                text.append("right" if right else "not right",
                            style=f"bold {_colour(self.app, 'success' if right else 'warning')}")
        elif self.mine is None:
            text.append("Press a key to answer (you may change it until the question closes).", style="dim")
        else:
            text.append("Your answer: ")
            text.append(self.mine, style="bold")
            text.append("  (another key changes it)", style="dim")
        return text

    def action_answer(self, key: str) -> None:
        choice = self.question.choice(key)
        if choice is not None and not self.revealed and self.can_answer:
            app: KnobApp = self.app  # type: ignore[assignment]
            app.room_quiz.answer(choice.value)


def _panel() -> Widget:
    from textual.containers import Vertical
    return Vertical(classes="panel")
