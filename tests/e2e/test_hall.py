"""A lecture hall: many followers share a few renderers (knobtui/serve/room.py), over real SSH on loopback."""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Callable
from pathlib import Path

import asyncssh
import pyte
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


def state(pid: int) -> str:
    """The process's state letter in /proc (T: stopped)."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]


async def until(holds: Callable[[], object], what: str, tries: int = 600) -> None:
    for _ in range(tries):
        if holds():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"never: {what}")


class Watcher:
    """A follower of a shared view as the room sees one (room.Member), counting what it is sent."""

    def __init__(self) -> None:
        self.received = bytearray()

    def view_ready(self) -> bool:
        return True

    def view_write(self, data: bytes) -> None:
        self.received += data

    def view_lost(self) -> None:
        pass

    def view_own(self) -> None:
        return None


async def test_the_renderers_stand_still_while_the_presenters_key_is_drawn(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A presenter's key stops the room's renderers (a real simulator drawing a shared view) until the
    presenter's simulator has drawn and gone quiet, or at most KEY_HOLD_CAP; after a hold they run at least
    KEY_HOLD_REST before the next. A stopped renderer draws on from where it stood."""
    from knobtui.serve import hub as hubs
    from knobtui.serve.child import python_command, start_direct
    from knobtui.serve.room import Room, ViewKey

    hub = hubs.Hub(hubs.ServeOptions(presenter_password="secret", warm=False))
    started: list[int] = []

    async def start(key: ViewKey):  # type: ignore[no-untyped-def]
        env = {**hubs.same_code(), "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "TERM": key.term,
               "LANG": "C.UTF-8", "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path)}
        child = start_direct(python_command("-m", "knobtui"), env, key.cols, key.rows, str(tmp_path))
        started.append(child.pid)
        return child

    hub.room = Room(start, lambda line: None, lambda member: None)
    watcher = Watcher()
    view = hub.room.join(watcher, ViewKey.of((80, 24), {"TERM": "xterm-256color"}))
    try:
        await until(lambda: b"iteration" in watcher.received, "the renderer drew its first screen", 3000)
        pid = started[0]
        monkeypatch.setattr(hubs, "KEY_HOLD_REST", 0.0)
        monkeypatch.setattr(hubs, "KEY_HOLD_CAP", 3600.0)  # only the presenter's quiet lets them go
        hub.presenter_pressed()
        await until(lambda: state(pid) == "T", "the renderer stopped at the presenter's key")
        assert hub.room.held
        hub.presenter_drew()  # the presenter's frame: quiet for PRESENTER_QUIET after it, the renderer runs
        await until(lambda: state(pid) != "T" and not hub.room.held, "the renderer ran again")

        monkeypatch.setattr(hubs, "KEY_HOLD_CAP", 0.3)
        hub.presenter_pressed()
        await until(lambda: state(pid) == "T", "the renderer stopped")
        # The presenter's simulator never draws: the cap lets the renderer go all the same.
        await until(lambda: state(pid) != "T" and not hub.room.held, "the renderer ran again after the cap")

        hub.presenter_pressed()
        await until(lambda: state(pid) == "T", "the renderer stopped")

        async def drawing() -> None:  # the presenter's simulator never goes quiet (autoplay at full speed)
            while True:
                hub.presenter_drew()
                await asyncio.sleep(0.004)

        busy = asyncio.ensure_future(drawing())
        try:  # the cap lets the renderer go while the presenter still draws
            await until(lambda: state(pid) != "T" and not hub.room.held, "the renderer ran again while drawn over")
        finally:
            busy.cancel()

        # Stopped where it stood, it goes on from there: a key it is sent while held (a plain simulator here,
        # so a space steps) is drawn once it runs, and the view's follower gets the frame.
        hub.presenter_pressed()
        await until(lambda: state(pid) == "T", "the renderer stopped")
        os.write(view.child.fd, b" ")  # type: ignore[union-attr]
        await until(lambda: state(pid) != "T", "the renderer ran again after the cap")
        screen = pyte.Screen(80, 24)
        stream = pyte.ByteStream(screen)
        await until(lambda: (stream.feed(bytes(watcher.received)), watcher.received.clear(),
                             "iteration 1 " in "\n".join(screen.display))[2],
                    "the step reached the follower", 3000)

        monkeypatch.setattr(hubs, "KEY_HOLD_REST", 3600.0)  # after the next hold, a rest longer than the test
        hub.presenter_pressed()
        await until(lambda: state(pid) == "T", "the renderer stopped")
        hub.presenter_drew()
        await until(lambda: state(pid) != "T" and not hub.room.held, "the renderer ran again")
        hub.presenter_pressed()  # within KEY_HOLD_REST: the renderers are not held again
        assert not hub.room.held and state(pid) != "T"
    finally:
        hub.room.go()
        await hub.room.close()
        hub.close()

