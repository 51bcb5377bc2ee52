"""A lecture hall: many followers share a few renderers (knobtui/serve/room.py), over real SSH on loopback."""

from __future__ import annotations

import asyncio
import os
import re
from pathlib import Path

import asyncssh
import pytest

from harness import Server, Visitor
from knobtui.serve.room import view_size

SIZES = [(80, 24), (100, 30), (120, 40), (132, 43), (200, 60)]  # 132x43 shares the 120x40 view
PER_SIZE = 3  # followers at each size: enough to share a view (the bench, not this test, counts to hundreds)


@pytest.fixture
def hall(tmp_path: Path, presenter_key: asyncssh.SSHKey):  # type: ignore[no-untyped-def]
    keys = tmp_path / "presenter_keys"
    keys.write_bytes(presenter_key.export_public_key())
    srv = Server(tmp_path, "--presenter-key", str(keys), "--rate-limit", "1000", "--max-per-address", "100")
    yield srv
    srv.stop()


async def teacher(srv: Server, key: asyncssh.SSHKey) -> Visitor:
    v = await Visitor.open(srv.port, 100, 30, username="teacher", client_keys=[key])
    await v.wait_for("presenting")
    return v


def iteration(v: Visitor) -> int:
    m = re.search(r"iteration (\d+) ", v.text())
    return int(m.group(1)) if m else -1


async def test_followers_at_five_sizes_follow_on_four_renderers(
        hall: Server, presenter_key: asyncssh.SSHKey) -> None:
    t = await teacher(hall, presenter_key)
    people = PER_SIZE * len(SIZES)
    room = await asyncio.gather(*(Visitor.open(hall.port, *SIZES[i % len(SIZES)]) for i in range(people)))
    try:
        await asyncio.gather(*(v.wait_for("following the presenter", timeout=60) for v in room))
        await t.wait_for(f"presenting to {people} followers")  # people, not the 4 renderers that draw for them
        for n in range(1, 6):
            t.press(b" ")
            await t.wait_for(f"iteration {n} ")
        await asyncio.gather(*(v.wait_for("iteration 5 ", timeout=60) for v in room))
        def view_of(v: Visitor) -> str:  # what the shared renderer draws: the top-left of a bigger terminal
            cols, rows = view_size(v.screen.columns, v.screen.lines)
            return "\n".join(line[:cols] for line in v.screen.display[:rows])

        for size in SIZES:  # followers at one size come to one screen, cell for cell the same
            for _ in range(200):
                screens = {view_of(v) for i, v in enumerate(room) if SIZES[i % len(SIZES)] == size}
                if len(screens) == 1:
                    break
                await asyncio.sleep(0.05)
            assert len(screens) == 1, size
        kids = hall.children()
        assert len(kids) == 1 + 4, (kids, hall.lines[-8:])  # the presenter's simulator and four renderers
        assert len([line for line in hall.lines if "shared view" in line]) == 4
        wide = room[SIZES.index((132, 43))]
        assert wide.text().splitlines()[0][120:].strip() == ""  # the rest of a bigger terminal is blank
    finally:
        for v in (t, *room):
            v.close()


def priority(pid: int) -> tuple[int, int, str]:
    """A process's nice value, scheduling policy and scheduling group (autogroup) line."""
    nice = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[16])
    try:
        group = Path(f"/proc/{pid}/autogroup").read_text().strip()
    except OSError:
        group = "(no autogroup)"
    return nice, os.sched_getscheduler(pid), group


