"""One line: method, iteration, status, and whether alpha is safe (alpha*input^2 and its rule)."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import var
from textual.widget import Widget

from ...learning import METHOD_NAMES
from ...learning.view import View
from ..glyphs import glyphs
from .lines import LineMixin

STATUS_STYLES = {
    "ready": "", "learning": "bold", "converged": "bold", "oscillating": "bold",
    "diverging": "bold", "stuck": "bold", "overflow": "bold reverse",
}


def status_text(view: View, playing: str = "", sep: str = "·", link: str = "") -> Text:
    st = view.stability
    t = Text(no_wrap=True, overflow="ellipsis" if sep == "·" else "crop")
    t.append(f"{METHOD_NAMES[view.method]} ", style="bold")
    t.append(f"{sep} iteration {view.iteration} {sep} ")
    t.append(view.status.text, style=STATUS_STYLES.get(view.status.kind, ""))
    if link:
        t.append(f" {sep} ")
        t.append(link, style="bold")
    if playing:
        t.append(f" {sep} {playing}")
    if view.method == "gradient":
        rule = "< 2 converges" if st.converges else "not in (0, 2): no convergence"
        t.append(f" {sep} alpha*input^2 = {st.product:.6g} ({rule})")
        if st.one_step_alpha is not None:
            t.append(f" {sep} one-step alpha 1/input^2 = {st.one_step_alpha:.6g}")
    else:
        t.append(f" {sep} step {view.knobs.step_amount!r}")
    if view.predicted is not None and view.status.kind not in ("converged", "overflow"):
        t.append(f" {sep} ~{view.predicted} more to {view.tolerance:g}")
    return t


class StatusBar(LineMixin, Widget):
    """Where learning stands, in one line."""

    DEFAULT_CSS = """
    StatusBar { height: 1; background: $panel; color: $text; padding: 0 1; }
    StatusBar.-converged { background: $success 40%; }
    StatusBar.-diverging, StatusBar.-overflow { background: $error 40%; }
    StatusBar.-oscillating, StatusBar.-stuck { background: $warning 40%; }
    """

    view: var[View | None] = var(None)
    """The session view."""
    playing: var[str] = var("")
    """'playing at N/s' while autoplay runs."""
    ascii: var[bool] = var(False)
    """Draw with plain ASCII."""
    link: var[str] = var("")
    """Presenter mode: presenting to N / following / playing alone."""

    def make_renderable(self) -> Text | None:
        if self.view is None:
            return None
        return status_text(self.view, self.playing, glyphs(self.ascii).sep, self.link)

    def watch_link(self) -> None:
        self.redraw()

    def watch_view(self, view: View | None) -> None:
        kind = view.status.kind if view else ""
        for k in ("converged", "diverging", "overflow", "oscillating", "stuck"):
            self.set_class(k == kind, f"-{k}")
        self.redraw()

    def watch_playing(self) -> None:
        self.redraw()
