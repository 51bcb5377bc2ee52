"""Where a terminal output stream is at rest: not inside an escape sequence, a string or a UTF-8 character.

The screen model (screen.py) reads a renderer's output in chunks as the pty gives them; a chunk may end
inside a sequence, which is kept for the next.
"""

from __future__ import annotations


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

