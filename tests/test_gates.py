"""One door (serve/door.py): each gate alone, in the words the visitor reads, then `admit()` running them in
order. The limits count what costs and every refusal names what it counted and the option that raises it
(serve/gates.py); tests/e2e/test_door.py shows one gate change reaching both doors, SSH and web."""

from __future__ import annotations

from dataclasses import dataclass

from knobtui.serve.door import (Door, Knock, OneSimulatorPerConnection, OpenConnections, OwnSimulator, PresenterLogin,
                                RatePerAddress, Refusal, RoomSeats, SeatInView, Simulators, SizeCap, Stage,
                                TerminalType)
from knobtui.serve.gates import MAX_COLS, MAX_ROWS, Addresses, AuthPolicy
from knobtui.serve.hub import Hub, ServeOptions


@dataclass
class Tally:
    connections: int = 0
    seats: int = 0
    simulators: int = 0


class Visit:
    def __init__(self, address: str) -> None:
        self.address = address


def knock(address: str = "10.0.0.1", **fields: object) -> Knock:
    return Knock("ssh", address, "guest", **fields)  # type: ignore[arg-type]


def test_rate_per_address_counts_connections_a_minute_from_one_address() -> None:
    now = [0.0]
    gate = RatePerAddress(Addresses(rate_limit=3, max_per_address=40, clock=lambda: now[0]))
    assert [gate.check(knock()) for _ in range(3)] == [None] * 3
    refused = gate.check(knock())
    assert refused is not None and refused.words == (
        "more than 3 connections in a minute from your address; the presenter can raise --rate-limit")
    assert gate.check(knock("10.0.0.2")) is None  # another address has its own minute
    now[0] = 61.0
    assert gate.check(knock()) is None  # a minute later


def test_open_connections_holds_both_doors_to_one_ceiling() -> None:
    tally = Tally(connections=36)
    gate = OpenConnections(tally, ceiling=37)
    assert gate.check(knock()) is None
    tally.connections = 37
    refused = gate.check(knock())
    assert refused is not None and refused.words == (
        "37 connections are open; the presenter can raise --max-sessions or --max-seats")


def test_presenter_login_makes_a_presenter_follows_on_enter_and_counts_wrong_guesses() -> None:
    lines: list[str] = []
    policy = AuthPolicy(per_connection=2, per_address=3)
    gate = PresenterLogin(Addresses(600, 40, policy), "sesame", None, policy, lines.append,
                          lambda key, line: lines.append(line))
    assert gate.check(knock()) is None  # nothing asked: a follower
    who = knock(answer="")
    assert gate.check(who) is None and not who.presenter  # Enter follows, on an open server
    closed = knock(answer="", may_follow=False)
    assert isinstance(gate.check(closed), Refusal)  # a closed server has no Enter to follow
    who = knock(answer="sesame")
    assert gate.check(who) is None and who.presenter
    guess = knock(answer="open")
    first = gate.check(guess)
    assert first is not None and first.words == "That is not the presenter password." and not first.final
    second = gate.check(knock(answer="sesame!", failures=guess.failures))
    assert second is not None and second.final  # per_connection: the door closes
    assert "wrong presenter password from 10.0.0.1 user='guest' (attempt 1 on this connection)" in lines[0]
    # the address's third failure (the closed Enter, "open", "sesame!") locked it out
    locked = knock(answer="sesame")
    assert gate.check(locked) is not None and not locked.presenter  # locked: not even the password is checked
    assert any("locked" in line for line in lines)


def test_presenter_login_takes_the_presenters_keys_for_the_ssh_door() -> None:
    class Keys:
        def validate(self, key: object, host: str, addr: str) -> object | None:
            return "entry" if key == "presenter's" else None

    gate = PresenterLogin(Addresses(600, 40), "", Keys(), AuthPolicy(), print, lambda key, line: None)
    who = knock()
    assert gate.key(who, "presenter's") and who.presenter
    assert not gate.key(who, "a follower's") and not who.presenter  # the last key tried decides
    assert not Door([gate]).presenter_key(knock(), "someone's")


def test_terminal_type_turns_away_no_pty_and_dumb_terminals_and_mends_a_bad_name() -> None:
    gate = TerminalType()
    refused = gate.check(knock(term=None))
    assert refused is not None and refused.words.endswith("connect with ssh -t")
    refused = gate.check(knock(term="dumb"))
    assert refused is not None and "TERM=dumb does not" in refused.words and refused.why == "no usable terminal"
    mended = knock(term="x\x1b[31m")
    assert gate.check(mended) is None and mended.usable_term == "xterm-256color"
    kept = knock(term="screen.xterm-256color")
    assert gate.check(kept) is None and kept.usable_term == "screen.xterm-256color"


