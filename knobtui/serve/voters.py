"""Who answers the room's questions: an opaque voter id per follower, the same when they reconnect.

A follower is known by what their door can tell: over SSH, the name they connected with and their
address; in a browser, a random cookie the page was given. Two people who share both (a class behind
one NAT, all typing `ssh guest@...`) are told apart by seat: each connection takes the first seat of
that identity no open connection holds, so a reconnect takes its own seat back (and its answer with it)
while two at once hold two seats. Voter ids are random (with a bus: an HMAC keyed by the room's secret,
so the same seat on any node is the same voter): no name or address reaches the relay, the bus, the
simulators or the presenter.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable


class Voters:
    """Seats per identity, and the voter id of each seat."""

    def __init__(self) -> None:
        self._seats: dict[str, list[object | None]] = {}  # identity -> who holds each seat now (None: free)
        self._ids: dict[tuple[str, int], str] = {}
        self.key: Callable[[], str | None] = lambda: None
        """A room served by several nodes (serve/bus.py) keys voter ids with the room's secret, so a
        follower who reconnects to another node is the same voter there; without one, ids are random."""

    def _new_id(self, identity: str, n: int) -> str:
        key = self.key()
        if key is None:
            return secrets.token_hex(12)
        return hmac.new(key.encode(), f"{identity}\0{n}".encode(), hashlib.sha256).hexdigest()[:24]

    def seat(self, identity: str, holder: object) -> str:
        """The voter id for `holder` (a visit), which connected as `identity`."""
        seats = self._seats.setdefault(identity, [])
        n = next((i for i, who in enumerate(seats) if who is None), len(seats))
        if n == len(seats):
            seats.append(holder)
        else:
            seats[n] = holder
        if (identity, n) not in self._ids:
            self._ids[(identity, n)] = self._new_id(identity, n)
        return self._ids[(identity, n)]

    def prune(self) -> None:
        """Forget identities nobody holds now (called when a question is over: their answers no longer
        matter, and names cannot pile up for the life of the server)."""
        for identity, seats in list(self._seats.items()):
            if all(who is None for who in seats):
                del self._seats[identity]
                for n in range(len(seats)):
                    self._ids.pop((identity, n), None)

    def leave(self, identity: str, holder: object) -> None:
        """`holder` is gone: its seat is free for whoever connects as `identity` next."""
        seats = self._seats.get(identity, [])
        for i, who in enumerate(seats):
            if who is holder:
                seats[i] = None
