"""One line: method, iteration, status, and whether alpha is safe (alpha*input**2 and its rule)."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import var
from textual.widget import Widget

from ...learning import METHOD_NAMES
from ...learning.view import View
from ..glyphs import glyphs
from ..numbers import fit
from .lines import LineMixin

STATUS_STYLES = {
    "ready": "", "learning": "bold", "converged": "bold", "oscillating": "bold",
    "diverging": "bold", "stuck": "bold", "overflow": "bold reverse",
}


def status_parts(view: View, playing: str = "", link: str = "", extra: tuple[tuple[str, int], ...] = ()
                 ) -> list[tuple[str, str, int]]:
    """(text, style, priority) of each part of the status line, in the order shown; lower priority
    numbers are kept longest. `extra` adds parts the app knows (speed, theme)."""
    st = view.stability
    status = view.status
    parts: list[tuple[str, str, int]] = [
        (METHOD_NAMES[view.method], "bold", 1),
        (view.method, SHORT, 1),
        (f"iteration {view.iteration}", "", 0),
        (status.text, STATUS_STYLES.get(status.kind, ""), 0),
    ]
    if link:
        parts.append((link, "bold", 0))
    if playing:
        parts.append((playing, "", 1))
    if view.method == "gradient":
        rule = "< 2: converges" if st.converges else "not between 0 and 2: no convergence"
        parts.append((f"alpha*input**2 = {st.product:.6g} ({rule})", "", 2))
        parts.append((f"alpha*input**2 = {st.product:.4g}", SHORT, 2))  # the same, when room is short
        if st.one_step_alpha is not None:
            parts.append((f"one-step alpha 1/input**2 = {st.one_step_alpha:.6g}", "", 6))
    else:
        parts.append((f"step_amount {fit(view.knobs.step_amount, 12)}", "", 3))
    if view.predicted is not None and status.kind not in ("converged", "overflow"):
        parts.append((f"~{view.predicted} more to {view.tolerance:g}", "", 6))
    parts.extend((text, "", priority) for text, priority in extra)
    return parts


SHORT = "short"
"""Marks a part that stands in for the one before it when the line is short."""


def brief(view: View) -> str:
    """The status in a few words, for a line too short for its sentence."""
    st = view.status
    if st.kind == "overflow":
        return f"overflow at iteration {st.iteration}"
    return st.text.split(";")[0].split(":")[0] if st.kind in ("oscillating", "stuck") else st.text


NOTE_STYLES = {"information": "bold", "warning": "bold reverse", "error": "bold reverse"}


def status_text(view: View, playing: str = "", sep: str = "·", link: str = "", width: int = 10_000,
                extra: tuple[tuple[str, int], ...] = (), note: tuple[str, str] = ("", "")) -> Text:
    """The status line for `width` columns: a message first, then whole parts dropped by priority,
    never half a number."""
    every = status_parts(view, playing, link, extra)
    if note[0]:
        every.insert(0, (note[0], NOTE_STYLES.get(note[1], "bold"), -1))
    parts = [p for n, p in enumerate(every) if p[1] != SHORT]
    shorter = {every[n - 1][0]: p for n, p in enumerate(every) if p[1] == SHORT}
    joiner = f" {sep} "

    def length(ps: list[tuple[str, str, int]]) -> int:
        return sum(len(p[0]) for p in ps) + len(joiner) * (len(ps) - 1)

    while length(parts) > width and len(parts) > 1:
        worst = max(range(len(parts)), key=lambda n: (parts[n][2], n))
        if parts[worst][2] <= 0:
            break
        if parts[worst][0] in shorter:  # its shorter form before it goes
            short = shorter.pop(parts[worst][0])
            parts[worst] = (short[0], parts[worst][1], short[2])
            continue
        parts.pop(worst)
    if length(parts) > width:  # only the essentials left and still too long: the status in brief
        parts = [(brief(view), p[1], p[2]) if p[0] == view.status.text else p for p in parts]
    if note[0] and length(parts) > width:  # the message gives way, at a word, never inside a number
        room = width - (length(parts) - len(parts[0][0])) - 1
        words = parts[0][0][:max(0, room)].rsplit(" ", 1)[0] if room > 8 else ""
        parts = ([(words + "…", parts[0][1], -1)] if words else []) + parts[1:]
    t = Text(no_wrap=True, overflow="ellipsis" if sep == "·" else "crop")
    for n, (text, style, _) in enumerate(parts):
        if n:
            t.append(joiner)
        t.append(text, style=style)
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
    note: var[tuple[str, str]] = var(("", ""))
    """A message and its severity, shown first."""
    extra: var[tuple[tuple[str, int], ...]] = var(())
    """Parts the app adds, with their priority: the autoplay speed, the theme."""

    def make_renderable(self) -> Text | None:
        if self.view is None:
            return None
        return status_text(self.view, self.playing, glyphs(self.ascii).sep, self.link,
                           max(10, self.size.width), self.extra, self.note)

    def watch_note(self) -> None:
        self.redraw()

    def watch_extra(self) -> None:
        self.redraw()

    def watch_link(self) -> None:
        self.redraw()

    def watch_view(self, view: View | None) -> None:
        kind = view.status.kind if view else ""
        for k in ("converged", "diverging", "overflow", "oscillating", "stuck"):
            self.set_class(k == kind, f"-{k}")
        self.redraw()

    def watch_playing(self) -> None:
        self.redraw()
