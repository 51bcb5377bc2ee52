"""A model of a terminal's screen, fed what a simulator writes, and the bytes that turn one screen into another.

A shared view sends its followers the changes of its screen, not the renderer's frames (room.py): tmux and
mosh do the same. Textual repaints whole segments of a line with their colours, about 17 bytes for every
cell that changed (29 at 160x50); the changes themselves are about one byte a cell, plus a colour where
the colour changes. A follower whose connection fell behind gets one diff, from the screen it last
received to the newest, instead of every frame in between.

pyte (the tests' terminal) reads Textual's output at about 0.8 MB/s, 6.6 ms for an 80x24 frame and 21 ms
at 160x50 (measured on this machine): too slow for a server with ten views at autoplay. This model knows
what Textual writes (cursor moves, SGR colours, text, erasing, a few modes) and nothing more, and reads it
several times faster (bench/bench_screen.py). What it does not understand (queries, mouse modes, titles)
is not screen content and is dropped: a follower's terminal modes are the server's (room.ENTER_VIEW).

A screen is a tuple of rows; a row is a pair of tuples (characters, pens), one item per cell, immutable,
so snapshots share every row that did not change, and a row that did not change is the same object.
A pen is an index into a table of every attribute set seen (colours, bold, reverse ...); a wide
character's second cell holds "".
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable

from .escapes import Escapes

Row = tuple[tuple[str, ...], tuple[int, ...]]
Snap = tuple[Row, ...]

# ---- pens: every attribute set is interned once, as its SGR ----------------------------------------
FLAG_ON = {1: 1, 2: 2, 3: 4, 4: 8, 5: 16, 6: 16, 7: 32, 8: 64, 9: 128, 21: 256, 53: 512}
FLAG_OFF = {22: 1 | 2, 23: 4, 24: 8 | 256, 25: 16, 27: 32, 28: 64, 29: 128, 55: 512}
FLAG_CODES = [(bit, code) for code, bit in ((1, 1), (2, 2), (3, 4), (4, 8), (5, 16), (7, 32), (8, 64), (9, 128),
                                            (21, 256), (53, 512))]
_PEN_IDS: dict[tuple[int, str, str], int] = {}
_PENS: list[tuple[int, str, str]] = []
PEN_SGR: list[str] = []
"""The escape sequence that sets each pen, by its index."""


def pen_id(flags: int, fg: str, bg: str) -> int:
    key = (flags, fg, bg)
    found = _PEN_IDS.get(key)
    if found is None:
        found = _PEN_IDS[key] = len(_PENS)
        _PENS.append(key)
        parts = ["0", *(str(code) for bit, code in FLAG_CODES if flags & bit)] + [p for p in (fg, bg) if p]
        PEN_SGR.append(f"\x1b[{';'.join(parts)}m")
    return found


PLAIN = pen_id(0, "", "")


def _sgr(pen: int, params: str) -> int:
    """The pen after `ESC [ params m` from `pen`."""
    flags, fg, bg = _PENS[pen]
    codes = params.split(";") if params else ["0"]
    i = 0
    while i < len(codes):
        raw = codes[i]
        i += 1
        if ":" in raw:  # a sub-parameter form (4:3 curly underline, 38:2::r:g:b)
            head = raw.split(":", 1)[0]
            if head == "4":
                flags = flags & ~8 if raw.startswith("4:0") else flags | 8
            elif head == "38":
                fg = raw
            elif head == "48":
                bg = raw
            continue
        try:
            code = int(raw or 0)
        except ValueError:
            continue
        if code == 0:
            flags, fg, bg = 0, "", ""
        elif code in FLAG_ON:
            flags |= FLAG_ON[code]
        elif code in FLAG_OFF:
            flags &= ~FLAG_OFF[code]
        elif 30 <= code <= 37 or 90 <= code <= 97:
            fg = raw
        elif code == 39:
            fg = ""
        elif 40 <= code <= 47 or 100 <= code <= 107:
            bg = raw
        elif code == 49:
            bg = ""
        elif code in (38, 48, 58):
            kind = codes[i] if i < len(codes) else ""
            take = 2 if kind == "5" else 4 if kind == "2" else 1
            colour = ";".join([raw, *codes[i:i + take]])
            i += take
            if code == 38:
                fg = colour
            elif code == 48:
                bg = colour
    return pen_id(flags, fg, bg)


def _erase_pen(pen: int) -> int:
    """Erased cells keep the background colour (as xterm's back-colour erase does), nothing else."""
    return pen_id(0, "", _PENS[pen][2])


# ---- reading ---------------------------------------------------------------------------------------
TOKEN = re.compile(
    r"\x1b\[([0-?]*)[ -/]*([@-~])"  # CSI: parameters, intermediates, final
    r"|\x1b[\]P_^X][^\x07\x1b]*(?:\x07|\x1b\\)?"  # a string (OSC, DCS ...): not screen content
    r"|\x1b[()*+#%]."  # character sets and the like
    r"|\x1b(.)"  # ESC and one character (ESC 7, ESC 8, ESC c)
    r"|([\x00-\x1f\x7f])"  # a control character
    r"|([^\x00-\x1f\x7f\x1b]+)",  # text
    re.DOTALL)
SPECIAL = re.compile("[\u0300-\u036f\u0483-\u0489\u0591-\u05bd\u0610-\u061a\u064b-\u065f\u1100-\u115f\u200b-\u200f"
                     "\u20d0-\u20ff\u2329\u232a\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe00-\ufe0f\ufe30-\ufe4f"
                     "\uff00-\uff60\uffe0-\uffe6\U0001f000-\U0001faff\U00020000-\U0003fffd]")
"""Characters that may not be one cell wide (wide, combining, zero-width): the slow path."""


def _width(ch: str) -> int:
    if unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


class Screen:
    """What a terminal of `cols` x `rows` shows after everything fed to it so far."""

    def __init__(self, cols: int, rows: int) -> None:
        self.cols, self.rows = cols, rows
        blank = ((" ",) * cols, (PLAIN,) * cols)
        self._snap: Snap = (blank,) * rows
        self._chars = [list(blank[0]) for _ in range(rows)]
        self._pens = [list(blank[1]) for _ in range(rows)]
        self._dirty: set[int] = set()
        self.x = self.y = 0
        self.pen = PLAIN
        self._saved = (0, 0, PLAIN)
        self._escapes = Escapes()

    def feed(self, data: bytes) -> bool:
        """Take what the program wrote next; True when it ends at rest (between sequences and characters),
        when the screen is whole to show."""
        whole = self._escapes.split(data)
        if whole:
            self._read(whole.decode("utf-8", "replace"))
        return self._escapes.at_rest

    def snapshot(self) -> Snap:
        """The screen now, sharing every unchanged row with the snapshot before."""
        if self._dirty:
            rows = list(self._snap)
            for y in self._dirty:
                rows[y] = (tuple(self._chars[y]), tuple(self._pens[y]))
            self._dirty.clear()
            self._snap = tuple(rows)
        return self._snap

    # ---- the interpreter ----------------------------------------------------------------------
    tee: Callable[[str, bool], None] | None = None
    """Given each sequence (and run of text) before it takes effect, and whether it is screen content (a
    Mirror passes on what is not: modes, queries, titles, the bell)."""

    def _read(self, text: str) -> None:
        tee = self.tee
        for m in TOKEN.finditer(text):
            if tee is not None:
                tee(m.group(0), _content(m))
            plain = m.group(5)
            if plain is not None:
                self._text(plain)
            elif m.group(2) is not None:
                self._csi(m.group(1), m.group(2))
            elif m.group(4) is not None:
                self._control(m.group(4))
            elif m.group(3) is not None:
                self._escape(m.group(3))

    def _text(self, text: str) -> None:
        y, x, cols = self.y, self.x, self.cols
        if x >= cols:
            x = cols - 1  # no line wrap (the followers' terminals are told ?7l): the last column is rewritten
        if SPECIAL.search(text):
            self._slow_text(text)
            return
        n = min(len(text), cols - x)
        if len(text) > n:  # past the edge with no line wrap: the last column takes the last character
            text = text[:n - 1] + text[-1]
        chars, pens = self._chars[y], self._pens[y]
        if chars[x] == "" and x:  # the second half of a wide character: the first half goes too
            chars[x - 1] = " "
        chars[x:x + n] = text[:n]
        pens[x:x + n] = [self.pen] * n
        end = x + n
        if end < cols and chars[end] == "":
            chars[end] = " "
        self.x = end
        self._dirty.add(y)

    def _slow_text(self, text: str) -> None:
        chars, pens, cols, y = self._chars[self.y], self._pens[self.y], self.cols, self.y
        for ch in text:
            w = _width(ch)
            x = min(self.x, cols - 1)
            if w == 0:
                if x > 0:
                    chars[x - 1] += ch
                continue
            if w == 2 and x + 1 >= cols:
                continue
            if chars[x] == "" and x:
                chars[x - 1] = " "
            chars[x], pens[x] = ch, self.pen
            if w == 2:
                chars[x + 1], pens[x + 1] = "", self.pen
            if x + w < cols and chars[x + w] == "":
                chars[x + w] = " "
            self.x = x + w
        self._dirty.add(y)

    def _control(self, ch: str) -> None:
        if ch == "\r":
            self.x = 0
        elif ch == "\n" or ch == "\x0b" or ch == "\x0c":
            self._line_feed()
        elif ch == "\b":
            self.x = max(0, min(self.x, self.cols - 1) - 1)
        elif ch == "\t":
            self.x = min(self.cols - 1, (self.x // 8 + 1) * 8)

    def _line_feed(self) -> None:
        if self.y < self.rows - 1:
            self.y += 1
            return
        blank_c, blank_p = [" "] * self.cols, [_erase_pen(self.pen)] * self.cols
        self._chars = self._chars[1:] + [blank_c]
        self._pens = self._pens[1:] + [blank_p]
        self._dirty.update(range(self.rows))

    def _escape(self, ch: str) -> None:
        if ch == "7":
            self._saved = (self.x, self.y, self.pen)
        elif ch == "8":
            self.x, self.y, self.pen = self._saved
        elif ch == "c":
            self.__init__(self.cols, self.rows)  # type: ignore[misc]
            self._dirty.update(range(self.rows))
        elif ch == "D":
            self._line_feed()
        elif ch == "E":
            self.x = 0
            self._line_feed()
        elif ch == "M" and self.y > 0:
            self.y -= 1

    def _csi(self, params: str, final: str) -> None:
        if final == "m":
            if not params or params[0] not in "<=>?":
                self.pen = _sgr(self.pen, params)
            return
        if params and params[0] in "<=>?":
            if final in "hl" and params[1:] in ("1049", "1047", "47"):
                self._erase_all()  # a fresh alternate screen (or back from it)
            return
        nums = [int(p) if p.isdigit() else 0 for p in params.split(";")] if params else []
        first = nums[0] if nums else 0
        n = first or 1
        if final in "Hf":
            self.y = min(max(n, 1), self.rows) - 1
            self.x = min(max(nums[1] if len(nums) > 1 and nums[1] else 1, 1), self.cols) - 1
        elif final == "K":
            x = min(self.x, self.cols - 1)
            lo, hi = (x, self.cols - 1) if first == 0 else (0, x) if first == 1 else (0, self.cols - 1)
            self._erase(self.y, lo, hi)
        elif final == "J":
            x = min(self.x, self.cols - 1)
            if first == 0:
                self._erase(self.y, x, self.cols - 1)
                for y in range(self.y + 1, self.rows):
                    self._erase(y, 0, self.cols - 1)
            elif first == 1:
                for y in range(self.y):
                    self._erase(y, 0, self.cols - 1)
                self._erase(self.y, 0, x)
            else:
                self._erase_all()
        elif final == "X":
            x = min(self.x, self.cols - 1)
            self._erase(self.y, x, min(self.cols - 1, x + n - 1))
        elif final == "A":
            self.y = max(0, self.y - n)
        elif final in "Be":
            self.y = min(self.rows - 1, self.y + n)
        elif final in "Ca":
            self.x = min(self.cols - 1, self.x + n)
        elif final == "D":
            self.x = max(0, min(self.x, self.cols - 1) - n)
        elif final in "G`":
            self.x = min(max(n, 1), self.cols) - 1
        elif final == "d":
            self.y = min(max(n, 1), self.rows) - 1
        elif final == "E":
            self.x, self.y = 0, min(self.rows - 1, self.y + n)
        elif final == "F":
            self.x, self.y = 0, max(0, self.y - n)
        elif final == "s":
            self._saved = (self.x, self.y, self.pen)
        elif final == "u":
            self.x, self.y, self.pen = self._saved

    def _erase_all(self) -> None:
        for y in range(self.rows):
            self._erase(y, 0, self.cols - 1)

    def _erase(self, y: int, lo: int, hi: int) -> None:
        """Blank cells lo..hi of row y, in the background colour of the pen."""
        chars, pens = self._chars[y], self._pens[y]
        if lo and chars[lo] == "":
            chars[lo - 1] = " "
        if hi + 1 < self.cols and chars[hi + 1] == "":
            chars[hi + 1] = " "
        chars[lo:hi + 1] = [" "] * (hi + 1 - lo)
        pens[lo:hi + 1] = [_erase_pen(self.pen)] * (hi + 1 - lo)
        self._dirty.add(y)


CONTENT_CSI = frozenset("mHfKJXABeCaDG`dEFsu")
CONTENT_ESC = frozenset("78DEM")
CONTENT_CONTROL = frozenset("\r\n\b\t\x0b\x0c")


def _content(m: re.Match[str]) -> bool:
    """Whether a token changes what the screen shows (and nothing else a terminal keeps)."""
    if m.group(5) is not None:
        return True
    if m.group(2) is not None:
        params = m.group(1)
        return m.group(2) in CONTENT_CSI and not (params and params[0] in "<=>?") and "$" not in m.group(0)
    if m.group(4) is not None:
        return m.group(4) in CONTENT_CONTROL
    return m.group(3) is not None and m.group(3) in CONTENT_ESC


class Mirror:
    """A program's output on its way to one terminal of its own: the changes of its screen at each rest,
    and, in order between them, what is not screen content (modes, queries, titles, the bell) as it came.

    Off the alternate screen (before a Textual app starts, after it ends: its queries, an apology)
    everything passes as it came: only a full-screen app's screen is modelled."""

    def __init__(self, cols: int, rows: int) -> None:
        self.screen = Screen(cols, rows)
        self.screen.tee = self._token
        self.sent: Snap = unknown(cols, rows)
        self.alt = False
        self.drawn = False  # the program has drawn on the alternate screen since it entered it
        self._out: list[str] = []
        self._cursor = (-1, -1)

    def feed(self, data: bytes) -> bytes:
        """What to send the terminal for this output of the program (b"" while a sequence is unfinished)."""
        if self.screen.feed(data):
            self._flush()
        out, self._out = self._out, []
        return "".join(out).encode("utf-8")

    def resize(self, cols: int, rows: int) -> None:
        """The terminal changed size: what it shows is not known until the program draws again."""
        if (cols, rows) != (self.screen.cols, self.screen.rows):
            self._flush()
            saved = self.screen
            self.screen = Screen(cols, rows)
            self.screen.tee = self._token
            self.screen.pen = saved.pen
            self.sent = unknown(cols, rows)

    def _token(self, token: str, content: bool) -> None:
        if not self.alt:
            self._out.append(token)
            if token in ALT_ON:  # the first screen is written whole, every cell, as the program's own would be
                self.alt, self.drawn, self.sent = True, False, unknown(self.screen.cols, self.screen.rows)
            return
        if content:
            self.drawn = True
            return
        self._flush()
        self._out.append(token)
        if token in ALT_OFF:
            self.alt = False
        elif token in ALT_ON:
            self.drawn, self.sent = False, unknown(self.screen.cols, self.screen.rows)  # entered again: whole

    def _flush(self) -> None:
        if not (self.alt and self.drawn):
            return
        snap = self.screen.snapshot()
        if snap is not self.sent:
            pen = Pen()
            changes, _ = diff(self.sent, snap, pen)
            self.sent = snap
            if changes:
                self._out.append(changes.decode("utf-8"))
                self._cursor = (pen.y, pen.x)
        cursor = (self.screen.y, min(self.screen.x, self.screen.cols - 1))
        if cursor != self._cursor:
            self._out.append(f"\x1b[{cursor[0] + 1};{cursor[1] + 1}H")
            self._cursor = cursor


ALT_ON = frozenset(f"\x1b[?{mode}h" for mode in ("1049", "1047", "47"))
ALT_OFF = frozenset(f"\x1b[?{mode}l" for mode in ("1049", "1047", "47"))


def unknown(cols: int, rows: int) -> Snap:
    """A screen no cell of which is known: a diff from it writes every cell."""
    return ((("",) * cols, (-2,) * cols),) * rows


# ---- writing ---------------------------------------------------------------------------------------
GAP = 4
"""Unchanged cells between two changed ones that are sent again rather than jumped over (a jump costs 6-8)."""


def blank(cols: int, rows: int) -> Snap:
    """The screen of a terminal just cleared (ESC [ 0 m ESC [ 2 J)."""
    return (((" ",) * cols, (PLAIN,) * cols),) * rows


def diff(old: Snap, new: Snap, pen: Pen | None = None) -> tuple[bytes, frozenset[int]]:
    """The bytes that turn a terminal showing `old` into one showing `new` (same size), and the rows they
    touch. The pen and the cursor are left where the last cell put them (`pen` says where, if given)."""
    pen = Pen() if pen is None else pen
    touched: list[int] = []
    for y, (before, after) in enumerate(zip(old, new)):
        if before is after or before == after:
            continue
        touched.append(y)
        oc, op = before
        nc, np_ = after
        changed = [x for x, (a, b, c, d) in enumerate(zip(oc, nc, op, np_)) if a != b or c != d]
        pen.cells(y, nc, np_, _runs(changed, nc, np_))
    return pen.bytes(), frozenset(touched)


def paint(snap: Snap, rows: Iterable[int], lo: int, hi: int) -> bytes:
    """Cells `lo..hi` of these rows of `snap`, written whatever the terminal shows there now."""
    pen = Pen()
    for y in rows:
        if 0 <= y < len(snap):
            chars, pens = snap[y]
            a, b = max(0, lo), min(len(chars) - 1, hi)
            if a <= b:
                pen.cells(y, chars, pens, [(a - 1 if a and chars[a] == "" else a, b)])
    return pen.bytes()


def _runs(changed: list[int], chars: tuple[str, ...], pens: tuple[int, ...] | None = None) -> list[tuple[int, int]]:
    """The changed cells as runs to write; unchanged cells between two changed ones are written again when
    that costs fewer bytes than jumping over them (a cursor move is 4 to 8 bytes)."""
    runs: list[tuple[int, int]] = []
    for x in changed:
        if runs and x - runs[-1][1] <= GAP + 1 and _gap_cost(chars, pens, runs[-1][1], x) <= JUMP:
            runs[-1] = (runs[-1][0], x)
        else:
            runs.append((x, x))
    return [(a - 1 if a and chars[a] == "" else a, b) for a, b in runs]  # never start inside a wide character


JUMP = 4
"""Bytes of the shortest cursor move (ESC [ n C)."""


def _gap_cost(chars: tuple[str, ...], pens: tuple[int, ...] | None, a: int, b: int) -> int:
    """Bytes to write cells a+1..b-1 again (a pen change counted as one short SGR)."""
    cost = 0
    for x in range(a + 1, b):
        ch = chars[x]
        cost += 1 if ch < "\x80" else len(ch.encode())
        if pens is not None and pens[x] != pens[x - 1]:
            cost += 6
    return cost


_CHANGES: dict[tuple[int, int], str] = {}


def change(old: int, new: int) -> str:
    """The shortest SGR that turns pen `old` into `new` (the whole of `new`'s when `old` is unknown, -1)."""
    key = (old, new)
    found = _CHANGES.get(key)
    if found is not None:
        return found
    whole = PEN_SGR[new]
    if old < 0:
        return whole
    (f0, fg0, bg0), (f1, fg1, bg1) = _PENS[old], _PENS[new]
    parts: list[str] = []
    gone = f0 & ~f1
    if gone:
        for code, bits in FLAG_OFF.items():
            if gone & bits:
                parts.append(str(code))
        f0 &= ~sum(bits for code, bits in FLAG_OFF.items() if gone & bits)  # 22 ends bold and dim alike
    parts += [str(code) for bit, code in FLAG_CODES if f1 & bit and not f0 & bit]
    if fg1 != fg0:
        parts.append(fg1 or "39")
    if bg1 != bg0:
        parts.append(bg1 or "49")
    delta = f"\x1b[{';'.join(parts)}m" if parts else ""
    found = _CHANGES[key] = delta if len(delta) < len(whole) else whole
    return found


class Pen:
    """Writes cells, keeping track of the terminal's pen and cursor so each is set only when it changes."""

    def __init__(self) -> None:
        self.out: list[str] = []
        self.pen = -1  # unknown
        self.y = self.x = -1

    def cells(self, y: int, chars: tuple[str, ...], pens: tuple[int, ...], runs: list[tuple[int, int]]) -> None:
        add = self.out.append
        pen = self.pen
        last = len(chars) - 1
        for a, b in runs:
            if y == self.y and a > self.x >= 0:
                add(f"\x1b[{a - self.x}C" if a - self.x > 1 else "\x1b[C")
            elif y != self.y or a != self.x:
                add(f"\x1b[{y + 1};{a + 1}H")
            for x in range(a, b + 1):
                p = pens[x]
                if p != pen:
                    add(change(pen, p))
                    pen = p
                add(chars[x])  # a wide character's second cell ("") adds nothing: the terminal moved two
            self.y, self.x = y, (b + 1 if b < last else -1)  # at the last column the cursor stays put
        self.pen = pen

    def bytes(self) -> bytes:
        return "".join(self.out).encode("utf-8")


def text_of(snap: Snap) -> list[str]:
    """Each row's characters, for reading the screen (what is written where)."""
    return ["".join(chars) for chars, _ in snap]
