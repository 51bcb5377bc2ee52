"""One line: method, iteration, status, and whether alpha is safe (alpha*input**2 and its rule)."""

from __future__ import annotations

from collections.abc import Callable

from rich.text import Text
from textual.reactive import var
from textual.widget import Widget

from ...learning import METHOD_NAMES
from ...learning.narrator import stability_words
from ...learning.view import View
from ..glyphs import glyphs
from ..numbers import fit, keeps_apart, shorten_numbers
from .lines import LineMixin

STATUS_STYLES = {
    "ready": "", "learning": "bold", "converged": "bold", "oscillating": "bold",
    "diverging": "bold", "stuck": "bold", "overflow": "bold reverse",
}


def status_parts(view: View, playing: str = "", link: str = "", extra: tuple[tuple[str, int], ...] = (),
                 hidden: frozenset[str] = frozenset()) -> list[tuple[str, str, int]]:
    """(text, style, priority) of each part of the status line, in the order shown; lower priority
    numbers are kept longest. `extra` adds parts the app knows (speed, theme). Nothing is said of a
    knob a lesson hides (alpha*input**2 waits until alpha is shown)."""
    st = view.stability
    status = view.status
    parts: list[tuple[str, str, int]] = [
        (METHOD_NAMES[view.method], "bold", 1),
        (view.method, SHORT, 1),
        (f"iteration {view.iteration}", "", 0),
        (status.said("alpha" not in hidden), STATUS_STYLES.get(status.kind, ""), 0),
    ]
    if link:
        parts.append((link, "bold", 0))
    if playing:
        parts.append((playing, "", 1))
    if view.method == "gradient" and "alpha" not in hidden:
        long, short = stability_words(st)
        parts.append((long, "", 2))
        parts.append((short, SHORT, 2))  # the same, when room is short
        if st.one_step_alpha is not None:
            parts.append((f"one-step alpha 1/input**2 = {st.one_step_alpha:.6g}", "", 6))
    elif view.method == "hot-cold" and "step_amount" not in hidden:
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


NOTE_DIGITS = (None, 8, 6, 4, 3)
"""Significant digits tried in turn on a message's numbers before it stands alone on the line."""

NOTE_STYLES = {"information": "bold", "warning": "bold reverse", "error": "bold reverse"}


def _whole_claim(parts: list[tuple[str, str, int]], forms: tuple[str, str], width: int,
                 length: Callable[[list[tuple[str, str, int]]], int]) -> list[tuple[str, str, int]]:
    """The status line's parts with the claim in front (parts[0]) in the first of its forms, at the most
    digits, that fits beside the rest; else standing alone on the line (the status is back at the next key)."""
    style, rank = parts[0][1], parts[0][2]
    for alone in (False, True):
        rest = [] if alone else parts[1:]
        for form in forms:
            for digits in NOTE_DIGITS:
                tried = [(shorten_numbers(form, digits), style, rank), *rest]
                if length(tried) <= width and keeps_apart(form, digits):
                    return tried
    last = forms[-1]  # nothing fits: the fewest digits that still tell its numbers apart
    digits = next((d for d in reversed(NOTE_DIGITS) if keeps_apart(last, d)), None)
    return [(shorten_numbers(last, digits), style, rank)]


def status_text(view: View, playing: str = "", sep: str = "·", link: str = "", width: int = 10_000,
                extra: tuple[tuple[str, int], ...] = (), note: tuple[str, str] = ("", ""),
                hidden: frozenset[str] = frozenset(), note_brief: str = "") -> Text:
    """The status line for `width` columns: a message first, then whole parts dropped by priority,
    never half a number. A message with a brief form (`note_brief`) is a claim: it is never cut."""
    every = status_parts(view, playing, link, extra, hidden)
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
        said = view.status.said("alpha" not in hidden)
        parts = [(brief(view), p[1], p[2]) if p[0] == said else p for p in parts]
    if note[0] and note_brief and length(parts) > width:  # a claim: never cut (fewer words, shorter numbers, alone)
        parts = _whole_claim(parts, (note[0], note_brief), width, length)
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
    hidden: var[frozenset[str]] = var(frozenset())
    """Knobs a lesson hides: the line says nothing of them."""
    note_brief: var[str] = var("")
    """The message in fewer words, when it is a claim (never cut)."""
    extra: var[tuple[tuple[str, int], ...]] = var(())
    """Parts the app adds, with their priority: the autoplay speed, the theme."""

    def make_renderable(self) -> Text | None:
        if self.view is None:
            return None
        return status_text(self.view, self.playing, glyphs(self.ascii).sep, self.link,
                           max(10, self.size.width), self.extra, self.note, self.hidden, self.note_brief)

    def watch_note_brief(self) -> None:
        self.redraw()

    def watch_hidden(self) -> None:
        self.redraw()

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