def test_size_cap_holds_a_huge_terminal_to_the_largest_a_simulator_gets() -> None:
    gate = SizeCap()
    huge = knock(size=(10000, 10000))
    assert gate.check(huge) is None  # held, never refused
    assert huge.size == (MAX_COLS, MAX_ROWS)
    usual = knock(size=(80, 24))
    assert gate.check(usual) is None and usual.size == (80, 24)
    assert SizeCap(100, 30).cap(0, 500) == (1, 30)


def test_one_simulator_per_connection() -> None:
    gate = OneSimulatorPerConnection()
    assert gate.check(knock()) is None
    refused = gate.check(knock(holds_simulator=True))
    assert refused is not None and refused.words == "One simulator per connection: this connection already has one."


def test_room_seats_count_followers_in_all_and_per_address() -> None:
    tally, addresses = Tally(), Addresses(600, 40, max_seats_per_address=2)
    gate = RoomSeats(tally, addresses, max_seats=3)
    assert gate.check(knock(shared=False)) is None  # a simulator is not its business
    addresses.get("10.0.0.1").seats = 2
    refused = gate.check(knock(shared=True))
    assert refused is not None and refused.words == (
        "\r\nSorry: 2 followers from your address are already watching the shared view; the presenter can raise "
        "--max-seats-per-address.")
    assert gate.check(knock("10.0.0.2", shared=True)) is None
    tally.seats = 3
    refused = gate.check(knock("10.0.0.2", shared=True))
    assert refused is not None and refused.why == (
        "the room is full (3 followers watching); the presenter can raise --max-seats")


def test_simulators_count_processes_in_all_and_per_address() -> None:
    tally, addresses = Tally(), Addresses(600, max_per_address=1)
    gate = Simulators(tally, addresses, max_sessions=2)
    assert gate.check(knock(shared=True)) is None  # a seat runs no simulator
    addresses.get("10.0.0.1").simulators = 1
    refused = gate.check(knock())
    assert refused is not None and refused.why == (
        "1 simulators are already running for your address (a follower in the shared view runs none); "
        "the presenter can raise --max-per-address")
    tally.simulators = 2
    refused = gate.check(knock("10.0.0.3"))
    assert refused is not None and refused.why == (
        "knobtui is full (2 simulators running); the presenter can raise --max-sessions")


class Counting:
    """A gate that lets everyone in and counts who it saw."""

    def __init__(self, stage: Stage) -> None:
        self.stage, self.seen = stage, 0

    def check(self, knock: Knock) -> Refusal | None:
        self.seen += 1
        return None


def test_admit_runs_a_stages_gates_in_order_and_stops_at_the_first_refusal() -> None:
    before, after = Counting(Stage.SEAT), Counting(Stage.SEAT)
    connect = Counting(Stage.CONNECT)
    door = Door([connect, before, OneSimulatorPerConnection(), after])
    assert door.admit(knock(holds_simulator=True), Stage.CONNECT) is None and connect.seen == 1
    refused = door.seat(knock(holds_simulator=True, term="xterm"))
    assert isinstance(refused, Refusal) and (before.seen, after.seen, connect.seen) == (1, 0, 1)
    door = Door([TerminalType(), SizeCap()])
    assert door.seat(knock(term="xterm", size=(900, 30), shared=True)) == SeatInView("xterm", (MAX_COLS, 30))
    assert door.seat(knock(term="xterm", size=(80, 24))) == OwnSimulator("xterm", (80, 24))


def test_the_hubs_door_holds_every_limit_and_counts_what_each_visit_holds() -> None:
    hub = Hub(ServeOptions(max_sessions=2, max_per_address=1, max_seats=3, max_seats_per_address=2, rate_limit=50))
    try:
        def seat(address: str, shared: bool) -> Refusal | OwnSimulator | SeatInView:
            return hub.door.seat(Knock("web", address, term="xterm-256color", shared=shared))

        a, b = Visit("10.0.0.1"), Visit("10.0.0.2")
        hub.take_slot(a, seat=False)
        assert isinstance(seat("10.0.0.1", False), Refusal)
        assert isinstance(seat("10.0.0.1", True), SeatInView)  # a seat is not a simulator
        hub.take_slot(b, seat=False)
        for v in [Visit("10.0.0.4"), Visit("10.0.0.4"), Visit("10.0.0.5")]:
            assert isinstance(seat(v.address, True), SeatInView)
            hub.take_slot(v, seat=True)
        refused = seat("10.0.0.6", True)
        assert isinstance(refused, Refusal) and refused.why.startswith("the room is full (3 followers watching)")
        hub.connections = ServeOptions(max_sessions=2, max_seats=3).max_connections
        refused = hub.door.admit(Knock("ssh", "10.0.0.9"), Stage.CONNECT)
        assert refused is not None and refused.words.startswith("37 connections are open")
    finally:
        hub.close()


def test_the_defaults_let_a_class_of_300_in_from_one_address() -> None:
    options = ServeOptions()
    assert options.max_seats_per_address >= 300 and options.max_seats >= 300 and options.rate_limit >= 300
    assert options.max_connections >= options.max_seats + options.max_sessions
