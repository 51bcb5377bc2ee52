"""Read a QR code off a terminal screen as a camera would: draw the screen's cells as a picture, then
decode the picture (zxing-cpp). Nothing here knows what the code says or how the app made it.

Each cell is drawn the way terminals draw it: its background, then its character in its foreground
colour (reverse video swaps them). Block elements are drawn as geometry, as xterm and VTE do, so that
rows meet without a seam; any other character is drawn with a monospace font.
"""

from __future__ import annotations

from pathlib import Path

import pyte
import zxingcpp
from PIL import Image, ImageDraw, ImageFont

CELL_W, CELL_H = 8, 16
DEFAULT_FG, DEFAULT_BG = (229, 229, 229), (0, 0, 0)  # a dark terminal's
NAMED = {"black": (0, 0, 0), "red": (205, 0, 0), "green": (0, 205, 0), "brown": (205, 205, 0),
         "blue": (0, 0, 238), "magenta": (205, 0, 205), "cyan": (0, 205, 205), "white": (229, 229, 229)}
BLOCKS = {  # character -> (top fraction, bottom fraction) of the cell painted in the foreground
    "█": (0.0, 1.0), "▀": (0.0, 0.5), "▄": (0.5, 1.0),
}
FONTS = ("/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf",
         "/usr/share/fonts/truetype/liberation/LiberationMono-Regular.ttf")


def _colour(name: str, default: tuple[int, int, int]) -> tuple[int, int, int]:
    if name == "default":
        return default
    if name in NAMED:
        return NAMED[name]
    if len(name) == 6:
        try:
            return int(name[0:2], 16), int(name[2:4], 16), int(name[4:6], 16)
        except ValueError:
            pass
    return default


def _font() -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for path in FONTS:
        if Path(path).exists():
            return ImageFont.truetype(path, CELL_H - 3)
    return ImageFont.load_default()


def picture(screen: pyte.Screen) -> Image.Image:
    """The screen as a terminal would show it."""
    image = Image.new("RGB", (screen.columns * CELL_W, screen.lines * CELL_H), DEFAULT_BG)
    draw = ImageDraw.Draw(image)
    font = _font()
    for y in range(screen.lines):
        row = screen.buffer[y]
        for x in range(screen.columns):
            char = row[x]
            fg, bg = _colour(char.fg, DEFAULT_FG), _colour(char.bg, DEFAULT_BG)
            if char.reverse:
                fg, bg = bg, fg
            left, top = x * CELL_W, y * CELL_H
            draw.rectangle([left, top, left + CELL_W - 1, top + CELL_H - 1], fill=bg)
            if char.data in BLOCKS:
                start, end = BLOCKS[char.data]
                draw.rectangle([left, top + round(start * CELL_H), left + CELL_W - 1, top + round(end * CELL_H) - 1],
                               fill=fg)
            elif char.data.strip():
                draw.text((left, top), char.data, fill=fg, font=font)
    return image


def read_qr(screen: pyte.Screen, save: Path | None = None) -> str | None:
    """The text of the QR code on the screen, or None if none reads."""
    image = picture(screen)
    if save is not None:
        image.save(save)
    found = [r for r in zxingcpp.read_barcodes(image) if r.format == zxingcpp.BarcodeFormat.QRCode]
    return found[0].text if found else None
