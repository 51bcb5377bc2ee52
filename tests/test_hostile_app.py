"""A visitor's simulator against what a visitor can send it: bytes that are not UTF-8, keys faster than the
palette, markup in anything typed or read from a file, a crash, a history without end, and a presenter
who reconnects. The terminal cases run `python -m knobtui` on a real pseudo-terminal."""

from __future__ import annotations

import fcntl
import os
import pty
import random
import re
import select
import signal
import stat
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Callable
from pathlib import Path

import pyte
import pytest

from appkit import start_at
from test_screens import screen_lines
from knobtui.learning import Scene, Session, get_preset
from knobtui.lessons import load_lesson
from knobtui.presenter.protocol import LinkConfig
from knobtui.wire import HANGUP_STATUS, Resume, State
from knobtui.records import book_line
from knobtui.tui.app import SPEEDS, KnobApp
from knobtui.tui.crash import APOLOGY
from knobtui.tui.limits import SERVED, Limits
from knobtui.tui.widgets import IterationLog, KnobPanel, LessonPanel

SIZE = (100, 30)


# ---- a real terminal -------------------------------------------------------------------------------

class PtyApp:
    """A program on a pseudo-terminal of its own (its controlling terminal), read through pyte."""

    def __init__(self, argv: list[str], cwd: Path, env: dict[str, str] | None = None,
                 size: tuple[int, int] = SIZE) -> None:
        cols, rows = size
        self.screen = pyte.Screen(cols, rows)
        self.stream = pyte.ByteStream(self.screen)
        self.raw = bytearray()
        full_env = {**os.environ, "TERM": "xterm-256color", "LANG": "C.UTF-8", "XDG_CONFIG_HOME": str(cwd),
                    **(env or {})}
        for name in ("KNOBTUI_SERVED", "KNOBTUI_CRASH_LOG", "KNOBTUI_RELAY", "TEXTUAL_DRIVER"):
            if name not in (env or {}):
                full_env.pop(name, None)
        pid, fd = pty.fork()
        if pid == 0:  # the child: size its terminal before Textual asks, then become the program
            try:
                fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
                os.chdir(cwd)
                os.execvpe(argv[0], argv, full_env)
            finally:
                os._exit(127)
        self.pid, self.fd = pid, fd
        self.status: int | None = None

    def _read(self, timeout: float) -> bool:
        """Read what is there within `timeout`; False once the terminal has closed (or we hung it up)."""
        if self.fd < 0:
            time.sleep(timeout)
            return False
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if not ready:
            return True
        try:
            data = os.read(self.fd, 65536)
        except OSError:  # EIO: the child has gone and its side of the terminal with it
            return False
        if not data:
            return False
        self.raw += data
        self.stream.feed(data)
        return True

    def text(self) -> str:
        return "\n".join(self.screen.display)

    def wait_for(self, pattern: str | re.Pattern[str], timeout: float = 30.0) -> str:
        found = (lambda t: pattern.search(t)) if isinstance(pattern, re.Pattern) else (lambda t: pattern in t)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if found(self.text()):
                return self.text()
            if not self._read(0.05):
                break
        if found(self.text()):
            return self.text()
        raise AssertionError(f"{pattern!r} never appeared; the terminal showed:\n{self.text()}\n"
                             f"last bytes: {bytes(self.raw[-600:])!r}")

    def wait_until(self, holds: Callable[[str], bool], timeout: float = 30.0) -> str:
        """Wait until the screen's text satisfies `holds` (e.g. something has gone from it)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if holds(self.text()):
                return self.text()
            if not self._read(0.05):
                break
        if holds(self.text()):
            return self.text()
        raise AssertionError(f"the screen never changed as expected; the terminal showed:\n{self.text()}")

    def write(self, data: bytes) -> None:
        os.write(self.fd, data)  # one write: the program reads it as one packet

    def alive(self) -> bool:
        if self.status is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.status = os.waitstatus_to_exitcode(status)
        return self.status is None

    def exit_code(self, timeout: float = 30.0) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._read(0.05)
            if not self.alive():
                while self._read(0.05) and select.select([self.fd], [], [], 0)[0]:
                    pass  # what it wrote last
                assert self.status is not None
                return self.status
        raise AssertionError(f"the program did not exit; the terminal showed:\n{self.text()}")

    def after_exit(self) -> str:
        """What the program wrote after leaving the alternate screen, without escape codes."""
        raw = bytes(self.raw)
        tail = raw[raw.rindex(b"\x1b[?1049l"):] if b"\x1b[?1049l" in raw else raw
        return re.sub(rb"\x1b(\[[0-9;?<>=]*[ -/]*[@-~]|[()][0-9A-B]|[=>])", b"", tail).decode("utf-8", "replace")

    def hang_up(self) -> None:
        """Close our side of the terminal, as a dropped SSH connection or a closed window does."""
        os.close(self.fd)
        self.fd = -1

    def close(self) -> None:
        if self.alive():
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
            self.status = -9
        if self.fd >= 0:
            os.close(self.fd)


@pytest.fixture
def terminal(tmp_path: Path):  # type: ignore[no-untyped-def]
    started: list[PtyApp] = []

    def start(argv: list[str] | None = None, env: dict[str, str] | None = None) -> PtyApp:
        app = PtyApp(argv or [sys.executable, "-m", "knobtui"], tmp_path, env)
        started.append(app)
        return app

    yield start
    for app in started:
        app.close()


def test_bytes_that_are_not_utf8_do_not_end_the_app(terminal) -> None:  # type: ignore[no-untyped-def]
    """A Latin-1 é (0xE9) and random high bytes: the app keeps running and answers the next keys."""
    app = terminal()
    app.wait_for("iteration 0 ")
    app.write(b"\xe9")
    app.write(b"n")  # the byte after it completes the bad sequence: Textual's strict decoder raised here
    app.wait_for("no lesson is running")
    rng = random.Random(1)
    app.write(bytes(rng.randrange(128, 256) for _ in range(256)))
    app.write(b"\xff\xfe\xc3\x28\xe2\x82\xf0\x28\x8c\x28 ")
    app.wait_for(re.compile(r"iteration 1 "))
    app.write(b" ")
    app.wait_for(re.compile(r"iteration 2 "))
    assert app.alive()


def test_ctrl_p_and_two_enters_in_one_packet_do_not_end_the_app(terminal) -> None:  # type: ignore[no-untyped-def]
    """Ctrl+P, Enter, Enter in one read used to select twice and pop the last screen (ScreenStackError)."""
    app = terminal()
    app.wait_for("iteration 0 ")
    for packet in (b"\x10\r\r", b"\x10\r\r\r", b"\x10\x1b\r\r"):
        app.write(packet)
        # The palette may be open still, may have run its first command (autoplay faster), or may have
        # opened and closed before it was ever drawn (both Enters read before its list came): any of them
        # is fine. What matters is that the app is alive and takes keys after it, checked next.
        for _ in range(20):  # space either types into the palette, if it is still open, or steps
            if "Search for commands" in app.text():
                app.write(b"\x1b")
                app.wait_until(lambda text: "Search for commands" not in text)
                continue
            app.write(b" ")
            try:
                app.wait_for(re.compile(r"iteration [1-9]"), timeout=1.5)
                break
            except AssertionError:
                assert app.alive(), app.after_exit()
        app.wait_for(re.compile(r"iteration [1-9]"))
        app.write(b"r")
        app.wait_for("iteration 0 ")
    assert app.alive()


IGNORING_SIGHUP = """
import signal, sys
signal.signal(signal.SIGHUP, signal.SIG_IGN)  # as `nohup` leaves it, and every process it starts
from knobtui.cli import main
sys.exit(main([]))
"""


def test_a_terminal_that_hangs_up_ends_the_app_even_with_sighup_ignored(terminal) -> None:  # type: ignore[no-untyped-def]
    """With SIGHUP ignored (inherited from `nohup knobtui serve`), a hung-up terminal used to leave the
    simulator reading end-of-file in a loop at a full core, for ever: it now ends, with status 129."""
    app = terminal([sys.executable, "-c", IGNORING_SIGHUP])
    app.wait_for("iteration 0 ")
    app.write(b" ")
    app.wait_for("iteration 1 ")
    app.hang_up()
    assert app.exit_code() == HANGUP_STATUS


def stopped(pid: int) -> bool:
    """The process is stopped (its state in /proc is T)."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "T"


