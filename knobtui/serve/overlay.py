"""A follower's own line over a shared view: their answer to the room's question.

A shared view's renderer draws one screen for many followers, so it cannot say "your answer: up". It
leaves the last line inside the question's panel blank (tui/screens/room.py), and the server writes each
follower's own words there, into that follower's stream only, right after a chunk of the renderer's
output that ends between escape sequences (so the line never lands inside one). The cursor and the
attributes are saved and restored around it (DECSC/DECRC), so the renderer's next bytes draw as before.
When the question goes, the renderer's panel goes too, and Textual repaints the screen under it.
"""

from __future__ import annotations

import textwrap


OWN_LINES = 2  # rows over the view a follower's own words may take (a notice wraps onto two)
MAX_TAIL = 512  # an unfinished CSI longer than this is not one; a long string keeps only its ends


class Escapes:
    """Whether a terminal output stream is at rest: not inside an escape sequence, a string (OSC, DCS,
    ...) or a UTF-8 character."""

    def __init__(self) -> None:
        self._tail = b""  # what began at the end of the last chunk and has not ended yet

    @property
    def at_rest(self) -> bool:
        return not self._tail

    def feed(self, data: bytes) -> bool:
        """Take the next chunk; True if it ends at rest."""
        self.split(data)
        return not self._tail

    def split(self, data: bytes) -> bytes:
        """Take the next chunk; what ends at rest of it and what came before (the rest is kept for the next
        chunk, or dropped if it is the inside of a long string, which is never screen content)."""
        buf = self._tail + data if self._tail else data
        self._tail = b""
        at = buf.rfind(b"\x1b")
        if at >= 0 and not _complete(buf, at):
            tail = buf[at:]
            if len(tail) > MAX_TAIL:
                # A long string (OSC 52, OSC 8): its introducer and its last byte (an ESC may begin its
                # ST) are all that matter; anything else this long was not an escape sequence.
                tail = tail[:2] + tail[-1:] if tail[1:2] in (b"]", b"P", b"_", b"^", b"X") else b""
            self._tail = tail
            return buf[:at]
        cut = _cut_character(buf)
        if cut:
            self._tail = buf[-cut:]
            return buf[:-cut]
        return buf


def _complete(buf: bytes, at: int) -> bool:
    """Whether the escape sequence that starts at `at` (the last ESC in `buf`) ends within `buf`."""
    rest = buf[at + 1:]
    if not rest:
        return False
    kind = rest[0]
    if kind == ord("["):  # CSI: parameters and intermediates, then one final byte in @..~
        return any(0x40 <= b <= 0x7E for b in rest[1:])
    if kind in b"]P_^X":  # a string (OSC, DCS, ...): ends with BEL, or with ESC \ (whose ESC would be the last)
        return 0x07 in rest[1:]
    if kind in b"()*+-./#%":  # a charset or similar: one more byte
        return len(rest) >= 2
    return True  # ESC and one byte (ESC 7, ESC \ ...)


def _cut_character(buf: bytes) -> int:
    """How many bytes at the end of `buf` begin a UTF-8 character that has not ended (0: none)."""
    for back in range(1, min(4, len(buf)) + 1):
        byte = buf[-back]
        if byte < 0x80:
            return 0
        if byte >= 0xC0:  # a lead byte: how many bytes its character needs
            need = 2 if byte < 0xE0 else 3 if byte < 0xF0 else 4
            return back if back < need else 0
    return 0


def overlay(text: str, tone: str, cols: int, rows: int, colour: bool, lines: int = 1) -> bytes:
    """`text` written on the question panel's last inside line of a `cols` x `rows` view (or its last
    `lines` lines, wrapped at words), the cursor and attributes kept. Plain ASCII (whatever the follower's
    locale), cut to the panel's width."""
    if not text or cols < 10 or rows < 2 + lines:
        return b""
    width = cols - 4  # inside the panel's border and padding
    plain = "".join(ch if " " <= ch <= "~" else "?" for ch in text)  # printable ASCII only: nothing a terminal obeys
    parts = textwrap.wrap(plain, width, max_lines=lines, placeholder="...") if lines > 1 else [plain[:width]]
    parts = [""] * (lines - len(parts)) + parts  # the last line is always the panel's last
    sgr = "1" + (";32" if colour and tone == "right" else ";33" if colour and tone == "wrong" else "")
    top = rows - lines  # 1-based: the last `lines` rows above the view's bottom row
    drawn = "".join((f"\x1b[{top + n};3H" if n else "") + part.ljust(width) for n, part in enumerate(parts))
    return f"\x1b7\x1b[{top};3H\x1b[0;{sgr}m{drawn}\x1b[0m\x1b8".encode()
