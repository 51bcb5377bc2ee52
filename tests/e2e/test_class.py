"""A class behind one address: seats in the shared view are counted apart from simulators, each with its own
cap, and every refusal names what it counted and the option that raises it (over real SSH on loopback)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncssh

from conftest import presenter_server
from harness import Server, Visitor


async def _teacher(srv: Server, key: asyncssh.SSHKey) -> Visitor:
    t = await Visitor.open(srv.port, 100, 30, username="teacher", client_keys=[key])
    await t.wait_for("presenting")
    return t


async def test_seats_are_not_simulators_and_have_their_own_cap(tmp_path: Path, presenter_key: asyncssh.SSHKey) -> None:
    """--max-per-address 1 (the presenter's simulator) does not keep followers out; --max-seats-per-address does,
    and `d` (a simulator of one's own) meets --max-per-address with a sentence on the follower's own line."""
    srv = presenter_server(tmp_path, presenter_key, "--max-per-address", "1", "--max-seats-per-address", "2")
    people: list[Visitor] = []
    try:
        people.append(await _teacher(srv, presenter_key))
        for _ in range(2):
            people.append(await Visitor.open(srv.port, 80, 24))
            await people[-1].wait_for("following the presenter")
        late = await Visitor.open(srv.port, 200, 24)  # wide enough for the sentence on one line
        people.append(late)
        await late.wait_for("2 followers from your address are already watching the shared view; "
                            "the presenter can raise --max-seats-per-address")
        assert await late.exit_status() == 1
        people[1].press(b"d")
        await people[1].wait_for("1 simulators are already running for your address")
        await people[1].wait_for("the presenter can raise --max-per-address")
        assert srv.log_has("the presenter can raise --max-per-address")
        assert len(srv.children()) == 2  # the presenter's simulator and one renderer: no second simulator
        people[1].press(b" ")  # any key: the notice goes, the shared view comes back whole
        await people[1].wait_for("following the presenter")
    finally:
        for v in people:
            v.close()
        srv.stop()


async def test_the_room_has_a_cap_of_its_own(tmp_path: Path, presenter_key: asyncssh.SSHKey) -> None:
    srv = presenter_server(tmp_path, presenter_key, "--max-seats", "1")
    people: list[Visitor] = []
    try:
        people.append(await _teacher(srv, presenter_key))
        people.append(await Visitor.open(srv.port, 80, 24))
        await people[-1].wait_for("following the presenter")
        people.append(await Visitor.open(srv.port, 200, 24))
        await people[-1].wait_for("the room is full (1 followers watching); the presenter can raise --max-seats")
        assert await people[-1].exit_status() == 1
    finally:
        for v in people:
            v.close()
        srv.stop()


async def test_300_followers_from_one_address_join_with_the_defaults(
        tmp_path: Path, presenter_key: asyncssh.SSHKey) -> None:
    keys = tmp_path / "presenter_keys"
    keys.write_bytes(presenter_key.export_public_key())
    srv = Server(tmp_path, "--presenter-key", str(keys))  # no other option: the defaults
    people: list[Visitor] = []
    try:
        people.append(await _teacher(srv, presenter_key))
        for _ in range(6):  # a class arriving: 50 at a time, all from 127.0.0.1
            people += await asyncio.gather(*(Visitor.open(srv.port, 80, 24) for _ in range(50)))
        await asyncio.gather(*(v.wait_for("following the presenter", timeout=180) for v in people[1:]))
        await people[0].wait_for("presenting to 300 followers", timeout=60)
        assert not [line for line in srv.lines if "turned away" in line]
    finally:
        for v in people:
            v.close()
        srv.stop()
