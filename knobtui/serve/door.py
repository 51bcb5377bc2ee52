"""One door: how a connection, SSH or web, becomes a visitor, through one ordered `admit()` of small gates.

A door (ssh.py, web.py) knows its transport; what it may let in is decided here, the same for both, in
the spirit of wish's middlewares: each policy a small object with its own test (tests/test_gates.py),
applied in order, the first to refuse ends the knock. The stages follow what a door learns and when:

    connect  → RatePerAddress, OpenConnections       (an address, before a byte of login)
    login    → PresenterLogin                         (a presenter's password, the same for both doors)
    seat     → TerminalType, SizeCap, OneSimulatorPerConnection, RoomSeats, Simulators
               (a terminal, its size, what the visit will hold)

`admit(knock, stage)` runs one stage's gates; `seat(knock)` runs the last and says what the visit is: a
simulator of its own (`OwnSimulator`) or a seat in a shared view (`SeatInView`). Every refusal is a
`Refusal` with the words the visitor reads and a reason for the log; the limits' words are gates.py's
`refusal`, which names what was counted and the option that raises it.
"""

from __future__ import annotations

import asyncio
import enum
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from .gates import MAX_COLS, MAX_ROWS, Addresses, AuthPolicy, cap_size, clean, refusal, terminal_type


class Stage(enum.Enum):
    """When a gate applies: what the door knows by then."""

    CONNECT = 1  # an address
    LOGIN = 2  # the presenter's answer, when one was asked for
    SEAT = 3  # a terminal, its size, and whether the visit would be a seat or a simulator


@dataclass
class Knock:
    """What a door knows of one visitor so far; the gates read it, and settle what they own (the presenter
    role, the usable terminal type, the size)."""

    door: str  # "ssh" or "web", for the log
    address: str
    username: str = ""
    may_follow: bool = True  # an empty answer to the presenter's prompt follows (an open server)
    presenter: bool = False
    failures: int = 0  # wrong presenter passwords on this connection
    answer: str | None = None  # the presenter password typed (only while the login stage runs)
    term: str | None = None  # the terminal type asked for (None: no pty)
    size: tuple[int, int] = (80, 24)  # asked for; SizeCap holds it to what a simulator gets
    usable_term: str | None = None  # what TerminalType settled
    shared: bool = False  # a follower of a room with shared views: a seat, not a simulator
    holds_simulator: bool = False  # this connection has a simulator already (SSH: two sessions on one)


@dataclass(frozen=True)
class Refusal:
    """A visitor turned away: the words they read, and why, for the log. `final`: the door closes the
    connection (a login that will not be asked again)."""

    words: str
    why: str
    final: bool = True


@dataclass(frozen=True)
class OwnSimulator:
    """Admitted to a simulator of its own (the presenter's, a visitor's without a presenter)."""

    term: str
    size: tuple[int, int]


@dataclass(frozen=True)
class SeatInView:
    """Admitted to a seat in the room's shared view for its size and terminal (room.py)."""

    term: str
    size: tuple[int, int]


Admitted = OwnSimulator | SeatInView


class Counts(Protocol):
    """What the gates count on (hub.py's Hub is one): connections open, seats and simulators held."""

    connections: int
    seats: int

    @property
    def simulators(self) -> int: ...


class KeyList(Protocol):
    """Authorized keys (asyncssh's SSHAuthorizedKeys): the entry that lets `key` in from `host`, or None."""

    def validate(self, key: Any, client_host: str, client_addr: str) -> object | None: ...


class Gate(Protocol):
    """One policy: its stage, and `check`, which refuses (a `Refusal`) or lets the knock on (None)."""

    stage: Stage

    def check(self, knock: Knock) -> Refusal | None: ...


def _limit(words: str) -> Refusal:
    """A refusal by a limit, in the words the doors have always used."""
    return Refusal(f"\r\nSorry: {words}.", words)


# ---- connect ---------------------------------------------------------------------------------------
@dataclass
class RatePerAddress:
    """New connections a minute from one address (a class of 300 behind one NAT fits twice); a connection
    let in is counted."""

    addresses: Addresses
    stage: Stage = Stage.CONNECT

    def check(self, knock: Knock) -> Refusal | None:
        why = self.addresses.connection(knock.address)
        return Refusal(why, why) if why is not None else None


