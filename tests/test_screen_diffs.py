"""A shared view sends diffs of its screen model (serve/screen.py, serve/room.py): what every follower's terminal
shows, read back with pyte, is the renderer's screen as a terminal would show it (pyte fed the renderer's own
bytes), after every step of a random key sequence; a follower that stalls catches up with one diff.

The renderer is a real knobtui on a real pseudo-terminal; only the followers' connections are stand-ins
(an object with a pyte screen), since what is checked is what the server writes, not how it travels."""

from __future__ import annotations

import asyncio
import os
import random
import sys
import time
from pathlib import Path

import pyte
import pytest

from knobtui.serve import room as room_module
from knobtui.serve.child import Child, python_command, start_direct
from knobtui.serve.room import View, ViewKey
from knobtui.serve.screen import Mirror, Screen, blank, diff

KEYS = [b"", b"b ", b"m", b"\x1b[A", b"\x1b[B", b"\x1b[C", b"\x1b[D", b"f", b"t"]
"""A step, back (and a step), the method, knobs up/down and nudged, fast-forward, the theme; each followed by a
step (space), so the iteration moves on and every step of the sequence changes the screen."""


def cells(screen: pyte.Screen) -> list[list[tuple[object, ...]]]:
    return [[(c.data, c.fg, c.bg, c.bold, c.italics, c.underscore, c.reverse, c.strikethrough)
             for c in (screen.buffer[y][x] for x in range(screen.columns))] for y in range(screen.lines)]


class Follower:
    """A follower's terminal: what the view writes, read by pyte."""

    def __init__(self, cols: int, rows: int) -> None:
        self.screen = pyte.Screen(cols, rows)
        self.stream = pyte.ByteStream(self.screen)
        self.stalled = False
        self.writes: list[bytes] = []

    def view_ready(self) -> bool:
        return not self.stalled

    def view_write(self, data: bytes) -> None:
        assert not self.stalled
        self.writes.append(data)
        self.stream.feed(data)

    def view_lost(self) -> None:
        raise AssertionError("the renderer ended")

    def view_own(self) -> None:
        return None


def _differences(a: pyte.Screen, b: pyte.Screen) -> list[tuple[int, int, object, object]]:
    ca, cb = cells(a), cells(b)
    return [(y, x, ca[y][x], cb[y][x]) for y in range(a.lines) for x in range(a.columns) if ca[y][x] != cb[y][x]]


async def _settled(view: View, oracle: pyte.Screen, followers: list[Follower], timeout: float = 30.0) -> None:
    """Wait until the view has sent its newest frame and every live follower shows the renderer's screen."""
    deadline = time.monotonic() + timeout
    while True:
        live = [f for f in followers if not f.stalled]
        if view._flush is None and all(not _differences(f.screen, oracle) for f in live):
            return
        if time.monotonic() > deadline:
            bad = next(f for f in live if _differences(f.screen, oracle))
            raise AssertionError(f"a follower differs from the renderer: {_differences(bad.screen, oracle)[:5]}")
        await asyncio.sleep(0.02)


@pytest.mark.parametrize("size", [(80, 24), (160, 50)])
async def test_every_follower_shows_the_renderers_screen_after_every_step(
        size: tuple[int, int], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cols, rows = size
    oracle = pyte.Screen(cols, rows)
    oracle_stream = pyte.ByteStream(oracle)
    real_read = room_module.read_pty

    def tee(fd: int) -> bytes | None:  # the renderer's bytes as a terminal of its own would get them
        data = real_read(fd)
        if data:
            oracle_stream.feed(data)
        return data

    monkeypatch.setattr(room_module, "read_pty", tee)
    children: list[Child] = []

    async def start(key: ViewKey) -> Child:
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "TERM": "xterm-256color", "LANG": "C.UTF-8",
               "HOME": str(tmp_path), "TEXTUAL_FPS": "240"}
        child = start_direct(python_command("-m", "knobtui", "--preset", "hot-cold"), env, key.cols, key.rows,
                             str(tmp_path))
        children.append(child)
        return child

    view = View(ViewKey(cols, rows, "xterm-256color"), start, lambda v: None, lambda line: None)
    early = Follower(cols, rows)
    view.join(early)
    try:
        deadline = time.monotonic() + 60
        while "weight" not in "\n".join(oracle.display) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        await _settled(view, oracle, [early])
        late, slow = Follower(cols, rows), Follower(cols, rows)
        view.join(late)  # a newcomer: the whole screen from the model
        view.join(slow)
        crowd = [Follower(cols, rows) for _ in range(32)]  # a frame goes out over turns of the room's pump
        for follower in crowd:
            view.join(follower)
        followers = [early, late, slow, *crowd]
        rng = random.Random(26)
        assert children[0].fd >= 0

        sent: list[bytes] = []

        async def step() -> None:
            shown = cells(oracle)
            sent.append(rng.choice(KEYS) + b" ")
            os.write(children[0].fd, sent[-1])
            async def drawn() -> None:  # the renderer drew the step: its cells changed
                while cells(oracle) == shown:
                    await asyncio.sleep(0.02)

            try:
                await asyncio.wait_for(drawn(), 30)  # a cap on a hung renderer, not a timing check
            except TimeoutError:
                raise AssertionError(f"no step drawn after {sent}:\n" + "\n".join(oracle.display)) from None
            await _settled(view, oracle, followers)

        for _ in range(6):
            await step()
        slow.stalled = True  # its connection backs up: skipped from now on, for 5 s of steps
        stalled_at, since = len(slow.writes), time.monotonic()
        while time.monotonic() - since < 5:
            await step()
        assert len(slow.writes) == stalled_at and _differences(slow.screen, oracle)  # it missed frames
        slow.stalled = False
        view.drained(slow)
        assert len(slow.writes) == stalled_at + 1  # one diff ...
        assert not _differences(slow.screen, oracle)  # ... to the newest screen
        for _ in range(6):
            await step()
        assert view.frames > 10
    finally:
        await view.close()