def test_a_stop_from_outside_is_not_a_new_screen(terminal) -> None:  # type: ignore[no-untyped-def]
    """SIGSTOP and SIGCONT from another process (the server holds a shared view's renderer so while the
    presenter's key is drawn): the terminal was never taken away, so the app draws on with no new screen.
    Textual's own answer to SIGCONT set the terminal up again and drew it whole."""
    app = terminal()
    app.wait_for("iteration 0 ")
    os.kill(app.pid, signal.SIGSTOP)
    deadline = time.monotonic() + 30
    while not stopped(app.pid) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert stopped(app.pid)
    mark = len(app.raw)
    os.kill(app.pid, signal.SIGCONT)
    app.write(b" ")
    app.wait_for("iteration 1 ")
    after = bytes(app.raw[mark:])
    assert b"\x1b[?1049h" not in after and b"\x1b[2J" not in after, after[:300]


def test_input_that_ends_ends_the_app(tmp_path: Path) -> None:
    """`true | knobtui`: the screen is a terminal, the keyboard a pipe that has ended. The app leaves the
    alternate screen and exits with status 129 rather than waiting for keys that cannot come."""
    main, other = pty.openpty()
    fcntl.ioctl(other, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    env = {**os.environ, "TERM": "xterm-256color", "XDG_CONFIG_HOME": str(tmp_path)}
    env.pop("TEXTUAL_DRIVER", None)
    proc = subprocess.Popen([sys.executable, "-m", "knobtui"], stdin=subprocess.DEVNULL, stdout=other,
                            stderr=other, env=env, cwd=tmp_path)
    os.close(other)
    seen = bytearray()
    deadline = time.monotonic() + 30
    try:
        while (proc.poll() is None and time.monotonic() < deadline) or select.select([main], [], [], 0)[0]:
            if select.select([main], [], [], 0.1)[0]:
                try:
                    seen += os.read(main, 65536)
                except OSError:
                    break
        try:  # its terminal may read as closed a moment before the process is gone
            status = proc.wait(timeout=max(1.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            raise AssertionError("the app went on waiting for keys after its input ended") from None
        assert status == HANGUP_STATUS
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(main)
    assert b"\x1b[?1049l" in seen  # it put the terminal back


CRASHING = """
import sys
from knobtui.tui.app import KnobApp

def action_step(self):
    visitor_typed = "a local a visitor must not see"
    raise RuntimeError("a deliberate bug for the test")

KnobApp.action_step = action_step
from knobtui.cli import main
sys.exit(main([]))
"""


def test_a_crash_over_serve_is_an_apology_and_the_details_go_to_the_log(terminal, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """KNOBTUI_SERVED=1: two short lines, exit 1; the traceback is appended to KNOBTUI_CRASH_LOG (0600)."""
    script = tmp_path / "crashing.py"
    script.write_text(CRASHING)
    private = tmp_path / "server-private"
    private.mkdir(mode=0o700)
    log = private / "crash.log"
    app = terminal([sys.executable, str(script)], {"KNOBTUI_SERVED": "1", "KNOBTUI_CRASH_LOG": str(log)})
    app.wait_for("iteration 0 ")
    app.write(b" ")
    assert app.exit_code() == 1
    shown = app.after_exit()
    assert shown.strip().splitlines() == APOLOGY.strip().splitlines()
    for secret in ("Traceback", "site-packages", "locals", "deliberate", "a local a visitor"):
        assert secret not in shown
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    details = log.read_text()
    assert "Traceback (most recent call last)" in details
    assert "RuntimeError: a deliberate bug for the test" in details
    assert "a local a visitor must not see" in details  # Textual's report, with locals, for the operator

    again = terminal([sys.executable, str(script)], {"KNOBTUI_SERVED": "1", "KNOBTUI_CRASH_LOG": str(log)})
    again.wait_for("iteration 0 ")
    again.write(b" ")
    assert again.exit_code() == 1
    assert log.read_text().startswith(details) and log.read_text().count("--- knobtui crashed") == 2  # appended


def test_a_crash_at_home_keeps_textuals_report(terminal, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Without KNOBTUI_SERVED nothing changes: Textual's traceback on the terminal, no log, exit 1."""
    script = tmp_path / "crashing.py"
    script.write_text(CRASHING)
    app = terminal([sys.executable, str(script)], {"KNOBTUI_CRASH_LOG": str(tmp_path / "crash.log")})
    app.wait_for("iteration 0 ")
    app.write(b" ")
    assert app.exit_code() == 1
    shown = app.after_exit()
    assert "Traceback" in shown and "a deliberate bug for the test" in shown and "knobtui hit a bug" not in shown
    assert not (tmp_path / "crash.log").exists()


# ---- markup ----------------------------------------------------------------------------------------

def shown(widget) -> str:  # type: ignore[no-untyped-def]
    """A widget's lines as the screen shows them, joined, with runs of spaces as one."""
    return " ".join(" ".join(widget.render_line(y).text for y in range(widget.size.height)).split())


MARKUP = ["[/x]", "[@click=app.quit]ZZZ[/]", "[bold]x\\", "[link=https://example.com]y[/link]", "[", "\\[/]"]


@pytest.mark.parametrize("typed", MARKUP)
async def test_markup_typed_into_the_knob_editor_is_shown_as_typed(typed: str) -> None:
    app = KnobApp(start_at("gradient"))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter")
        editor = app.query_one(KnobPanel).query_one("Input")
        editor.value = ""
        await pilot.press(*typed)
        assert editor.value == typed
        assert editor.render_line(0).text.strip() in typed  # as typed (a long entry scrolls)
        await pilot.press("enter")
        await pilot.pause()
        message = app.query_one("#knob-message")
        squeezed = "".join(shown(message).split())  # a long entry wraps anywhere in the narrow panel
        assert "".join(f"weight: {typed!r} is not a number; kept 0.5".split()) in squeezed
        assert typed in app.query_one("#status").render_line(0).text or app.stage.note[0].endswith("kept 0.5")
        await pilot.press("escape", "space")
        assert app.session.iteration == 1  # alive, and keys reach the app again


async def test_a_click_on_typed_action_markup_does_nothing() -> None:
    """`[@click=app.quit]ZZZ[/]` in a refusal is text: clicking on ZZZ does not quit."""
    app = KnobApp(start_at("gradient"))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter")
        app.query_one(KnobPanel).query_one("Input").value = "[@click=app.quit]ZZZ[/]"
        await pilot.press("enter")
        await pilot.pause()
        message = app.query_one("#knob-message")
        where = [(y, message.render_line(y).text.find("ZZZ")) for y in range(message.size.height)]
        y, x = next((y, x) for y, x in where if x >= 0)
        await pilot.click(message, offset=(x + 1, y))
        await pilot.pause()
        assert app.is_running and app.return_code is None


async def test_a_lesson_files_markup_is_shown_as_written(tmp_path: Path) -> None:
    """Title and notes come from someone's file: shown literally, never run as markup."""
    lesson_file = tmp_path / "mine.toml"
    lesson_file.write_text('title = "[b]Mine[/b] [/x]"\n\n[[step]]\nnote = "[@click=app.quit]click me[/] [/y] done"\n')
    lesson = load_lesson(str(lesson_file))
    app = KnobApp(start_at("gradient"), lesson=lesson)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        panel = app.query_one(LessonPanel)
        assert "[@click=app.quit]click me[/] [/y] done" in shown(panel)
        assert any("[b]Mine[/b] [/x] · step 1 of 1" in line for line in screen_lines(app))  # its border
        await pilot.click(panel, offset=(3, 1))
        assert app.is_running


async def test_a_resumed_rooms_names_are_shown_as_text() -> None:
    """A preset name and lesson heading that arrive over the relay are not markup either."""
    app = KnobApp(start_at("gradient"), link=LinkConfig("/nonexistent/relay.sock", "presenter", "token"))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: "relay" in app.stage.link_status)
        room = Session(get_preset("gradient").knobs, "gradient")
        room.run(2)
        app.presenting.on_message(Resume(scene={"recipe": room.recipe(), "preset": "[/x]", "hidden": [],
                                                "lesson_heading": "[@click=app.quit]h[/]", "lesson_note": "[/n]"}))
        await pilot.pause()
        lines = screen_lines(app)
        assert any("preset [/x]" in line for line in lines)  # the knob panel's lower border
        assert any("[@click=app.quit]h[/]" in line for line in lines)  # the lesson panel's upper border
        assert "[/n]" in shown(app.query_one(LessonPanel))
        assert app.session.iteration == 2


# ---- the history has a ceiling over serve ------------------------------------------------------------

async def until(pilot, condition, tries: int = 200) -> None:  # type: ignore[no-untyped-def]
    for _ in range(tries):
        if condition():
            return
        await pilot.pause(0.02)
    raise AssertionError("the condition never held")


def test_served_limits_come_from_the_environment() -> None:
    assert Limits.from_env({"KNOBTUI_SERVED": "1"}) == SERVED
    assert SERVED.max_history == 200_000 and SERVED.export_files == 20 and SERVED.export_bytes == 20_000_000
    assert Limits.from_env({}) == Limits.from_env({"KNOBTUI_SERVED": "0"}) == Limits()
    assert Limits().history_room(10**9) is None


async def test_stepping_and_fast_forward_stop_at_the_ceiling_and_keep_the_state() -> None:
    """At the ceiling space, f and p are refused with the limit named, whole on an 80-column status line."""
    app = KnobApp(start_at("hot-cold", step_amount=1e-9), limits=Limits(max_history=200_000))
    app.session.fast_forward(199_990)
    full = "the limit here is 200,000 iterations; r resets"
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f")
        assert app.session.iteration == 200_000
        assert app.stage.note == (full, "warning")
        assert full in app.query_one("#status").render_line(0).text
        before = list(app.session.weights())
        for key in ("space", "f", "p"):
            await pilot.press(key)
            assert app.session.iteration == 200_000 and app.stage.playing == ""
            assert app.stage.note == (full, "warning")
        assert full in app.query_one("#status").render_line(0).text
        assert list(app.session.weights()) == before
        assert app.query_one(IterationLog).last_iteration == 200_000
        await pilot.press("b", "space")
        assert app.session.iteration == 200_000
        await pilot.press("r", "space")
        assert app.session.iteration == 1


async def test_autoplay_stops_at_the_ceiling() -> None:
    app = KnobApp(start_at("hot-cold", step_amount=1e-9), limits=Limits(max_history=120))
    async with app.run_test(size=SIZE) as pilot:
        for _ in range(len(SPEEDS)):
            await pilot.press("plus")
        await pilot.press("p")
        await until(pilot, lambda: not app.stage.playing)
        assert app.session.iteration == 120
        assert app.stage.note == ("the limit here is 120 iterations; r resets", "warning")
        log = app.query_one(IterationLog)
        assert log.lines[-1] == f"120 {book_line(app.session.record(120))}"


async def test_a_follower_does_not_follow_past_its_ceiling() -> None:
    app = KnobApp(start_at("gradient"), limits=Limits(max_history=10))
    async with app.run_test(size=SIZE) as pilot:
        presenter = Session(get_preset("hot-cold").knobs, "hot-cold")
        presenter.run(11)
        problem = app.become(Scene(presenter.recipe(), "hot-cold"))
        await pilot.pause()
        assert app.session.iteration == 0 and app.session.method == "gradient"
        assert problem is not None and problem.startswith("iteration 11 is past the 10")


# ---- a presenter who reconnects resumes the room -------------------------------------------------------

async def test_a_reconnecting_presenter_adopts_the_rooms_state_once() -> None:
    room = Session(get_preset("gradient").knobs, "gradient")
    room.run(9)
    room.set_knobs(alpha=0.5)
    room.run(3)
    app = KnobApp(start_at("gradient"), link=LinkConfig("/nonexistent/relay.sock", "presenter", "token"))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: "relay" in app.stage.link_status)  # no relay here: the messages come from the test
        app.presenting.on_message(Resume(scene={"recipe": room.recipe(), "preset": "gradient", "hidden": ["goal"]}))
        await pilot.pause()
        assert app.session.iteration == 12 and app.session.knobs.alpha == 0.5
        assert list(app.session.records()) == list(room.records())
        assert app.stage.hidden == frozenset({"goal"})
        assert app.stage.link_status == "presenting (resumed at iteration 12)"
        assert "presenting (resumed at iteration 12)" in app.query_one("#status").render_line(0).text
        log = app.query_one(IterationLog)
        assert log.lines[-1] == f"12 {book_line(room.record(12))}"
        fresh = Session(get_preset("gradient").knobs, "gradient")
        app.presenting.on_message(State(scene={"recipe": fresh.recipe(), "preset": "gradient", "hidden": []}))
        await pilot.pause()
        assert app.session.iteration == 12  # once: after that the presenter's keys are the room's state
        await pilot.press("space")
        assert app.session.iteration == 13


async def test_a_presenter_resumes_a_lesson_at_the_rooms_step() -> None:
    lesson = load_lesson("chapter4")
    room = KnobApp(start_at("gradient"), lesson=lesson)
    async with room.run_test(size=SIZE) as pilot:
        room.show_lesson_step(3)
        await pilot.pause()
        state = {"recipe": room.session.recipe(), "preset": room.preset, "hidden": sorted(room.stage.hidden),
                 "lesson_heading": room.stage.lesson_heading, "lesson_note": room.stage.lesson_note}
    app = KnobApp(start_at("gradient"), lesson=lesson, link=LinkConfig("/nonexistent/relay.sock", "presenter", "token"))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: "relay" in app.stage.link_status)
        app.presenting.on_message(Resume(scene=state))
        await pilot.pause()
        assert app.stage.lesson_heading.endswith(f"step 4 of {len(lesson.steps)}")
        await pilot.press("n")
        assert app.stage.lesson_heading.endswith(f"step 5 of {len(lesson.steps)}")
