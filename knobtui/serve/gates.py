"""What `knobtui serve` lets in, and how it says why not: small policies applied in order.

Every policy here is a plain function or a small class with no door in it, so each one reads alone and
is tested alone. door.py makes them gates, applied in order by the one `admit()` both doors call, at the
moment each belongs to: a connection's address (rate, open connections), its login (presenter
guesses), its seat (terminal, size, one simulator per connection, simulators or seats per address).
The hub watches a visit's life (idle). How a session ended is a typed `End`, not a sentence to search.

Limits count what costs. A simulator (the presenter's, a visitor's own, a follower's after `d`) is a
process of ~30 MB and its CPU; a seat in a shared view is a connection and the bytes of a screen. So
each has its own caps, and a class behind one address (the school's NAT) fits in the seats' higher
one. Every refusal says what it counted and the option that raises it (`refusal`).
"""

from __future__ import annotations

import enum
import re
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

MAX_COLS, MAX_ROWS = 500, 200
"""The largest terminal a visitor's simulator gets: a 10000x10000 request grew one child to 2.5 GB."""

FIELD_LIMIT = 64
"""Client-supplied text (user name, TERM, a refused command) is cut to this many characters in the log."""

TERM_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,63}")
"""What a terminal type looks like (xterm-256color, screen.xterm-256color, rxvt-unicode, linux)."""

FALLBACK_TERM = "xterm-256color"
NO_ESCAPES = {"dumb", "unknown", "cons25", "emacs"}
"""Terminal types that draw no escape codes: Textual would draw nothing and hold a slot."""


def clean(value: object, limit: int = FIELD_LIMIT) -> str:
    """Client text made safe for one log line: no control characters (shown as escapes), at most `limit` long."""
    text = str(value)
    out: list[str] = []
    for ch in text[: limit + 1]:
        if ch == "\\":
            out.append("\\\\")
        elif ch.isprintable():
            out.append(ch)
        else:
            out.append(ch.encode("unicode_escape").decode("ascii"))
    cleaned = "".join(out)
    if len(text) > limit:
        cleaned = cleaned[: limit] + f"...(+{len(text) - limit} chars)"
    return cleaned


def cap_size(cols: int, rows: int) -> tuple[int, int]:
    """The visitor's terminal size, held to MAX_COLS x MAX_ROWS (and at least 1x1)."""
    return max(1, min(int(cols), MAX_COLS)), max(1, min(int(rows), MAX_ROWS))


def terminal_type(term: str | None) -> tuple[str | None, str | None]:
    """(the TERM a child gets, or None; why the visitor is turned away, or None).

    No pty at all, or a terminal that draws no escape codes, is turned away with a sentence; a TERM
    that is not a terminal name (control characters, 1000 letters) is replaced by xterm-256color.
    """
    if term is None:
        return None, "knobtui serves an interactive simulator and needs a terminal: connect with ssh -t"
    if term.lower() in NO_ESCAPES:
        return None, (f"knobtui needs a terminal that understands escape codes, and TERM={clean(term)} does not. "
                      "Connect from a terminal such as xterm, or set TERM=xterm-256color.")
    if not term or not TERM_NAME.fullmatch(term):
        return FALLBACK_TERM, None
    return term, None


class EndKind(enum.Enum):
    """Why a session ended; whether the server ended it decides the goodbye and the exit status."""

    EXITED = "the simulator exited"  # q, or the child ended on its own: its status is the session's
    QUIT = "the visitor quit"  # q in a shared view (there is no simulator of its own to restore the terminal)
    LEFT = "the visitor left"  # EOF, disconnect, a lost connection: nobody to say goodbye to
    IDLE = "idle"
    SHUTDOWN = "the server is shutting down"
    FAILED = "the simulator could not start"

    @property
    def by_server(self) -> bool:
        """The server ended it while the visitor was watching: restore their terminal and say goodbye."""
        return self in (EndKind.IDLE, EndKind.SHUTDOWN)


@dataclass(frozen=True)
class End:
    """How one session ended, with a detail for the log (e.g. the idle limit, a lost connection's error)."""

    kind: EndKind
    detail: str = ""

    def __str__(self) -> str:
        if not self.detail:
            return self.kind.value
        return f"{self.kind.value} {self.detail}" if self.kind is EndKind.IDLE else f"{self.kind.value}: {self.detail}"

    def goodbye(self) -> str:
        return f"knobtui: {self}; goodbye."


TERMINAL_RESET = (
    "\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1015l\x1b[?1006l\x1b[?1016l"  # mouse reporting off
    "\x1b[?2004l"  # bracketed paste off
    "\x1b[?1004l"  # focus events off
    "\x1b[?2048l"  # in-band resize off
    "\x1b[<u"  # the kitty keyboard protocol popped
    "\x1b[?7h"  # line wrap on
    "\x1b[0m"  # plain colours
    "\x1b[?1049l"  # the main screen back
    "\x1b[?25h"  # the cursor shown
)
"""What Textual undoes when it exits (q): sent by the server when it ends a session itself."""


