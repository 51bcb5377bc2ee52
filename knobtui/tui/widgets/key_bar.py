"""The key bar: the keys a newcomer needs, as many as the width holds, the most needed kept longest."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import var
from textual.widget import Widget

from .lines import LineMixin


def key_bar_text(entries: list[tuple[str, str, int]], width: int, key_style: str = "reverse") -> Text:
    """`key word` pairs in order; whole pairs dropped by rank (highest first) until the line fits."""
    kept = list(entries)

    def length(es: list[tuple[str, str, int]], gap: int) -> int:
        return sum(len(k) + 1 + len(w) for k, w, _ in es) + gap * (len(es) - 1)

    gap = 2
    while kept and length(kept, gap) > width:
        if gap == 2:
            gap = 1
            continue
        worst = max(range(len(kept)), key=lambda n: (kept[n][2], n))
        kept.pop(worst)
    text = Text(no_wrap=True, overflow="crop")
    for n, (key, word, _) in enumerate(kept):
        if n:
            text.append(" " * gap)
        text.append(f"{key}", style=key_style)
        text.append(f" {word}")
    return text


class KeyBar(LineMixin, Widget):
    """One line of key hints, built from the key table (tui/keys.py)."""

    DEFAULT_CSS = """
    KeyBar { height: 1; background: $footer-background; color: $footer-foreground; padding: 0 1; }
    """
    COMPONENT_CLASSES = {"key-bar--key"}

    entries: var[tuple[tuple[str, str, int], ...]] = var(())
    """(key, word, rank) in the order shown."""

    def make_renderable(self) -> Text | None:
        style = self.get_component_rich_style("key-bar--key", partial=True)
        return key_bar_text(list(self.entries), max(1, self.size.width), style or "reverse")

    def watch_entries(self) -> None:
        self.redraw()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        # the key's component style is brought up to date after this call: draw again once it is
        self.call_after_refresh(self._restyle)

    def _restyle(self) -> None:
        self.invalidate()
        self.redraw()
