"""The server's limits count what costs and every refusal names what it counted and the option that raises it
(serve/gates.py, serve/hub.py); the doors' own tests (tests/e2e/test_class.py, test_hostile.py, test_serve.py)
show the same sentences reaching real SSH clients."""

from __future__ import annotations

from knobtui.serve.gates import Addresses
from knobtui.serve.hub import Hub, ServeOptions


class Visit:
    def __init__(self, address: str) -> None:
        self.address = address


def test_every_limit_names_its_count_and_its_option() -> None:
    hub = Hub(ServeOptions(max_sessions=2, max_per_address=1, max_seats=3, max_seats_per_address=2, rate_limit=50))
    try:
        a, b = Visit("10.0.0.1"), Visit("10.0.0.2")
        hub.take_slot(a, seat=False)
        assert hub.slot_refusal("10.0.0.1", seat=False) == (
            "1 simulators are already running for your address (a follower in the shared view runs none); "
            "the presenter can raise --max-per-address")
        assert hub.slot_refusal("10.0.0.1", seat=True) is None  # a seat is not a simulator
        hub.take_slot(b, seat=False)
        assert hub.slot_refusal("10.0.0.3", seat=False) == (
            "knobtui is full (2 simulators running); the presenter can raise --max-sessions")
        seats = [Visit("10.0.0.1"), Visit("10.0.0.1")]
        for v in seats:
            assert hub.slot_refusal(v.address, seat=True) is None
            hub.take_slot(v, seat=True)
        assert hub.slot_refusal("10.0.0.1", seat=True) == (
            "2 followers from your address are already watching the shared view; the presenter can raise "
            "--max-seats-per-address")
        hub.take_slot(Visit("10.0.0.4"), seat=True)
        assert hub.slot_refusal("10.0.0.5", seat=True) == (
            "the room is full (3 followers watching); the presenter can raise --max-seats")
        hub.free_slot(seats[0], seat=True)
        assert hub.slot_refusal("10.0.0.1", seat=True) is None and hub.seats == 2 and hub.simulators == 2
        hub.connections = ServeOptions(max_sessions=2, max_seats=3).max_connections
        assert hub.connection_refusal("10.0.0.9") == (
            "37 connections are open; the presenter can raise --max-sessions or --max-seats")
    finally:
        hub.close()


def test_the_rate_limit_counts_connections_a_minute_from_one_address() -> None:
    now = [0.0]
    addresses = Addresses(rate_limit=3, max_per_address=40, clock=lambda: now[0])
    assert [addresses.connection("10.0.0.1") for _ in range(3)] == [None] * 3
    assert addresses.connection("10.0.0.1") == (
        "more than 3 connections in a minute from your address; the presenter can raise --rate-limit")
    assert addresses.connection("10.0.0.2") is None  # another address has its own minute
    now[0] = 61.0
    assert addresses.connection("10.0.0.1") is None  # a minute later


def test_the_defaults_let_a_class_of_300_in_from_one_address() -> None:
    options = ServeOptions()
    assert options.max_seats_per_address >= 300 and options.max_seats >= 300 and options.rate_limit >= 300
    assert options.max_connections >= options.max_seats + options.max_sessions
