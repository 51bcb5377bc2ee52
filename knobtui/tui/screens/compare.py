"""Compare: hot and cold against gradient descent from the same knobs, with the iterations each needs."""

from __future__ import annotations


from rich.text import Text
from textual import events
from textual.app import ComposeResult, RenderResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static
from textual_plotext import PlotextPlot

from .. import plotting  # noqa: F401  (deterministic plotext)
from ..glyphs import BOX_TO_ASCII
from ..themes import theme_rgb

from ...learning import METHOD_NAMES, Knobs
from ...learning.analysis import log10_errors
from ...learning.view import MethodRun, compare, compare_verdict


def compare_text(knobs: Knobs, runs: tuple[MethodRun, MethodRun]) -> Text:
    t = Text()
    t.append("From weight ", style="dim")
    t.append(f"{knobs.weight!r}, input {knobs.input!r}, goal {knobs.goal!r}\n", style="dim")
    for run in runs:
        t.append(f"{METHOD_NAMES[run.method]:<17}", style="bold")
        knob = f"step {knobs.step_amount!r}" if run.method == "hot-cold" else f"alpha {knobs.alpha!r}"
        t.append(f"{knob:<14}")
        if run.converged_at is not None:
            t.append(f"converged at iteration {run.converged_at}", style="bold")
        else:
            t.append(f"{run.status.text} after {run.iterations} iterations")
        t.append("\n")
    t.append("\n" + compare_verdict(knobs, *runs), style="italic")
    return t


ASCII_MARKERS = ("*", ".")
"""plotext markers for hot and cold and gradient descent in ASCII mode: unlike each other even without colour."""


class ComparePlot(PlotextPlot):
    """Both runs' error per iteration; in ASCII mode plotext's box-drawing frame becomes - | +."""

    def __init__(self, ascii: bool = False) -> None:
        super().__init__()
        self.ascii = ascii

    def render(self) -> RenderResult:
        text = super().render()
        if self.ascii and isinstance(text, Text):
            text.plain = text.plain.translate(BOX_TO_ASCII)  # one character for one: the colours stay put
        return text


class TitledBox(Vertical):
    """A box whose border title is the longest of its `titles` that fits: Textual cuts a long one with '…',
    which an ASCII terminal cannot show."""

    def __init__(self, *titles: str) -> None:
        super().__init__()
        self.titles = titles
        self.border_title = titles[0]

    def on_resize(self, event: events.Resize) -> None:
        room = self.outer_size.width - 4  # the corners and a space each side
        self.border_title = next((t for t in self.titles if len(t) <= room), self.titles[-1])


COMPARE_LIMIT = 200_000
"""Each method gets at most this many iterations (hot and cold with a tiny step can need millions)."""


class CompareScreen(ModalScreen[None]):
    """Both methods from the knobs now; Escape or c closes it."""

    DEFAULT_CSS = """
    CompareScreen { align: center middle; }
    CompareScreen > TitledBox { width: 90%; height: 80%; border: round $accent; background: $surface; padding: 0 1; }
    CompareScreen #compare-text { height: auto; }
    CompareScreen PlotextPlot { height: 1fr; }
    """
    BINDINGS = [
        Binding("escape,c,q", "dismiss", "Close"),
        # A modal screen cuts the App's bindings off, so the App's `s` does not reach here by itself.
        Binding("s", "app.screenshot", "Screenshot", show=False),
    ]

    def __init__(self, knobs: Knobs, tolerance: float) -> None:
        super().__init__()
        self.knobs = knobs
        self.runs = compare(knobs, tolerance, COMPARE_LIMIT)

    def compose(self) -> ComposeResult:
        with TitledBox("Compare: hot and cold vs gradient descent (Esc closes)", "Compare the methods (Esc closes)",
                       "Compare (Esc)"):
            yield Static(compare_text(self.knobs, self.runs), id="compare-text")
            yield ComparePlot(ascii=getattr(self.app, "ascii", False))

    def on_mount(self) -> None:
        plot = self.query_one(ComparePlot)
        plt = plot.plt
        colours = [theme_rgb(self.app, name) for name in ("knob-trail", "knob-curve")]
        markers = ASCII_MARKERS if plot.ascii else ("braille", "braille")
        for run, colour, marker in zip(self.runs, colours, markers):
            xs, ys = log10_errors(*run.series)
            if xs:
                plt.plot(xs, ys, marker=marker, color=colour, label=METHOD_NAMES[run.method])
        plt.xlabel("iteration")
        plt.ylabel("log10 error")