@pytest.mark.parametrize("start", ["warm", "cold"])
async def test_a_renderer_yields_the_cpu_to_the_presenters_simulator_and_both_run_the_servers_code(
        tmp_path: Path, presenter_key: asyncssh.SSHKey, start: str) -> None:
    """A shared view's renderer runs at nice 19, in a scheduling group at nice 19, at SCHED_IDLE (a waking
    presenter takes its CPU at once), started either way; the presenter's simulator at the server's own. Both
    run the knobtui the server runs: a PYTHONPATH the server has reaches them (and nothing else of its own)."""
    keys = tmp_path / "presenter_keys"
    keys.write_bytes(presenter_key.export_public_key())
    code = str(Path(__file__).resolve().parents[2])  # this checkout: the same code, named by PYTHONPATH
    srv = Server(tmp_path, "--presenter-key", str(keys), *(["--cold-start"] if start == "cold" else []),
                 env={"PYTHONPATH": code, "KNOBTUI_SERVERS_OWN": "x"})
    t = follower = None
    try:
        t = await teacher(srv, presenter_key)
        follower = await Visitor.open(srv.port, 80, 24)
        await follower.wait_for("following the presenter", timeout=60)
        found = [re.search(r"shared view 80x24 .*pid=(\d+)", line) for line in srv.lines]
        renderer = next(int(m.group(1)) for m in found if m)
        presenter = next(pid for pid, _ in srv.children() if pid != renderer)
        nice, policy, group = priority(renderer)
        assert (nice, policy) == (19, os.SCHED_IDLE), (nice, policy)
        assert group == "(no autogroup)" or group.endswith(" nice 19"), group
        nice, policy, group = priority(presenter)
        assert (nice, policy) == (os.nice(0), os.SCHED_OTHER), (nice, policy)
        assert not group.endswith(" nice 19"), group
        for pid in (renderer, presenter):
            environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
            assert f"PYTHONPATH={code}".encode() in environ, environ
            assert not any(v.startswith(b"KNOBTUI_SERVERS_OWN=") for v in environ), environ
    finally:
        for v in (t, follower):
            if v is not None:
                v.close()
        srv.stop()


async def test_a_follower_joining_a_view_midway_sees_the_current_state(
        hall: Server, presenter_key: asyncssh.SSHKey) -> None:
    t = await teacher(hall, presenter_key)
    first = await Visitor.open(hall.port, 80, 24)
    try:
        await first.wait_for("following the presenter")
        t.press(b"   ")
        await first.wait_for("iteration 3 ")
        late = await Visitor.open(hall.port, 80, 24)  # the same view, already drawn: a full repaint
        await late.wait_for("iteration 3 ")
        await late.wait_for("following the presenter")
        assert len(hall.children()) == 2
        late.close()
    finally:
        t.close()
        first.close()


async def test_d_and_F_in_a_shared_view(hall: Server, presenter_key: asyncssh.SSHKey) -> None:
    t = await teacher(hall, presenter_key)
    student, neighbour = await Visitor.open(hall.port, 80, 24), await Visitor.open(hall.port, 80, 24)
    try:
        await student.wait_for("following the presenter")
        t.press(b"  ")
        await student.wait_for("iteration 2 ")
        student.press(b"d")  # a private simulator, from the presenter's state
        await student.wait_for("playing alone")
        await student.wait_for("iteration 2 ")
        student.press(b"   ")
        await student.wait_for("iteration 5 ")
        t.press(b" ")
        await neighbour.wait_for("iteration 3 ")  # the room goes on; the neighbour's view is untouched
        student.press(b" ")
        await student.wait_for("iteration 6 ")  # its own next iteration: the room's state was not taken
        student.press(b"F")  # back to the room's shared view
        await student.wait_for("following the presenter")
        await student.wait_for("iteration 3 ")
        t.press(b" ")
        await asyncio.gather(student.wait_for("iteration 4 "), neighbour.wait_for("iteration 4 "))
        student.press(b"q")
        assert await student.exit_status() == 0
    finally:
        for v in (t, student, neighbour):
            v.close()


async def test_a_stalled_follower_in_a_shared_view_holds_back_nobody(
        hall: Server, presenter_key: asyncssh.SSHKey) -> None:
    t = await teacher(hall, presenter_key)
    stalled, reading = await Visitor.open(hall.port, 120, 40), await Visitor.open(hall.port, 120, 40)
    try:
        await asyncio.gather(stalled.wait_for("following"), reading.wait_for("following"))
        stalled.stop_reading()  # stops reading: its SSH window fills, the server skips it
        for n in range(1, 41):
            t.press(b" ")
            await reading.wait_for(f"iteration {n} ")  # every step reaches the follower that reads
        assert iteration(t) == 40
    finally:
        for v in (t, stalled, reading):
            v.close()
