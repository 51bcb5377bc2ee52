"""The join screen (j, presenting): how the room comes in, for the projector.

The browser URL and the SSH command as `knobtui serve` printed them, the address again in figures three
rows tall, a QR code of the URL that a phone's camera reads, and how many follow now. The presenter's
simulator stays behind it: followers keep following, and j or Escape goes back.

The QR code is black on white whatever the theme: a camera needs dark modules on a light quiet zone, and
a theme's colours are not that. It is drawn as large as the screen allows: a module two cells wide and
a row tall (`██`), or, when that does not fit, two modules a cell, one above the other (half blocks);
either way square on a terminal's tall cells. In ASCII mode a module is `##` or two spaces, black or
white behind.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import segno
from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult, RenderResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.events import Resize
from textual.renderables.digits import DIGITS, DIGITS3X3_BOLD
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Static

from ...wire import JoinInfo
from ..stage import Stage

DARK = Style(color="#000000", bgcolor="#000000")  # an ASCII module: `##`, drawn solid
PAPER = Style(color="#000000", bgcolor="#ffffff")  # half blocks: black on white
BORDER = 2  # the quiet zone, in modules: the terminal around it is no quiet zone (often dark)
INFO_WIDTH = 34  # the narrowest the text beside the code may be before the code gives way

ASCII_FIGURES = {  # seven segments, in ASCII: three rows a character
    "0": (" _ ", "| |", "|_|"), "1": ("   ", "  |", "  |"), "2": (" _ ", " _|", "|_ "),
    "3": (" _ ", " _|", " _|"), "4": ("   ", "|_|", "  |"), "5": (" _ ", "|_ ", " _|"),
    "6": (" _ ", "|_ ", "|_|"), "7": (" _ ", "  |", "  |"), "8": (" _ ", "|_|", "|_|"),
    "9": (" _ ", "|_|", " _|"), ":": ("  ", ". ", ". "), ".": ("  ", "  ", ". "),
}


def _bold_figures() -> dict[str, tuple[str, str, str]]:
    """Textual's own three-row figures (its Digits widget's), and a point of our own (it has none)."""
    rows = list(DIGITS3X3_BOLD)
    out: dict[str, tuple[str, str, str]] = {}
    for n, ch in enumerate(DIGITS):
        glyph = [row.ljust(3) for row in rows[n * 3:n * 3 + 3]]
        if ch in "0123456789":
            out[ch] = (glyph[0], glyph[1], glyph[2])
    out[":"] = ("  ", "╏ ", "  ")
    out["."] = ("  ", "  ", "▪ ")
    return out


UNICODE_FIGURES = _bold_figures()


def big_text(text: str, ascii: bool = False) -> list[str] | None:
    """`text` three rows tall, or None when it has a character the figures lack (a host name's letters)."""
    figures = ASCII_FIGURES if ascii else UNICODE_FIGURES
    if not text or any(ch not in figures for ch in text):
        return None
    gap = " " if ascii else ""  # seven ASCII segments run into each other without a column between
    return [gap.join(figures[ch][row] for ch in text).rstrip() for row in range(3)]


class BigAddress(Widget):
    """The address three rows tall: host and port, or the host alone when that is all the width holds
    (nothing when not even that fits, or the host has letters)."""

    DEFAULT_CSS = "BigAddress { height: 3; }"

    def __init__(self, address: str, ascii: bool = False) -> None:
        super().__init__(id="join-big")
        self.choices = [rows for rows in (big_text(address, ascii), big_text(address.rsplit(":", 1)[0], ascii))
                        if rows is not None]

    def render(self) -> RenderResult:
        width = self.size.width
        rows = next((rows for rows in self.choices if max(len(r) for r in rows) <= width), None)
        return Text("\n".join(rows) if rows else "")


def address_of(info: JoinInfo) -> str:
    """The part of the first way in that people type: host:port of the URL, or the SSH command's host."""
    if info.urls:
        parts = urlsplit(info.urls[0])
        host = parts.hostname or ""
        return f"{host}:{parts.port}" if parts.port else host
    if info.ssh:
        return info.ssh[0].rsplit("@", 1)[-1]
    return ""


def qr_lines(text: str, ascii: bool = False, large: bool = False) -> list[Text]:
    """`text` as a QR code, one Text per terminal row, with its quiet zone: two modules a cell, one above
    the other (half blocks), or `large` (always in ASCII), a module two cells wide and a row tall."""
    code = segno.make(text, micro=False)
    matrix = [[bool(module) for module in row] for row in code.matrix_iter(scale=1, border=BORDER)]
    lines: list[Text] = []
    if ascii or large:
        dark_cells = "##" if ascii else "██"
        for row in matrix:
            line = Text(style=PAPER)
            for dark in row:
                line.append(dark_cells if dark else "  ", style=DARK if dark else None)
            lines.append(line)
        return lines
    if len(matrix) % 2:
        matrix.append([False] * len(matrix[0]))  # one more light row under the quiet zone
    for top, bottom in zip(matrix[::2], matrix[1::2]):
        cells = "".join(" ▄▀█"[up * 2 + down] for up, down in zip(top, bottom))
        lines.append(Text(cells, style=PAPER))
    return lines


class QrCode(Widget):
    """A QR code, as large as the room it is given allows (`fit`); hidden when even the smallest does not fit."""

    DEFAULT_CSS = "QrCode { width: auto; height: auto; }"

    def __init__(self, text: str, ascii: bool = False) -> None:
        super().__init__(id="join-qr")
        # Largest first. ASCII has no half blocks: its code is the large one only.
        self.sizes = [qr_lines(text, ascii, large=True)] + ([] if ascii else [qr_lines(text)])
        self.lines = self.sizes[-1]

    @staticmethod
    def cells_of(lines: list[Text]) -> tuple[int, int]:
        return lines[0].cell_len, len(lines)

    @property
    def cells(self) -> tuple[int, int]:
        """(columns, rows) it needs now."""
        return self.cells_of(self.lines)

    def fit(self, width: int, height: int) -> bool:
        """Take the largest size within `width` x `height`; False (and the smallest) if none fits."""
        for lines in self.sizes:
            cols, rows = self.cells_of(lines)
            if cols <= width and rows <= height:
                self.lines = lines
                self.refresh(layout=True)
                return True
        self.lines = self.sizes[-1]
        return False

    def get_content_width(self, container: object, viewport: object) -> int:
        return self.cells[0]

    def get_content_height(self, container: object, viewport: object, width: int) -> int:
        return self.cells[1]

    def render(self) -> RenderResult:
        return Text("\n").join(self.lines)


class JoinScreen(ModalScreen[None]):
    """How to come in, for the projector: j or Escape closes it. Modal, so the presenter's keys wait."""

    DEFAULT_CSS = """
    JoinScreen { align: center middle; background: $background; }
    JoinScreen > Horizontal { width: 100%; height: 100%; border: round $accent; background: $surface;
                              padding: 0 1; align: center middle; }
    App.-ascii JoinScreen > Horizontal { border: ascii $accent; }
    JoinScreen #join-qr { margin: 0 2 0 0; }
    JoinScreen > Horizontal > Vertical { width: 1fr; max-width: 64; height: auto; }
    JoinScreen Static { width: 100%; }
    JoinScreen #join-title { text-style: bold; color: $accent; }
    JoinScreen #join-big { color: $text; margin: 1 0; }
    JoinScreen .way { text-style: bold; }
    JoinScreen .detail { color: $text-muted; }
    JoinScreen #join-count { text-style: bold; margin: 1 0 0 0; }
    JoinScreen #join-keys { color: $text-muted; }
    """
    BINDINGS = [
        Binding("j,escape", "dismiss", "Close"),
        # A modal screen cuts the App's bindings off, so the App's `s` does not reach here by itself.
        Binding("s", "app.screenshot", "Screenshot", show=False),
    ]

    def __init__(self, info: JoinInfo) -> None:
        super().__init__()
        self.info = info

    def compose(self) -> ComposeResult:
        ascii = bool(getattr(self.app, "ascii", False))
        info = self.info
        with Horizontal():
            if info.urls:
                yield QrCode(info.urls[0], ascii)
            with Vertical():
                yield Static("Join the class", id="join-title")
                yield BigAddress(address_of(info), ascii)
                for url in info.urls[:2]:
                    yield Static(Text.assemble(("In a browser   ", "not bold"), url), classes="way")
                for command in info.ssh[:2]:
                    yield Static(Text.assemble(("In a terminal  ", "not bold"), command), classes="way")
                if info.fingerprint:
                    yield Static(Text(f"host key {info.fingerprint}"), classes="detail")
                if info.local:
                    yield Static("Only this machine can come in: start knobtui serve with --host 0.0.0.0.",
                                 classes="detail")
                yield Static("", id="join-count")
                yield Static("", id="join-room", classes="detail")
                yield Static("j or esc: back to the simulator", id="join-keys")

    def on_mount(self) -> None:
        self.watch(self.app, "stage", self._followers, init=True)

    def _followers(self, stage: Stage) -> None:
        """The count follows the app's stage as people come and go."""
        n = stage.followers
        self.query_one("#join-count", Static).update(f"{n} following" if n != 1 else "1 following")

    def on_resize(self, event: Resize) -> None:
        """The code as large as the screen allows beside the text; when none fits, a note says how much
        room it needs (ASCII's needs twice the rows of half blocks)."""
        codes = self.query(QrCode)
        if not codes:
            return
        code = codes.first()
        width, height = event.size
        fits = code.fit(width - INFO_WIDTH - 6, height - 2)
        code.display = fits
        cols, rows = code.cells
        note = "" if fits else (f"The QR code needs {cols + INFO_WIDTH + 6} x {rows + 2}: "
                                f"enlarge the window (it is {width} x {height}).")
        self.query_one("#join-room", Static).update(note)