async def test_a_frame_goes_out_a_turn_of_the_pump_at_a_time_and_a_held_view_waits() -> None:
    """A frame goes out on the room's pump (room.Pump), a piece of work a turn of the event loop at the least
    (here exactly one: a turn of 0 s), so a presenter's key waits for one turn, not the whole view; a held view
    (the presenter's key being drawn) sends the rest only once it goes on, and a newer frame that came due
    meanwhile reaches everybody, those the last never reached included."""
    never: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def start(key: ViewKey) -> object:
        await never  # no renderer: the test feeds the view's screen model itself
        raise OSError("the test is over")

    async def turns(n: int) -> None:  # turns of the event loop, no timers: call_soon's work is done
        for _ in range(n):
            await asyncio.sleep(0)

    view = View(ViewKey(80, 24, "xterm-256color"), start, lambda v: None, lambda line: None,  # type: ignore[arg-type]
                pump=room_module.Pump(turn=0.0))
    crowd = [Follower(80, 24) for _ in range(21)]
    for follower in crowd:
        view.join(follower)

    def reached(text: str, row: int = 0) -> int:
        return sum(f.screen.display[row].startswith(text) for f in crowd)

    try:
        view.screen.feed(b"\x1b[1;1Hweight 0.5")
        view.frame()
        assert reached("weight 0.5") == 0  # nothing at once: the frame is the pump's
        await turns(1)
        assert 1 <= reached("weight 0.5") < len(crowd)  # a follower a turn
        await turns(len(crowd) + 2)
        assert reached("weight 0.5") == len(crowd)
        assert len({f.writes[-1] for f in crowd}) == 1  # one diff, shared

        view.screen.feed(b"\x1b[1;8H0.6")
        view.frame()
        await turns(3)
        part = reached("weight 0.6")
        assert 0 < part < len(crowd)
        view.hold()
        await turns(len(crowd) + 2)
        assert reached("weight 0.6") == part  # held: no follower more, however many turns
        view.screen.feed(b"\x1b[2;1Hiteration 1")
        view.frame()  # due while held: it waits too
        await turns(len(crowd) + 2)
        assert reached("iteration 1", 1) == 0
        view.go()
        await turns(len(crowd) + 2)
        assert reached("weight 0.6") == len(crowd)  # the rest of the held frame
        deadline = time.monotonic() + 30  # the frame that came due: once the renderer has been quiet a moment
        while reached("iteration 1", 1) < len(crowd) and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        assert reached("iteration 1", 1) == len(crowd)
        assert len({f.writes[-1] for f in crowd}) == 1  # one diff, shared
    finally:
        never.set_result(None)
        await view.close()


