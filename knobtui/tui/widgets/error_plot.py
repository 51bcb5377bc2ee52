"""The error curve (plotext): the whole bowl, the weight now, its trail, the tangent, the next weight and the goal.

Its first row is a legend that names every mark (and the slope); the axes are titled `error` and
`weight`. A second view shows the error per iteration on a log scale. The plotext build is cached: it
is redone only when the view, the size, the mode or the theme changed.
"""

from __future__ import annotations

import math
import time

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.reactive import var
from textual.strip import Strip
from textual.timer import Timer
from textual_plotext import Plot, PlotextPlot

from ..plotting import Run, fix_size, picture, theme_for  # (importing it makes plotext deterministic)

from ...learning.analysis import (bowl_range, curve, error_at, log10_errors, nice_ticks, tangent, tick_label,
                                  too_large_to_draw)
from ...learning.view import View
from ..glyphs import BOX_TO_ASCII, Glyphs, glyphs
from ..numbers import fit
from ..themes import theme_rgb
from .lines import LineMixin

BOLD = Style(bold=True)
TRAIL_POINTS = 12
"""The range holds the last this-many trail weights; older ones may leave it."""
X_TITLE_ROOM = 8
"""Columns kept free at the right of the tick labels for the x axis title."""
PLAYING_GAP = 1 / 15
"""While autoplay runs, the curve is redrawn at most this often (seconds); the numbers, the log and the
status line keep autoplay's 30 frames a second. Measured (docs/benchmarks.md): plotext's build is most of
a frame, and at 120 iterations a second the simulator took half a core; a pause draws the last state at once."""


