"""The error curve (plotext): the parabola, the weight now, its trail, the tangent, the ghost of the next step and the goal.

A second view shows the error per iteration on a log scale. The plotext build is cached: it is redone
only when the view, the size, the mode or the theme changed.
"""

from __future__ import annotations

import math

from rich.text import Text
from textual.color import Color
from textual.reactive import var
from textual_plotext import PlotextPlot

from .. import plotting  # noqa: F401  (deterministic plotext)

from ...learning.analysis import curve, error_at, fit_range, log10_errors, tangent, too_large_to_draw
from ...learning.view import View
from ..glyphs import BOX_TO_ASCII, glyphs
from .lines import LineMixin

class ErrorPlot(LineMixin, PlotextPlot, can_focus=False):
    """error(weight) with where the weight is, was and will be; or error per iteration (log scale).

    The plot is rebuilt just after the cheap widgets have been drawn (so a step's first bytes do not
    wait for plotext), only when something it shows changed, and only its changed lines are repainted.
    Its weight range stays put while the points fit, so a step redraws markers, not the whole curve.
    """

    DEFAULT_CSS = """
    ErrorPlot { border: round $primary; min-height: 7; }
    """

    view: var[View | None] = var(None, always_update=True)
    """The session view to plot."""
    per_iteration: var[bool] = var(False)
    """Show error per iteration (log scale) instead of the curve."""
    ascii: var[bool] = var(False)
    """Plain ASCII markers only."""

    def __init__(self, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(**kwargs)
        self._key: tuple | None = None
        self._version = 0
        self._range: tuple[float, float] | None = None
        self._pending = False

    def on_mount(self) -> None:
        super().on_mount()
        self.border_title = "Error curve"

    def watch_view(self) -> None:
        self._changed()

    def watch_per_iteration(self) -> None:
        self._changed()

    def watch_ascii(self) -> None:
        self._changed()

    def _changed(self) -> None:
        self._version += 1
        if not self._pending and self.is_mounted:
            self._pending = True
            self.call_after_refresh(self._rebuild)

    def _rebuild(self) -> None:
        self._pending = False
        self.redraw()

    def invalidate(self) -> None:
        super().invalidate()
        self._key = None

    def make_renderable(self) -> Text | None:
        key = (self.size, self._version, self.app.theme, self.ascii)
        if key == self._key:
            return None
        self._key = key
        self._draw()
        try:
            return self._build()
        except Exception as exc:  # plotext on pathological numbers: say so, never crash
            return Text(f"(cannot draw this: {exc})")

    def _rgb(self, name: str) -> tuple[int, int, int]:
        value = self.app.theme_variables.get(name, "white")
        try:
            return Color.parse(value).rgb
        except Exception:  # a theme with an unparsable value: stay readable
            return (200, 200, 200)

    def _weight_range(self, view: View) -> tuple[float, float]:
        """The range to draw: kept while the points fit and fill a quarter of it, else fitted anew."""
        points = [*view.trail[-12:], *([view.goal_weight] if view.goal_weight is not None else []),
                  *([view.next.new_weight] if view.next is not None else [])]
        lo, hi = fit_range(points)
        if self._range is not None:
            clo, chi = self._range
            if clo <= lo and hi <= chi and (hi - lo) >= 0.25 * (chi - clo):
                return self._range
        self._range = (lo, hi)
        return lo, hi

    def _build(self) -> Text:
        """plotext's picture as Text; in ASCII mode its box-drawing frame becomes - | +."""
        plot = self.plt
        plot.plotsize(self.size.width, self.size.height)
        plot._set_size(self.size.width, self.size.height)
        plot.theme(self._get_plotext_theme_name(self.app.theme))
        ansi = plot.build()
        if self.ascii:
            ansi = ansi.translate(BOX_TO_ASCII)
        return Text.from_ansi(ansi, no_wrap=True, overflow="crop")

    def _title(self, title: str) -> None:
        if self.border_title != title:  # setting a border title repaints the whole widget, even unchanged
            self.border_title = title

    def _draw(self) -> None:
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        view = self.view
        if view is None:
            return
        g = glyphs(self.ascii)
        marker, big, ring = g.curve, g.current, g.ghost
        lo, hi = self._weight_range(view)
        if (self.per_iteration and view.iteration) or too_large_to_draw(view.knobs, lo, hi, view.error):
            self._title("Error per iteration (log10)" + ("" if self.per_iteration else ": diverged past the curve\'s scale"))
            self._draw_series(view, marker, big)
            return
        self._title("Error curve: error(weight)")
        ws, es = curve(view.knobs, lo, hi, max(41, min(161, 2 * self.size.width)))
        if not ws:
            return
        plt.plot(ws, es, marker=marker, color=self._rgb("knob-curve"))
        trail = view.trail[:-1]
        if trail:
            plt.scatter(list(trail), [error_at(view.knobs, w) for w in trail], marker=g.trail,
                        color=self._rgb("knob-trail"))
        w = view.knobs.weight
        e = view.error
        ymax = max(es)
        line = tangent(view.knobs, w, (hi - lo) * 0.12, ymax)
        if line is not None:
            plt.plot(*line, marker=marker, color=self._rgb("knob-tangent"))
        if view.goal_weight is not None and lo <= view.goal_weight <= hi:
            plt.vline(view.goal_weight, color=self._rgb("knob-goal"))
        if view.next is not None and view.next.new_weight != w:
            nw = view.next.new_weight
            plt.scatter([nw], [error_at(view.knobs, nw)], marker=ring, color=self._rgb("knob-ghost"))
        plt.scatter([w], [e], marker=big, color=self._rgb("knob-current"))
        plt.xlim(lo, hi)
        ymin = min(es)
        if ymax > ymin:
            plt.ylim(ymin - 0.02 * (ymax - ymin), ymax + 0.02 * (ymax - ymin))
        self._ticks(lo, hi, ymin, ymax)
        plt.xlabel("weight")

    def _ticks(self, x0: float, x1: float, y0: float, y1: float) -> None:
        """Short tick labels (3-4 significant digits), so a huge curve does not eat the plot's width."""
        plt = self.plt
        rows = max(2, min(5, (self.size.height - 4) // 2))
        cols = max(2, min(5, self.size.width // 14))
        if 0 <= y0 < 0.05 * y1:
            y0 = 0.0  # the bottom of the bowl: label it 0
        if y1 > y0:
            ys = [y0 + (y1 - y0) * i / (rows - 1) for i in range(rows)]
            plt.yticks(ys, [f"{y:.3g}" for y in ys])
        xs = [x0 + (x1 - x0) * i / (cols - 1) for i in range(cols)]
        plt.xticks(xs, [f"{x:.4g}" for x in xs])

    def _draw_series(self, view: View, marker: str, big: str) -> None:
        plt = self.plt
        xs, ys = log10_errors(*view.series)
        if not xs:
            plt.title("no iterations yet (or error exactly 0)")
            return
        plt.plot(xs, ys, marker=marker, color=self._rgb("knob-curve"))
        plt.scatter([xs[-1]], [ys[-1]], marker=big, color=self._rgb("knob-current"))
        if view.tolerance > 0:
            plt.hline(math.log10(view.tolerance), color=self._rgb("knob-goal"))
        plt.xlabel("iteration")