@dataclass
class OpenConnections:
    """Open connections of both doors at once, logged in or not: room for everyone and a queue at the door."""

    tally: Counts
    ceiling: int
    stage: Stage = Stage.CONNECT

    def check(self, knock: Knock) -> Refusal | None:
        if self.tally.connections >= self.ceiling:
            why = refusal(f"{self.tally.connections} connections are open", "--max-sessions or --max-seats")
            return Refusal(why, why)
        return None


# ---- login -----------------------------------------------------------------------------------------
@dataclass
class PresenterLogin:
    """The presenter's password, for both doors: an empty answer follows (where the server is open), the
    password makes a presenter, anything else is a failure counted against the connection (AuthPolicy.
    per_connection, then the door closes) and the address (a lock-out after per_address, doubling). While
    an address is locked out, nothing is checked. A wrong answer is answered only after AuthPolicy.delay
    (`Door.login`)."""

    addresses: Addresses
    password: str
    keys: KeyList | None
    auth: AuthPolicy
    log: Callable[[str], None]
    rare: Callable[[str, str], None]
    stage: Stage = Stage.LOGIN

    def key(self, knock: Knock, key: object) -> bool:
        """Whether `key` (offered and signed) is one of the presenter's: it makes a presenter."""
        knock.presenter = self.keys is not None and self.keys.validate(key, knock.address, knock.address) is not None
        return knock.presenter

    def check(self, knock: Knock) -> Refusal | None:
        answer = knock.answer
        if answer is None:
            return None  # nothing was asked: a follower
        knock.presenter = False
        if answer == "" and knock.may_follow:
            return None  # "Enter to follow"
        locked = self.addresses.presenter_locked(knock.address)
        if locked:
            self.rare(f"locked {knock.address}", f"presenter password from {clean(knock.address)} not checked: "
                      f"locked out for {locked:.0f} s more")
        elif self.password and secrets.compare_digest(answer.encode(), self.password.encode()):
            knock.presenter = True
            return None
        else:
            locked_now = self.addresses.presenter_failed(knock.address)
            self.log(f"wrong presenter password from {clean(knock.address)} user={clean(knock.username)!r} "
                     f"(attempt {knock.failures + 1} on this connection)")
            if locked_now:
                self.log(f"presenter login locked for {clean(knock.address)} for "
                         f"{self.addresses.presenter_locked(knock.address):.0f} s after {self.auth.per_address} "
                         "wrong passwords")
        knock.failures += 1
        final = knock.failures >= self.auth.per_connection
        return Refusal("Too many wrong presenter passwords" if final else "That is not the presenter password.",
                       "a wrong presenter password", final=final)


# ---- seat ------------------------------------------------------------------------------------------
@dataclass
class TerminalType:
    """A real terminal: no pty, or one that draws no escape codes, is turned away; a TERM that is no
    terminal's name becomes xterm-256color (gates.terminal_type)."""

    stage: Stage = Stage.SEAT

    def check(self, knock: Knock) -> Refusal | None:
        usable, why = terminal_type(knock.term)
        if why is not None or usable is None:
            return Refusal(why or "a terminal is needed", "no usable terminal")
        knock.usable_term = usable
        return None


@dataclass
class SizeCap:
    """The largest terminal a simulator gets (a 10000x10000 request grew one child to 2.5 GB): a larger
    one is held to it, never refused. The visit holds every later resize to it too (`cap`)."""

    cols: int = MAX_COLS
    rows: int = MAX_ROWS
    stage: Stage = Stage.SEAT

    def cap(self, cols: int, rows: int) -> tuple[int, int]:
        capped = cap_size(cols, rows)
        return min(capped[0], self.cols), min(capped[1], self.rows)

    def check(self, knock: Knock) -> Refusal | None:
        knock.size = self.cap(*knock.size)  # the visit keeps what was asked, to say it was capped
        return None


@dataclass
class OneSimulatorPerConnection:
    """One simulator per connection (SSH can open several sessions on one)."""

    stage: Stage = Stage.SEAT

    def check(self, knock: Knock) -> Refusal | None:
        if knock.holds_simulator:
            return Refusal("One simulator per connection: this connection already has one.", "a second simulator")
        return None