def describe(event: str, address: str, username: str, term: str | None, size: tuple[int, int],
             **extra: object) -> str:
    """One log line for a session event: client fields escaped and capped."""
    words = [event, clean(address), f"user={clean(username)!r}"]
    if term is not None:
        words.append(f"term={clean(term)}")
    words.append(f"size={size[0]}x{size[1]}")
    words += [f"{k}={v}" for k, v in extra.items() if v is not None and v != ""]
    return " ".join(words)


@dataclass
class Window:
    """Events within the last `span` seconds (a sliding window), counted on a monotonic clock."""

    span: float
    clock: Callable[[], float] = time.monotonic
    times: deque[float] = field(default_factory=deque)

    def count(self) -> int:
        now = self.clock()
        while self.times and now - self.times[0] > self.span:
            self.times.popleft()
        return len(self.times)

    def add(self) -> None:
        self.count()
        self.times.append(self.clock())


@dataclass
class Address:
    """What the server remembers of one client address."""

    connections: Window
    failures: Window
    simulators: int = 0  # processes of its own: the presenter's, a visitor's, a follower's after `d`
    seats: int = 0  # followers watching a shared view (no process of their own)
    locked_until: float = 0.0
    lockouts: int = 0


def refusal(counted: str, option: str) -> str:
    """A refusal people can act on: what was counted, and the option of `knobtui serve` that raises it."""
    return f"{counted}; the presenter can raise {option}"


@dataclass
class AuthPolicy:
    """Presenter-password guesses: a few per connection, a few more per address, then a growing lock-out."""

    per_connection: int = 3
    per_address: int = 10  # failures within `window` seconds from one address lock it out
    window: float = 600.0
    lockout: float = 60.0  # the first lock-out; each next one from the same address doubles, up to a day
    delay: float = 1.0  # seconds before a wrong guess is answered


class Addresses:
    """Per-address bookkeeping: connections a minute, simulators running, seats taken, presenter-password
    failures."""

    def __init__(self, rate_limit: int, max_per_address: int, auth: AuthPolicy | None = None,
                 clock: Callable[[], float] = time.monotonic, max_seats_per_address: int = 400) -> None:
        self.rate_limit, self.max_per_address = rate_limit, max_per_address
        self.max_seats_per_address = max_seats_per_address
        self.auth = auth or AuthPolicy()
        self.clock = clock
        self._known: dict[str, Address] = {}

    def get(self, address: str) -> Address:
        entry = self._known.get(address)
        if entry is None:
            if len(self._known) > 10000:  # forget quiet addresses rather than grow without end
                self._forget_quiet()
            entry = self._known[address] = Address(Window(60.0, self.clock), Window(self.auth.window, self.clock))
        return entry

    def _forget_quiet(self) -> None:
        now = self.clock()
        for key, entry in list(self._known.items()):
            if (entry.simulators == 0 and entry.seats == 0 and entry.connections.count() == 0 and entry.failures.count() == 0
                    and entry.locked_until <= now):
                del self._known[key]

    def connection(self, address: str) -> str | None:
        """Count a new connection; the reason to refuse it, or None."""
        entry = self.get(address)
        if entry.connections.count() >= self.rate_limit:
            return refusal(f"more than {self.rate_limit} connections in a minute from your address", "--rate-limit")
        entry.connections.add()
        return None

    def simulator_refusal(self, address: str) -> str | None:
        if self.get(address).simulators >= self.max_per_address:
            return refusal(f"{self.max_per_address} simulators are already running for your address "
                           "(a follower in the shared view runs none)", "--max-per-address")
        return None

    def seat_refusal(self, address: str) -> str | None:
        if self.get(address).seats >= self.max_seats_per_address:
            return refusal(f"{self.max_seats_per_address} followers from your address are already watching the "
                           "shared view", "--max-seats-per-address")
        return None

    def presenter_locked(self, address: str) -> float:
        """Seconds left of this address's presenter lock-out (0 when it may try)."""
        return max(0.0, self.get(address).locked_until - self.clock())

    def presenter_failed(self, address: str) -> bool:
        """Count a wrong presenter password; True when this failure locked the address out."""
        entry = self.get(address)
        entry.failures.add()
        if entry.failures.count() >= self.auth.per_address:
            entry.lockouts += 1
            entry.locked_until = self.clock() + min(86400.0, self.auth.lockout * 2 ** (entry.lockouts - 1))
            entry.failures.times.clear()
            return True
        return False


class RateLimitedLog:
    """Log a recurring problem once, then at most once every `every` seconds with a count of the rest."""

    def __init__(self, log: Callable[[str], None], every: float = 10.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.log, self.every, self.clock = log, every, clock
        self._last: dict[str, float] = {}
        self._quiet: dict[str, int] = {}

    def __call__(self, key: str, message: str) -> None:
        now = self.clock()
        last = self._last.get(key)
        if last is not None and now - last < self.every:
            self._quiet[key] = self._quiet.get(key, 0) + 1
            return
        quiet = self._quiet.pop(key, 0)
        self._last[key] = now
        self.log(message + (f" (and {quiet} more like it since the last report)" if quiet else ""))