class ErrorPlot(LineMixin, PlotextPlot, can_focus=False):
    """error(weight) with where the weight is, was and will be; or error per iteration (log scale).

    The plot is rebuilt just after the cheap widgets have been drawn (so a step's first bytes do not
    wait for plotext), only when something it shows changed, and only its changed lines are repainted.
    Its weight range is centred on the goal weight and stays put while the points fit, so a step
    redraws markers, not the whole curve.
    """

    DEFAULT_CSS = """
    ErrorPlot { min-height: 6; }
    """

    view: var[View | None] = var(None, always_update=True)
    """The session view to plot."""
    per_iteration: var[bool] = var(False)
    """Show error per iteration (log scale) instead of the curve."""
    ascii: var[bool] = var(False)
    """Plain ASCII markers only."""
    playing: var[str] = var("")
    """Autoplay is running (the stage's `playing`): the curve is redrawn at most every PLAYING_GAP."""
    at_once: var[bool] = var(False)
    """Draw the curve in the same frame as the cheap widgets, not a frame after them (the stage's
    `curve_at_once`: a shared view's renderer, whose server then sends one diff a state, not two)."""

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id)
        self._key: tuple[object, ...] | None = None
        self._version = 0
        self._range: tuple[float, float] | None = None
        self._pending = False
        self._later: Timer | None = None
        self._last_build = 0.0
        self._legend = Text()

    def on_mount(self) -> None:
        super().on_mount()
        self.border_title = "Error curve"

    def watch_view(self) -> None:
        self._changed()

    def watch_per_iteration(self) -> None:
        self._changed()

    def watch_ascii(self) -> None:
        self._changed()

    def watch_playing(self, playing: str) -> None:
        if not playing and self._later is not None:  # paused: the last state now
            self._later.stop()
            self._later = None
            self._changed()

    @property
    def drawn(self) -> bool:
        """The curve on the screen is of the newest view (no redraw is due)."""
        return not self._pending and self._later is None and self._key is not None and self._key[1] == self._version

    def _changed(self) -> None:
        self._version += 1
        if self._pending or self._later is not None or not self.is_mounted:
            return
        wait = self._last_build + PLAYING_GAP - time.monotonic() if self.playing else 0.0
        if wait > 0:
            self._later = self.set_timer(wait, self._schedule)
        else:
            self._schedule()

    def _schedule(self) -> None:
        """Rebuild just after the cheap widgets are drawn (so a step's first bytes do not wait for plotext), or at
        once (`at_once`)."""
        self._later = None
        if self.at_once:
            self._rebuild()
            return
        self._pending = True
        self.call_after_refresh(self._rebuild)

    def _rebuild(self) -> None:
        self._pending = False
        self._last_build = time.monotonic()
        self.redraw()

    def invalidate(self) -> None:
        super().invalidate()
        self._key = None

    def make_lines(self) -> list[Strip] | None:
        key = (self.size, self._version, self.app.theme, self.ascii)
        if key == self._key:
            return None
        self._key = key
        try:
            return self._build()
        except Exception as exc:  # plotext on pathological numbers: say so, never crash
            return self.render_renderable(Text(f"(cannot draw this: {exc})"))

    def _rgb(self, name: str) -> tuple[int, int, int]:
        return theme_rgb(self.app, name)

    def _style(self, name: str) -> str:
        r, g, b = self._rgb(name)
        return f"bold rgb({r},{g},{b})"

    def figure(self) -> Plot:
        """plotext's figure with the view drawn in it at the widget's size (the legend row kept) and colours,
        not yet built."""
        self._draw()
        plot = self.plt
        width, height = self.size.width, max(1, self.size.height - 1)
        plot.plotsize(width, height)
        fix_size(plot, width, height)
        plot.theme(theme_for(self, self.app.theme))
        return plot

    def _build(self) -> list[Strip]:
        """The legend row, then plotext's picture (in ASCII mode its box-drawing frame becomes - | +), every row
        in the legend's own style under the picture's (as one Rich Text of them all would draw)."""
        width = self.size.width
        rows = picture(self.figure(), BOX_TO_ASCII if self.ascii else None)
        if rows and self._x_title:
            rows[-1] = self._with_x_title(rows[-1], width)
        base = self.rich_style
        under = self.app.console.get_style(self._legend.style, default=Style.null())
        lines = self.render_renderable(self._legend)[:1]
        for runs in rows:
            segments = [Segment(text, base + (under + style if style is not None else under)) for text, style in runs]
            lines.append(Strip(segments).crop_extend(0, width, base))
        return lines

    def _with_x_title(self, runs: list[Run], width: int) -> list[Run]:
        """The axis row with the x axis title at its right end, where the tick labels left it room."""
        plain = "".join(text for text, _ in runs)
        room = len(self._x_title) + 1
        if len(plain) < width or plain[width - room:width].strip():
            return runs
        kept: list[Run] = []
        left = width - room
        for text, style in runs:
            if left <= 0:
                break
            kept.append((text[:left], style))
            left -= len(text[:left])
        kept.append((" " + self._x_title, BOLD))
        return kept

    def _draw(self) -> None:
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        plt.xaxes(True, False)  # no frame above and right: every row goes to the curve
        plt.yaxes(True, False)
        self._legend = Text()
        self._x_title = ""
        view = self.view
        if view is None:
            return
        g = glyphs(self.ascii)
        centre = view.goal_weight
        nw = view.next_weight
        points = [view.start_weight, *view.trail[-TRAIL_POINTS:], *([nw] if isinstance(nw, float) else [])]
        self._range = lo, hi = bowl_range(centre, points, self._range)
        if (self.per_iteration and view.iteration) or too_large_to_draw(view.knobs, lo, hi, view.error):
            self._draw_series(view, g)
            return
        ws, es = curve(view.knobs, lo, hi, max(41, min(161, 2 * self.size.width)))
        if not ws:
            return
        plt.plot(ws, es, marker=g.curve, color=self._rgb("knob-curve"))
        trail = view.trail[:-1]
        if trail:
            plt.scatter(list(trail), [error_at(view.knobs, w) for w in trail], marker=g.trail,
                        color=self._rgb("knob-trail"))
        w = view.knobs.weight
        ymax = max(es)
        top = ymax * 1.04 if ymax > 0 else 1.0
        line = tangent(view.knobs, w, (hi - lo) * 0.12, top)
        if line is not None:
            plt.plot(*line, marker=g.tangent, color=self._rgb("knob-tangent"))
        if centre is not None and lo <= centre <= hi:
            plt.vline(centre, color=self._rgb("knob-goal"))
        ghost = isinstance(nw, float) and nw != w  # HIDDEN: kept back while a question asks where it goes
        if isinstance(nw, float) and ghost:
            plt.scatter([nw], [error_at(view.knobs, nw)], marker=g.ghost, color=self._rgb("knob-ghost"))
        plt.scatter([w], [view.error], marker=g.current, color=self._rgb("knob-current"))
        plt.xlim(lo, hi)
        plt.ylim(0, top)
        self._ticks(lo, hi, 0.0, top)
        self._x_title = "weight"
        self._legend = self._curve_legend(view, g, ghost, line is not None, centre)

    def _ticks(self, x0: float, x1: float, y0: float, y1: float) -> None:
        """Round tick values, labelled with just the digits they need; room kept for the x axis title."""
        plt = self.plt
        rows = max(2, min(6, (self.size.height - 3) // 2))
        ys = nice_ticks(y0, y1, rows)
        ystep = ys[1] - ys[0] if len(ys) > 1 else max(y1 - y0, 1e-300)
        ylabels = [tick_label(y, ystep) for y in ys]
        if ys:
            plt.yticks(ys, ylabels)
        label_width = max((len(t) for t in ylabels), default=1) + 1
        cols = self.size.width - label_width
        xs = nice_ticks(x0, x1, max(2, min(8, cols // 8)))
        xstep = xs[1] - xs[0] if len(xs) > 1 else max(x1 - x0, 1e-300)
        kept, labels = [], []
        for x in xs:
            label = tick_label(x, xstep)
            at = label_width + (x - x0) / (x1 - x0) * (cols - 1)
            if at + len(label) / 2 + 1 <= self.size.width - X_TITLE_ROOM:
                kept.append(x)
                labels.append(label)
        plt.xticks(kept, labels)

    def _curve_legend(self, view: View, g: Glyphs, ghost: bool, has_tangent: bool, centre: float | None) -> Text:
        """One row naming each mark, in its colour; long names first, short ones or fewer marks when narrow."""
        slope = fit(view.slope, 9)
        items = [  # (long, short, colour variable), in the order shown; the last are dropped first
            (f"{g.current} weight now", f"{g.current} now", "knob-current"),
            (f"{g.tangent} tangent, slope {slope}", f"{g.tangent} slope {fit(view.slope, 7)}", "knob-tangent")
            if has_tangent else None,
            (f"{g.goal} goal weight {fit(centre, 9)}", f"{g.goal} goal {fit(centre, 9)}", "knob-goal")
            if centre is not None else None,
            (f"{g.ghost} next weight", f"{g.ghost} next", "knob-ghost") if ghost else None,
            (f"{g.trail} trail", f"{g.trail} trail", "knob-trail") if len(view.trail) > 1 else None,
        ]
        return self._fit_legend("error", [i for i in items if i is not None])

    def _fit_legend(self, title: str, items: list[tuple[str, str, str]]) -> Text:
        """Every item in its long form if they fit, else in short forms closer together, else fewer."""
        width = self.size.width
        for form, gap in ((0, 2), (1, 2), (1, 1)):
            kept = list(items)
            while kept and len(title) + sum(len(i[form]) + gap for i in kept) > width:
                kept.pop()
            if len(kept) == len(items):
                break
        legend = Text(title, style="bold", no_wrap=True, overflow="crop")
        for item in kept:
            legend.append(" " * gap)
            mark, _, name = item[form].partition(" ")
            legend.append(mark, style=self._style(item[2]))
            legend.append(" " + name)
        return legend

    def _draw_series(self, view: View, g: Glyphs) -> None:
        plt = self.plt
        xs, ys = log10_errors(*view.series)
        self._x_title = "iteration"
        if not xs:
            self._legend = Text("no iterations yet (or an error of exactly 0)")
            return
        plt.plot(xs, ys, marker=g.curve, color=self._rgb("knob-curve"))
        plt.scatter([xs[-1]], [ys[-1]], marker=g.current, color=self._rgb("knob-current"))
        items = [(f"{g.current} iteration {view.iteration}", f"{g.current} now", "knob-current")]
        if view.tolerance > 0:
            plt.hline(math.log10(view.tolerance), color=self._rgb("knob-goal"))
            rule = "-" if self.ascii else "─"
            items.append((f"{rule} tolerance {view.tolerance:g}", f"{rule} tolerance", "knob-goal"))
        why = "log10 error per iteration" if self.per_iteration else "log10 error (diverged past the curve's scale)"
        self._legend = self._fit_legend(why, items)
        lo, hi = min(xs), max(xs)
        xt = nice_ticks(lo, hi, max(2, min(6, self.size.width // 12))) if hi > lo else [lo]
        plt.xticks(xt, [str(int(x)) if float(x).is_integer() else f"{x:g}" for x in xt])