@dataclass
class RoomSeats:
    """Followers watching shared views: a connection and a screen's bytes each, in all and per address."""

    tally: Counts
    addresses: Addresses
    max_seats: int
    stage: Stage = Stage.SEAT

    def check(self, knock: Knock) -> Refusal | None:
        if not knock.shared:
            return None
        if self.tally.seats >= self.max_seats:
            return _limit(refusal(f"the room is full ({self.max_seats} followers watching)", "--max-seats"))
        why = self.addresses.seat_refusal(knock.address)
        return _limit(why) if why is not None else None


@dataclass
class Simulators:
    """Simulators (a process of ~30 MB and its CPU each), in all and per address."""

    tally: Counts
    addresses: Addresses
    max_sessions: int
    stage: Stage = Stage.SEAT

    def check(self, knock: Knock) -> Refusal | None:
        if knock.shared:
            return None
        if self.tally.simulators >= self.max_sessions:
            return _limit(refusal(f"knobtui is full ({self.max_sessions} simulators running)", "--max-sessions"))
        why = self.addresses.simulator_refusal(knock.address)
        return _limit(why) if why is not None else None


class Door:
    """The gates, in order, and the one `admit()` both doors call."""

    def __init__(self, gates: Sequence[Gate], delay: float = 1.0,
                 rare: Callable[[str, str], None] | None = None) -> None:
        self.gates: list[Gate] = list(gates)
        self.delay = delay  # seconds before a wrong presenter password is answered
        self._rare = rare  # a refused connection is logged, at most now and then per address

    def admit(self, knock: Knock, stage: Stage) -> Refusal | None:
        """Run `stage`'s gates in order: the first refusal, or None (the knock goes on to the next stage)."""
        for gate in self.gates:
            if gate.stage is stage:
                refused = gate.check(knock)
                if refused is not None:
                    if stage is Stage.CONNECT and self._rare is not None:
                        self._rare(f"refused {knock.address}", f"refused {clean(knock.address)}: {refused.why}")
                    return refused
        return None

    def seat(self, knock: Knock) -> Refusal | Admitted:
        """The last stage: a refusal, or what the visit is (a seat in a shared view, a simulator of its own)."""
        refused = self.admit(knock, Stage.SEAT)
        if refused is not None:
            return refused
        term = knock.usable_term or knock.term or ""
        return SeatInView(term, knock.size) if knock.shared else OwnSimulator(term, knock.size)

    def presenter_key(self, knock: Knock, key: object) -> bool:
        """Whether an SSH key makes this knock the presenter (the PresenterLogin gate's keys)."""
        return any(isinstance(g, PresenterLogin) and g.key(knock, key) for g in self.gates)

    async def login(self, knock: Knock, answer: str) -> Refusal | None:
        """The presenter's prompt answered: None (knock.presenter says presenter or follower), or a refusal,
        given only after the delay (a wrong guess costs time)."""
        knock.answer = answer
        try:
            refused = self.admit(knock, Stage.LOGIN)
        finally:
            knock.answer = None
        if refused is not None:
            await asyncio.sleep(self.delay)
        return refused

    def cap(self, cols: int, rows: int) -> tuple[int, int]:
        """A resize held to the size cap (the SizeCap gate's, when there is one)."""
        for gate in self.gates:
            if isinstance(gate, SizeCap):
                return gate.cap(cols, rows)
        return cap_size(cols, rows)


def standard_gates(tally: Counts, addresses: Addresses, *, ceiling: int, max_seats: int, max_sessions: int,
                   password: str, keys: KeyList | None, auth: AuthPolicy, log: Callable[[str], None],
                   rare: Callable[[str, str], None]) -> list[Gate]:
    """`knobtui serve`'s gates, in order."""
    return [
        RatePerAddress(addresses),
        OpenConnections(tally, ceiling),
        PresenterLogin(addresses, password, keys, auth, log, rare),
        TerminalType(),
        SizeCap(),
        OneSimulatorPerConnection(),
        RoomSeats(tally, addresses, max_seats),
        Simulators(tally, addresses, max_sessions),
    ]