async def test_the_pump_takes_the_views_in_turn_and_stands_still_while_paused() -> None:
    """Every view of a room shares one pump: a turn does one view's work, then the next's (a presenter's key
    waits for one turn whatever the number of views), every view moves on, and nothing moves while the pump is
    paused (Room.hold), however many turns pass."""
    never: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def start(key: ViewKey) -> object:
        await never
        raise OSError("the test is over")

    async def turns(n: int) -> None:
        for _ in range(n):
            await asyncio.sleep(0)

    pump = room_module.Pump(turn=0.0)
    views = [View(ViewKey(80, 24, "xterm-256color"), start, lambda v: None, lambda line: None,  # type: ignore[arg-type]
                  pump=pump) for _ in range(3)]
    crowds = [[Follower(80, 24) for _ in range(5)] for _ in views]
    for view, crowd in zip(views, crowds):
        for follower in crowd:
            view.join(follower)

    def reached() -> list[int]:
        return [sum(f.screen.display[0].startswith("weight 0.5") for f in crowd) for crowd in crowds]

    try:
        pump.pause()
        for view in views:
            view.screen.feed(b"\x1b[1;1Hweight 0.5")
            view.frame()
        await turns(20)
        assert reached() == [0, 0, 0] and len(pump) == 3  # paused: every view waits
        pump.go()
        await turns(len(views))
        assert 1 <= sum(reached()) <= len(views) + 1 and max(reached()) <= 2  # a piece a turn, view after view
        await turns(2 * len(views))
        assert min(reached()) >= 1  # every view moved on
        await turns(20)
        assert reached() == [5, 5, 5] and len(pump) == 0
    finally:
        never.set_result(None)
        for view in views:
            await view.close()


def test_a_follower_far_behind_gets_one_diff_smaller_than_the_frames_it_missed() -> None:
    """Frames as knobtui drew them (a step at a time): a diff from the first screen to the last is one write
    and smaller than the frames in between, and it reproduces the last screen exactly."""
    rng = random.Random(5)
    cols, rows = 40, 12
    oracle, model = pyte.Screen(cols, rows), Screen(cols, rows)
    stream = pyte.ByteStream(oracle)
    stream.feed(b"\x1b[?7l")  # no line wrap, as a follower's terminal is told (room.ENTER_VIEW)
    frames = []
    for _ in range(50):  # random cells in random colours, as a program would draw them
        parts = []
        for _ in range(rng.randint(1, 20)):
            parts.append(f"\x1b[{rng.randint(1, rows)};{rng.randint(1, cols)}H\x1b[0;38;5;{rng.randint(0, 255)}m"
                         + rng.choice(["x", "ab", "⣀⠉", "─┬─", " "]) * rng.randint(1, 3))
        frames.append("".join(parts).encode())
    start = model.snapshot()
    for frame in frames:
        stream.feed(frame)
        model.feed(frame)
    behind = pyte.Screen(cols, rows)
    one, _ = diff(start, model.snapshot())
    pyte.ByteStream(behind).feed(one)
    assert not _differences(behind, oracle)
    assert len(one) < sum(len(f) for f in frames)
    assert start == blank(cols, rows)


if sys.platform != "linux":  # pragma: no cover
    pytestmark = pytest.mark.skip("pseudo-terminals as on Linux")


def test_a_visitors_own_simulator_goes_through_a_mirror_that_keeps_what_is_not_screen() -> None:
    """Before the app's alternate screen everything passes as it came; on it, modes, queries, titles and the
    bell pass in their place and the screen goes as changes; a resize writes the next screen whole."""
    mirror = Mirror(20, 4)
    assert mirror.feed(b"\x1b[?2026$pstarting\r\n") == b"\x1b[?2026$pstarting\r\n"
    out = mirror.feed(b"\x1b[?1049h\x1b[?1000h\x1b[1;1Hhello\x1b]0;title\x07\x1b[2;1Hworld\x07")
    assert out.startswith(b"\x1b[?1049h\x1b[?1000h")  # nothing drawn yet: nothing sent but the modes
    assert out.index(b"hello") < out.index(b"\x1b]0;title\x07") < out.index(b"world") < out.index(b"\x07", out.index(b"world"))
    terminal = pyte.Screen(20, 4)
    pyte.ByteStream(terminal).feed(b"\x1b[?7l" + out)
    assert terminal.display[:2] == ["hello".ljust(20), "world".ljust(20)]
    again = mirror.feed(b"\x1b[1;1Hhelp!")
    assert b"p!" in again and b"hel" not in again  # only what changed
    assert len(mirror.feed(b"\x1b[3;1Hx")) < 12
    mirror.resize(30, 5)
    whole = mirror.feed(b"\x1b[1;1Hhi")
    assert whole.count(b"H") >= 5  # every row written: what a resized terminal shows is not known
    assert mirror.feed(b"\x1b[?1049l\x1b[?25hbye\r\n") == b"\x1b[?1049l\x1b[?25hbye\r\n"
