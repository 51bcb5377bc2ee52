"""A question for the room (presenter mode), docked at the bottom like predict mode's, so the curve and the
arithmetic stay in view.

- RoomBarsScreen, the presenter's: the question, how many answered out of how many follow, a bar per
  choice (counts, never names); space closes it and steps, and the bars stay with the answer marked
  until the presenter goes on.
- RoomQuestionScreen, a follower's: the question and its keys; their answer (they may change it until
  the presenter closes); then the answer, why, and whether theirs was right, in presenter/quiz.py's
  `own_line` words. In a shared view the renderer cannot know whose screen it is: it draws one row
  short, and the server writes each follower's own line on the row below (serve/room.py), in the same words.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from rich.text import Text
from textual.app import App, ComposeResult, RenderResult
from textual.binding import Binding
from textual.screen import ModalScreen, Screen
from textual.widget import Widget
from textual.widgets import Static

from ...learning.predict import Question
from ...presenter.quiz import own_line
from ...wire import ANSWER_KEYS, RoomQuestion
from ..themes import theme_rgb
from .question import choices_text, key_name

ASKS_TITLE, ANSWER_TITLE = "The presenter asks", "The answer"
"""A follower's question panel's titles: open, and revealed."""


class Asking(Protocol):
    """The presenter's question's owner (tui/room_quiz.py): what the bars' keys do."""

    def close(self) -> None:
        """Space: the answer to everyone, then the step."""

    def clear(self) -> None:
        """Space on the revealed answer: the question is over."""

    def cancel(self) -> None:
        """Escape before closing: the question is taken back."""


class Answering(Protocol):
    """A follower's side of the question (tui/room_quiz.py): what an answer key does."""

    def answer(self, value: str) -> None: ...

PANEL_CSS = """
{name} {{ align: center bottom; background: $background 0%; }}
{name} > .panel {{ width: 100%; height: auto; border: round $accent; background: $surface; padding: 0 1; }}
App.-ascii {name} > .panel {{ border: ascii $accent; }}
"""


def _colour(app: App[Any], name: str) -> str:
    """A theme colour, for Rich text (which knows no $variables)."""
    r, g, b = theme_rgb(app, name)
    return f"rgb({r},{g},{b})"


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
        labels = [f"{key_name(c.key, ascii)} {c.label}" for c in self.question.choices]
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

    def __init__(self, question: Question, room: int, asking: Asking) -> None:
        super().__init__()
        self.question, self.asking = question, asking
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
        if self.revealed:
            self.dismiss(None)
            self.asking.clear()
        else:
            self.asking.close()

    def action_cancel(self) -> None:
        self.dismiss(None)
        if self.revealed:
            self.asking.clear()
        else:
            self.asking.cancel()


class RoomQuestionScreen(Screen[None]):
    """A follower's: the presenter's question; one key answers (another changes it) while it is open.
    Not modal: the follower's other keys (d, q, ?, ctrl+l for a shared view's newcomer) work under it."""

    BINDINGS = [Binding(key, f"answer({key!r})", show=False) for key in ANSWER_KEYS]
    DEFAULT_CSS = PANEL_CSS.format(name="RoomQuestionScreen")

    def __init__(self, quiz: RoomQuestion, mine: str | None, can_answer: bool, answering: Answering) -> None:
        super().__init__()
        self.quiz, self.mine, self.can_answer, self.answering = quiz, mine, can_answer, answering
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
        self.query_one(".panel").border_title = ANSWER_TITLE if self.quiz.revealed else ASKS_TITLE

    def show(self, quiz: RoomQuestion, mine: str | None) -> None:
        """The same question again (now revealed, perhaps), and this follower's answer."""
        self.quiz, self.mine = quiz, mine
        if self.is_mounted:
            self._title()
            self.query_one(Static).update(self._text())

    def _text(self) -> Text:
        q, text = self.quiz.question, Text()
        text.append(q.text + "\n", style="bold")
        if self.quiz.revealed:
            label = next((c.label for c in q.choices if c.value == q.answer), q.answer)
            text.append(f"The answer: {label}. ", style="bold")
            text.append(q.why + "\n")
        else:
            text.append_text(choices_text(q, getattr(self.app, "ascii", False)))
            text.append("\n")
        if not self.can_answer:
            text.rstrip()  # a shared view: the server writes each follower's own line on its own row
            return text
        words, tone = own_line(self.quiz, self.mine)
        style = (f"bold {_colour(self.app, 'success' if tone == 'right' else 'warning')}" if tone
                 else "bold" if self.mine is not None else "dim")
        text.append(words, style=style)
        return text

    def action_answer(self, key: str) -> None:
        choice = self.quiz.question.choice(key)
        if choice is not None and not self.quiz.revealed and self.can_answer:
            self.answering.answer(choice.value)


def _panel() -> Widget:
    from textual.containers import Vertical
    return Vertical(classes="panel")
