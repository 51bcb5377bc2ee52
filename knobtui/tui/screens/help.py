"""Help: the chapter's ideas in our own words, tied to what is on screen, then every key."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown

from ..keys import KEYS, Key, help_rows

from .plain import plain_scrollbars

ASCII_BULLETS = ["- ", "* ", "+ ", "- ", "* "]
"""Markdown's list bullets in ASCII mode, by depth (Textual's are • ▪ ‣ ⭑ ◦)."""

HELP = """\
# How one weight learns

**Predict, compare, learn.** The network is one weight, the knob it turns: `prediction = input * weight`.
It compares the prediction with the goal, `error = (prediction - goal) ** 2`, and learns by moving the
weight so the next error is smaller. Of the five knobs on screen only the weight is learned; input and
goal are the situation (one example), alpha and step_amount are settings of the two ways to learn. The
*Arithmetic* panel shows the next iteration with the current numbers plugged in.

**Why square the error?** This error is the *mean squared error* of one example. Squaring keeps every
error positive, so misses in opposite directions cannot cancel out, and it makes big misses count much
more than small ones.

**Hot and cold** (press `m` to switch methods) tries the weight one step up and one step down and keeps
whichever gives the lower error (the warmer one). The book names two problems. It is inefficient: every
iteration makes two extra predictions, and it moves by the same step_amount whatever the miss (preset
`hot-cold` needs 1101 iterations). And it can only land on the start weight plus or minus whole steps,
so it may never reach the goal exactly: once there it bounces across it (preset `toes`). A bigger step
is not simply worse: on the `hot-cold` preset a step of 0.1 gets within the tolerance at iteration 12.
In the book's first comparison (preset `toes`) the code steps up by 0.1 but down by 0.01, a slip:
`knobtui run --preset toes --format book` prints its three numbers; the simulator steps the same amount
up and down.

**Direction and amount.** Gradient descent starts from the *pure error*, `delta = prediction - goal`: its
sign says which way we missed, its size by how much. The book's *direction and amount* is
`weight_delta = delta * input`, which accounts for the input: *stopping* (input 0: nothing to learn,
preset `stopping`), *negative reversal* (a negative input flips the direction, preset `negative`) and
*scaling* (a big input makes a big update, preset `scaling`).

**The error curve.** With input and goal fixed, the error is a parabola in the weight, a bowl. Its bottom is
the goal weight `goal / input`, where the error is 0 (the vertical line). The legend above the curve names
every mark: the weight now, the tangent and its slope, the goal weight, the next weight and the trail.

**Sensitivity: the slope.** How much does the error move when the weight moves? Nudge the weight a little
and the error changes by about the slope times the nudge. The slope of the curve at the weight is
`2 * input * delta`. The book calls `weight_delta` the derivative; the exact slope is twice it (our
note: alpha absorbs the 2). Where the slope is negative, increase the weight; where it is positive,
decrease it: the slope's sign gives the direction, its steepness the amount.

**Gradient descent** moves the weight against the slope: `weight = weight - alpha * weight_delta`.

**Divergence.** Each step multiplies the miss by `1 - alpha * input ** 2`. When `alpha * input ** 2` is
above 2 that factor is bigger than 1 in size: every step overshoots further than the last and the error
grows, even when it started small (preset `divergence`: a big input, x9 per step, until the numbers
overflow).

**Alpha** shrinks the step. For this network of one weight and one example, learning converges when
`0 < alpha * input ** 2 < 2`, and lands on the goal in one step when `alpha = 1 / input ** 2` (shown in
the status line). The book finds alpha by trial: watch the error; if it grows, lower alpha; if learning is
slow, raise it (preset `alpha`).

**Converged** means an iteration's error is within the tolerance, 1e-10. Like the book, an iteration
prints the error of the weight it starts from, before its update: so with `alpha = 1 / input ** 2` the
first update lands on the goal and knobtui says *converged at iteration 2*.

**Predict first.** Press `a`, then space: before the step runs, say which way the weight will go (or
whether the error will rise, or whether it will overshoot), or press `w` and type the new weight. The
step itself is the answer. Presenting, `a` puts the question to the whole room and shows how it
answered.

**What you really need to know** (the book's summary): a neural network is a bunch of weights used to
compute an error; for any error we can compute how each weight relates to it; so we can change each
weight to bring the error down to zero.

# Keys

"""


def key_table(table: tuple[Key, ...] = KEYS) -> str:
    """Help's key table, from the one key table (tui/keys.py), with the user's keymap."""
    rows = "\n".join(f"| {key} | {does} |" for key, does in help_rows(table))
    return "| key | does |\n|---|---|\n" + rows + "\n"


CHAPTER = HELP
HELP = CHAPTER + key_table()



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

    def __init__(self, keys: tuple[Key, ...] = KEYS) -> None:
        super().__init__()
        self.text = HELP if keys is KEYS else CHAPTER + key_table(keys)

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-text") as box:
            box.border_title = "Help (Esc closes)"
            markdown = Markdown(self.text)
            if getattr(self.app, "ascii", False):
                markdown.BULLETS = ASCII_BULLETS
            yield markdown

    def on_mount(self) -> None:
        if getattr(self.app, "ascii", False):
            plain_scrollbars(self.query_one("#help-text"))
