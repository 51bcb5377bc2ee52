"""End to end in a real terminal: the installed `knobtui` in tmux, keys in, screen out."""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from harness import Tmux, knobtui_command

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed (.ci/run installs it)")


@pytest.fixture
def term(tmp_path: Path):  # type: ignore[no-untyped-def]
    t = Tmux(tmp_path)
    yield t
    t.close()


def wait_gone(term: Tmux, text: str, timeout: float = 15.0) -> None:
    """Wait until the screen no longer holds `text`."""
    deadline = time.monotonic() + timeout
    while text in term.screen():
        if time.monotonic() > deadline:
            raise AssertionError(f"{text!r} never went away; the screen was:\n{term.screen()}")
        time.sleep(0.05)


def test_book_numbers_appear_and_q_exits_0(term: Tmux) -> None:
    """Step gradient descent twice: the book's lines appear; q quits with status 0."""
    term.start(knobtui_command() + ["--preset", "gradient"])
    term.wait_for("iteration 0 ")
    term.wait_for("0.30250000000000005")  # the arithmetic shows the next error already
    term.keys("Space")
    term.wait_for_row(1, "0.30250000000000005", "0.25", "0.775")
    term.keys("Space")
    term.wait_for_row(2, "0.17015625000000004", "0.3875")
    screen = term.wait_for("iteration 2")
    assert "learning" in screen
    term.keys("b")
    term.wait_for("iteration 1 ")
    term.keys("q")
    assert term.exit_status() == 0


def test_hot_cold_fast_forward_and_help(term: Tmux) -> None:
    """f on the hot-cold preset says converged at iteration 1101; ? opens help; q quits."""
    term.start(knobtui_command() + ["--preset", "hot-cold"])
    term.wait_for("iteration 0 ")
    term.keys("f")
    term.wait_for("converged at iteration 1101")
    term.wait_for("1.0799505792475652e-27")
    term.keys("?")
    term.wait_for("How one weight learns")
    term.keys("Escape")
    wait_gone(term, "How one weight learns")  # help has closed: a q now is a key of its own, not Alt+q
    term.keys("q")
    assert term.exit_status() == 0


def test_small_terminal_80x24(tmp_path: Path) -> None:
    """At 80x24 every panel is on screen."""
    t = Tmux(tmp_path, 80, 24)
    try:
        t.start(knobtui_command() + ["--preset", "watch-four"])
        t.wait_for("iteration 0 ")
        t.keys("Space")
        t.wait_for_row(1, "0.6400000000000001", "0.0")
        for part in ("Knobs", "error", "weight", "Iterations", "gradient descent", "step", "enter"):
            t.wait_for(part, timeout=5)
        t.keys("q")
        assert t.exit_status() == 0
    finally:
        t.close()


def test_bad_option_exits_2_before_any_screen() -> None:
    r = subprocess.run(knobtui_command() + ["--alpha", "nan"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and "alpha" in r.stderr and "nan" in r.stderr
    assert "\x1b[" not in r.stdout + r.stderr  # no screen was drawn


def test_linux_console_without_colour_is_ascii_and_readable(term: Tmux) -> None:
    """TERM=linux and NO_COLOR: plain ASCII (automatic), no colour codes needed to tell rising from falling."""
    term.start(["env", "TERM=linux", "NO_COLOR=1"] + knobtui_command() + ["--preset", "divergence"])
    term.wait_for("iteration 0 ")
    term.keys("Space", "Space", "Space")
    screen = term.wait_for_row(3, "3.2399999999999984", "2.5999999999999996")
    assert re.search(r"2\^\s+0\.3599999999999998", screen)  # rising error marked without colour
    term.wait_for("diverging")
    screen = term.screen()
    assert all(ord(ch) < 128 for ch in screen if ch not in "—"), [ch for ch in screen if ord(ch) >= 128][:10]
    term.keys("q")
    assert term.exit_status() == 0


def test_too_small_terminal_shows_a_notice(tmp_path: Path) -> None:
    t = Tmux(tmp_path, 50, 15)
    try:
        t.start(knobtui_command())
        t.wait_for("60 x 20")
        t.wait_for("enlarge the")
        t.keys("q")
        assert t.exit_status() == 0
    finally:
        t.close()


@pytest.mark.parametrize("term_name", ["screen", "tmux-256color", "xterm-16color"])
def test_other_terminal_types(tmp_path: Path, term_name: str) -> None:
    """screen, tmux and 16-colour terminals: the book's numbers show and q exits 0."""
    t = Tmux(tmp_path)
    try:
        t.start(["env", f"TERM={term_name}"] + knobtui_command() + ["--preset", "from-zero"])
        t.wait_for("iteration 0 ")
        t.keys("Space")
        t.wait_for_row(1, "0.6400000000000001", "0.0", "0.4")
        t.keys("q")
        assert t.exit_status() == 0
    finally:
        t.close()


def _canvas_rows(screen: str) -> int:
    """Rows between the curve's legend (the row that starts with its axis title) and its x axis."""
    lines = screen.splitlines()
    legend = next(n for n, line in enumerate(lines) if re.search(r"[│|] error ", line) or " error " in line[:40])
    axis = next(n for n, line in enumerate(lines) if n > legend and ("└" in line))
    return axis - legend - 1


@pytest.mark.parametrize("size,least", [((80, 24), 8), ((100, 30), 14)], ids=["80x24", "100x30"])
def test_the_curve_has_room(tmp_path: Path, size: tuple[int, int], least: int) -> None:
    """The error curve's canvas: at least 8 rows at 80x24 and 14 at 100x30, every panel still there."""
    t = Tmux(tmp_path, *size)
    try:
        t.start(knobtui_command() + ["--preset", "gradient"])
        t.wait_for("iteration 0 ")
        t.keys("Space")
        screen = t.wait_for_row(1, "0.30250000000000005", "0.25")
        assert _canvas_rows(screen) >= least, screen
        for part in ("Knobs", "Arithmetic", "Iterations", "gradient descent", "weight = 0.775 - 1.0 * -0.20625000000000002 = 0.9812500000000001"):
            assert part in screen, part
        t.keys("q")
        assert t.exit_status() == 0
    finally:
        t.close()


def test_keys_reach_the_end_of_help_and_the_start_of_the_log(tmp_path: Path) -> None:
    """At 80x24, with no mouse: End reaches help's last row; Home takes the log back to iteration 1."""
    t = Tmux(tmp_path, 80, 24)
    try:
        t.start(knobtui_command() + ["--preset", "gradient"])
        t.wait_for("iteration 0 ")
        t.keys("?")
        t.wait_for("How one weight learns")
        t.keys("End")
        t.wait_for("command palette")
        t.keys("Escape")
        t.wait_for("iteration 0 ")
        t.keys("f")
        t.wait_for("converged at iteration 39")
        t.wait_for_row(39, "9.668996360515884e-11")
        t.keys("Home")
        t.wait_for_row(1, "0.30250000000000005", "0.25")
        t.keys("PageDown", "PageDown", "End")
        t.wait_for_row(39, "9.668996360515884e-11")
        t.keys("q")
        assert t.exit_status() == 0
    finally:
        t.close()
