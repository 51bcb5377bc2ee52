"""Widgets that draw a list of lines and repaint only the lines that changed.

Textual repaints a whole widget when it refreshes; a step changes a few lines of the curve, a few
numbers of the arithmetic and one knob, so repainting only changed lines is most of what keeps a step
small on the wire (see docs/benchmarks.md).
"""

from __future__ import annotations

from rich.console import RenderableType
from rich.style import Style
from textual.geometry import Region, Size
from textual.strip import Strip
from textual.widget import Widget


class PassStyle:
    """The widget's base style worked out once a render pass, not once a line: Textual's `rich_style` walks
    every ancestor (about 25 µs a call), and a pass of a tall log or curve asks for it on every row."""

    _pass_style: Style | None = None

    def render_lines(self, crop: Region) -> list[Strip]:
        widget: Widget = self  # type: ignore[assignment]  # a mixin for Widget subclasses only
        self._pass_style = widget.rich_style
        try:
            return super().render_lines(crop)  # type: ignore[misc, no-any-return]  # Widget's, next in the MRO
        finally:
            self._pass_style = None

    @property
    def base_style(self) -> Style:
        """`rich_style`, as worked out for this pass when inside one."""
        if self._pass_style is not None:
            return self._pass_style
        widget: Widget = self  # type: ignore[assignment]
        return widget.rich_style


class LineMixin(PassStyle):
    """Keeps `_lines` (one Strip per row) and refreshes only the rows that differ from last time."""

    _lines: list[Strip]

    def show_lines(self, lines: list[Strip]) -> None:
        widget: Widget = self  # type: ignore[assignment]  # a mixin for Widget subclasses only
        old = getattr(self, "_lines", None)
        self._lines = lines
        if old is None or len(old) != len(lines):
            widget.refresh(layout=True)
            # A height change found while a layout is being done (in on_resize) is not laid out by
            # that pass: ask again once it is over.
            widget.call_after_refresh(widget.refresh, layout=True)
            return
        width = max(widget.size.width, 1)
        y = 0
        while y < len(lines):
            if lines[y] == old[y]:
                y += 1
                continue
            start = y
            while y < len(lines) and lines[y] != old[y]:
                y += 1
            widget.refresh(Region(0, start, width, y - start))

    def render_renderable(self, renderable: RenderableType, width: int | None = None) -> list[Strip]:
        """A Rich renderable as lines of the widget's width, in its base style."""
        widget: Widget = self  # type: ignore[assignment]  # a mixin for Widget subclasses only
        width = width or max(widget.size.width, 1)
        console = widget.app.console
        options = console.options.update(width=width, height=None, highlight=False)
        style = widget.rich_style
        rendered = console.render_lines(renderable, options, style=style, pad=True)
        return [Strip(line, width) for line in rendered]

    def make_renderable(self) -> RenderableType | None:
        """What to draw now (None: nothing yet)."""
        return None

    def make_lines(self) -> list[Strip] | None:
        """What to draw now as lines of the widget's width (None: nothing new): `make_renderable()`, rendered."""
        renderable = self.make_renderable()
        return None if renderable is None else self.render_renderable(renderable)

    def redraw(self) -> None:
        """Draw `make_lines()` at the current width and repaint the lines that changed."""
        widget: Widget = self  # type: ignore[assignment]  # a mixin for Widget subclasses only
        if not widget.is_mounted or widget.size.width <= 0:
            return
        lines = self.make_lines()
        if lines is not None:
            self.show_lines(lines)

    def invalidate(self) -> None:
        """Forget what was drawn (a new size or new colours): the next redraw repaints every line."""
        self._lines = []

    def on_resize(self) -> None:
        # Textual calls every on_resize along the class chain: subclasses extend invalidate() instead.
        self.invalidate()
        self.redraw()

    def notify_style_update(self) -> None:
        super().notify_style_update()  # type: ignore[misc]  # Widget's, next in the MRO of the widgets using it
        self.invalidate()  # colours changed (a theme): every line is new
        self.redraw()

    def render_line(self, y: int) -> Strip:
        widget: Widget = self  # type: ignore[assignment]  # a mixin for Widget subclasses only
        lines = getattr(self, "_lines", [])
        width = widget.size.width
        if y < len(lines):
            return lines[y].crop_extend(0, width, self.base_style)
        return Strip.blank(width, self.base_style)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(getattr(self, "_lines", [])) or 1
