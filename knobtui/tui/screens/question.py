"""The question predict mode asks before a step: docked at the bottom, so the curve and the arithmetic
(the numbers to reason from) stay in view; one key answers, Escape skips."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import ModalScreen
from textual.widgets import Static

from ...learning.predict import Question

KEY_NAMES = {"up": "↑", "down": "↓"}
ASCII_KEY_NAMES = {"up": "up", "down": "down"}


class QuestionScreen(ModalScreen[str | None]):
    """One question; dismissed with the chosen value, or None (Escape)."""

    BINDINGS = [Binding(key, f"answer({key!r})", show=False) for key in ("up", "down", "s", "y", "n")] + [
        Binding("escape", "skip", "Skip", show=False)]
    DEFAULT_CSS = """
    QuestionScreen { align: center bottom; background: $background 0%; }
    QuestionScreen > Static {
        width: 100%; height: auto; border: round $accent; background: $surface; padding: 0 1;
    }
    """

    def __init__(self, question: Question) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        ascii = getattr(self.app, "ascii", False)
        names = ASCII_KEY_NAMES if ascii else KEY_NAMES
        text = Text()
        text.append("Predict: ", style="bold")
        text.append(self.question.text + "\n")
        for n, choice in enumerate(self.question.choices):
            if n:
                text.append("   ")
            text.append(names.get(choice.key, choice.key), style="bold")
            text.append(f" {choice.label}")
        text.append("   esc skip", style="dim")
        yield Static(text)

    def on_mount(self) -> None:
        self.query_one(Static).border_title = "Before the step"

    def action_answer(self, key: str) -> None:
        """A key: the choice it gives, if this question has one (other keys do nothing)."""
        choice = self.question.choice(key)
        if choice is not None:
            self.dismiss(choice.value)

    def action_skip(self) -> None:
        self.dismiss(None)
