"""The question predict mode asks before a step: docked at the bottom, so the curve and the arithmetic
(the numbers to reason from) stay in view; one key answers, `w` types the new weight instead, Escape
skips."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from ...learning.knobs import KnobError, parse_number
from ...learning.predict import Question
from ...wire import ANSWER_KEYS

KEY_NAMES = {"up": "↑", "down": "↓"}
ASCII_KEY_NAMES = {"up": "up", "down": "down"}


def key_name(key: str, ascii: bool) -> str:
    """How a choice's key is written: `↑` (`up` in ASCII), or the key itself."""
    return (ASCII_KEY_NAMES if ascii else KEY_NAMES).get(key, key)


def choices_text(question: Question, ascii: bool) -> Text:
    """The choices and their keys, on one line: `↑ up   ↓ down` (`up up   down down` in ASCII)."""
    text = Text()
    for n, choice in enumerate(question.choices):
        if n:
            text.append("   ")
        text.append(key_name(choice.key, ascii), style="bold")
        text.append(f" {choice.label}")
    return text


class QuestionScreen(ModalScreen[str | float | None]):
    """One question; dismissed with the chosen value, a typed new weight (a float), or None (Escape)."""

    BINDINGS = [Binding(key, f"answer({key!r})", show=False) for key in ANSWER_KEYS] + [
        Binding("w", "type_weight", "Type the new weight", show=False),
        Binding("escape", "skip", "Skip", show=False)]
    DEFAULT_CSS = """
    QuestionScreen { align: center bottom; background: $background 0%; }
    QuestionScreen > Vertical {
        width: 100%; height: auto; border: round $accent; background: $surface; padding: 0 1;
    }
    QuestionScreen Input, QuestionScreen Input:focus {
        display: none; height: 1; border: none; padding: 0; margin: 0; background: $boost;
    }
    QuestionScreen.-typing Input { display: block; }
    QuestionScreen .problem { display: none; color: $warning; }
    QuestionScreen.-typing .problem { display: block; }
    """

    def __init__(self, question: Question) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        text = Text()
        text.append("Predict: ", style="bold")
        text.append(self.question.text + "\n")
        text.append_text(choices_text(self.question, getattr(self.app, "ascii", False)))
        text.append("   w", style="bold")
        text.append(" type the new weight")
        text.append("   esc skip", style="dim")
        with Vertical():
            yield Static(text)
            yield Input(placeholder="the new weight (enter: step)", id="guess")
            yield Static("", classes="problem")

    def on_mount(self) -> None:
        self.query_one(Vertical).border_title = "Before the step"

    @property
    def typing(self) -> bool:
        return self.has_class("-typing")

    def action_answer(self, key: str) -> None:
        """A key: the choice it gives, if this question has one (other keys do nothing)."""
        choice = self.question.choice(key)
        if choice is not None and not self.typing:
            self.dismiss(choice.value)

    def action_type_weight(self) -> None:
        """w: type where the weight will land, instead of choosing."""
        self.add_class("-typing")
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """A typed new weight: a number steps, anything else is named and kept for mending."""
        try:
            self.dismiss(parse_number("weight", event.value))
        except KnobError as exc:
            self.query_one(".problem", Static).update(Text(str(exc)))

    def action_skip(self) -> None:
        self.dismiss(None)
