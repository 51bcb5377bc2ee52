"""Help: the chapter's ideas in our own words, tied to what is on screen, then every key."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown

from ..keys import help_rows

from .plain import plain_scrollbars

ASCII_BULLETS = ["- ", "* ", "+ ", "- ", "* "]
"""Markdown's list bullets in ASCII mode, by depth (Textual's are • ▪ ‣ ⭑ ◦)."""

HELP = """\
# How one weight learns

**Predict, compare, learn.** The network is one knob: `prediction = input x weight`. It compares the
prediction with the goal, `error = (prediction - goal) ** 2`, and learns by moving the weight so the
next error is smaller. The *Arithmetic* panel shows the next iteration with today's numbers.

**Why square the error?** The error here is the *mean squared error* of one example. Squaring keeps every error positive, so misses in opposite directions cannot
cancel out, and it makes big misses count much more than small ones.

**Hot and cold** (press `m` to switch methods) tries the weight one step up and one step down and keeps
whichever is colder. Two problems: it needs three predictions per iteration, and it only knows the
*direction*, never how far, so every step is the same size: too big and it bounces across the goal
forever (preset `toes`), too small and it crawls (preset `hot-cold` needs 1101 iterations).

**Direction and amount.** Gradient descent computes `delta = prediction - goal`: its sign says which way
we missed and its size by how much. `weight_delta = delta x input` then accounts for the input:
*stopping* (input 0: nothing to learn, preset `stopping`), *negative reversal* (a negative input flips
the direction, preset `negative`) and *scaling* (a big input makes a big update, preset `scaling`).

**The error curve.** With input and goal fixed, error is a parabola in the weight. Its bottom is the goal
weight `goal / input` (the vertical line). The big dot is the weight now, the small dots its trail, the
ring where the next step lands.

**The derivative is the slope.** The tangent line at the weight has slope
`2 x input x (input x weight - goal)`, exactly twice `weight_delta`. The book drops the 2: it is folded
into alpha. Where the slope is negative, increase the weight; where positive, decrease it.

**Gradient descent** moves the weight against the slope: `weight -= alpha x weight_delta`.

**Divergence.** Each step multiplies the miss by `1 - alpha x input^2`. When `alpha x input^2` is above 2
that factor is bigger than 1 in size: every step overshoots further than the last and the error grows
(preset `divergence`: x9 per step, until the numbers overflow).

**Alpha** shrinks the step. Learning converges when `0 < alpha x input^2 < 2`; it lands in one step when
`alpha = 1 / input^2` (shown in the status bar). Too slow? Raise alpha. Error growing? Lower it
(preset `alpha`).

# Keys

"""


def key_table() -> str:
    """Help's key table, from the one key table (tui/keys.py)."""
    rows = "\n".join(f"| {key} | {does} |" for key, does in help_rows())
    return "| key | does |\n|---|---|\n" + rows + "\n"


HELP = HELP + key_table()



class HelpScreen(ModalScreen[None]):
    """The chapter and the keys; Escape, ? or q closes it.

    The text scrolls by keys from the start (up, down, PageUp, PageDown, Home, End): its scroll box
    takes the focus when the screen opens, as there may be no mouse (over SSH).
    """

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll { width: 96%; height: 94%; border: round $accent; background: $surface; }
    """
    AUTO_FOCUS = "#help-text"
    BINDINGS = [
        Binding("escape,question_mark,q", "dismiss", "Close"),
        # A modal screen cuts the App's bindings off, so the App's `s` does not reach here by itself.
        Binding("s", "app.screenshot", "Screenshot", show=False),
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-text") as box:
            box.border_title = "Help (Esc closes)"
            markdown = Markdown(HELP)
            if getattr(self.app, "ascii", False):
                markdown.BULLETS = ASCII_BULLETS
            yield markdown

    def on_mount(self) -> None:
        if getattr(self.app, "ascii", False):
            plain_scrollbars(self.query_one("#help-text"))
