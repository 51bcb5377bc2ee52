"""Pilot tests of the screens a learner opens: help by keys, screenshots of help and compare, exported
files' permissions, and ASCII mode on every screen."""

from __future__ import annotations

import html
import os
import re
import stat
from pathlib import Path

import pytest
from textual.command import CommandList, CommandPalette
from textual.widgets import Markdown

from appkit import make_app, start_at
from knobtui.records import write_new_file
from knobtui.tui.app import KnobApp
from knobtui.tui.screens.help import HelpScreen

SMALL = (80, 24)
SMALLEST = (60, 20)
"""The smallest terminal the simulator lays itself out in (below it: a notice to enlarge)."""

_TEXT = re.compile(r'<text[^>]*?x="([\d.]+)"[^>]*?clip-path="url\(#[\w-]*line-(\d+)\)"[^>]*>([^<]*)</text>')
_CELL = 12.2  # the width of one cell in Rich's SVG export


def screen_lines(app: KnobApp) -> list[str]:
    """What the terminal shows, line by line, read back from the app's SVG screenshot."""
    rows: dict[int, dict[int, str]] = {}
    for x, line, content in _TEXT.findall(app.export_screenshot()):
        rows.setdefault(int(line), {})[round(float(x) / _CELL)] = html.unescape(content).replace("\xa0", " ")
    lines = []
    for n in range(max(rows, default=-1) + 1):
        text = ""
        for column, part in sorted(rows.get(n, {}).items()):
            text = text.ljust(column) + part.rstrip("\n")
        lines.append(text)
    return lines


def not_ascii(lines: list[str]) -> list[str]:
    """Each line holding a character above 127, with those characters and their columns."""
    return [f"line {n}: {line!r} has {[(col, ch) for col, ch in enumerate(line) if ord(ch) > 127]}"
            for n, line in enumerate(lines) if any(ord(ch) > 127 for ch in line)]


def at_once(app: KnobApp) -> KnobApp:
    """Scrolling lands at once (Textual's animation level "none", as TEXTUAL_ANIMATIONS=none sets it): where the keys
    take the screen is under test here, not the glide there, which `settle` would otherwise wait out."""
    app.animation_level = "none"
    return app


async def settle(pilot) -> None:  # type: ignore[no-untyped-def]
    await pilot.pause()
    await pilot.wait_for_scheduled_animations()
    await pilot.pause()


def last_key_row(app: KnobApp) -> tuple[str, str]:
    """The last row of help's key table, from the Markdown it shows: (key, the first word of what it does)."""
    source = app.screen.query_one("#help-text").query_one(Markdown).source
    row = [line for line in source.splitlines() if line.startswith("|")][-1]
    key, does = (cell.strip() for cell in row.strip().strip("|").split("|"))
    return key.strip("`"), does.split()[0]


def shows_last_key_row(app: KnobApp) -> bool:
    """The help box (not the screen under it) shows the key table's last row."""
    region = app.screen.query_one("#help-text").content_region
    inside = [line[region.x:region.right] for line in screen_lines(app)[region.y:region.bottom]]
    key, word = last_key_row(app)
    pattern = re.compile(rf"(^|[\s|\u2502]){re.escape(key)}[\s|\u2502]+{re.escape(word)}")
    return any(pattern.search(line) for line in inside)


class TestHelpByKeys:
    """Help scrolls by keys the moment it opens: no Tab, no mouse (over SSH there is none)."""

    async def test_end_reaches_the_key_tables_last_row(self) -> None:
        """End shows the last row of the key table at 80x24; Home goes back to the top."""
        app = at_once(make_app("gradient"))
        async with app.run_test(size=SMALL) as pilot:
            await pilot.press("question_mark")
            await settle(pilot)
            box = app.screen.query_one("#help-text")
            assert box.max_scroll_y > 0  # the help does not fit: this test means something
            assert not shows_last_key_row(app)
            await pilot.press("end")
            await settle(pilot)
            assert box.scroll_y == box.max_scroll_y
            assert shows_last_key_row(app)
            await pilot.press("home")
            await settle(pilot)
            assert box.scroll_y == 0
            await pilot.press("down")
            await settle(pilot)
            assert box.scroll_y == 1
            await pilot.press("up")
            await settle(pilot)
            assert box.scroll_y == 0

    async def test_page_down_reaches_the_key_tables_last_row(self) -> None:
        """PageDown pages through the whole help to the key table's last row; PageUp comes back."""
        app = at_once(make_app("gradient"))
        async with app.run_test(size=SMALL) as pilot:
            await pilot.press("question_mark")
            await settle(pilot)
            box = app.screen.query_one("#help-text")
            pages = 0
            while box.scroll_y < box.max_scroll_y and pages < 50:
                before = box.scroll_y
                await pilot.press("pagedown")
                await settle(pilot)
                assert box.scroll_y > before
                pages += 1
            assert pages >= 2 and box.scroll_y == box.max_scroll_y
            assert shows_last_key_row(app)
            await pilot.press("pageup")
            await settle(pilot)
            assert box.scroll_y < box.max_scroll_y

    @pytest.mark.parametrize("key", ["escape", "question_mark", "q"])
    async def test_closing_keys_still_close(self, key: str) -> None:
        """Escape, ? and q close the help (q does not quit from there)."""
        app = at_once(make_app("gradient"))
        async with app.run_test(size=SMALL) as pilot:
            main = app.screen
            await pilot.press("question_mark")
            await settle(pilot)
            assert isinstance(app.screen, HelpScreen)
            await pilot.press(key)
            await settle(pilot)
            assert app.screen is main
            assert app.is_running


class TestScreenshots:
    """s saves the screen on top as an SVG: help and compare are the ones worth a slide."""

    @pytest.mark.parametrize(("key", "box"), [("question_mark", "#help-text"), ("c", "CompareScreen > TitledBox")])
    async def test_s_saves_the_screen_on_top(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             key: str, box: str) -> None:
        """The SVG holds that screen's title, and the screen stays open."""
        monkeypatch.chdir(tmp_path)
        app = make_app("gradient")
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.press(key)
            await settle(pilot)
            screen = app.screen
            title = str(screen.query_one(box).border_title)
            await pilot.press("s")
            await settle(pilot)
            assert app.screen is screen
        files = list(tmp_path.iterdir())
        assert [p.name for p in files] == ["knobtui-gradient-001.svg"]
        svg = files[0].read_text()
        assert svg.startswith("<svg")
        assert title in html.unescape(svg).replace("\xa0", " ")


class TestPermissions:
    """Exported files get the user's usual permissions: 0666 less the umask, not mkstemp's 0600."""

    @pytest.mark.parametrize("umask", [0o022, 0o027, 0o002], ids=oct)
    def test_new_file_mode_follows_the_umask(self, tmp_path: Path, umask: int) -> None:
        old = os.umask(umask)
        try:
            path = write_new_file(tmp_path, "x", "txt", "hello\n")
        finally:
            os.umask(old)
        assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask
        assert path.read_text() == "hello\n"

    async def test_exports_and_screenshots_follow_the_umask(self, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.chdir(tmp_path)
        old = os.umask(0o027)
        try:
            app = make_app("gradient")
            async with app.run_test(size=(100, 30)) as pilot:
                await pilot.press("space", "e", "E", "s")
                await settle(pilot)
        finally:
            os.umask(old)
        files = sorted(tmp_path.iterdir())
        assert [p.suffix for p in files] == [".csv", ".jsonl", ".svg"]
        assert {stat.S_IMODE(p.stat().st_mode) for p in files} == {0o640}


async def _palette_open(pilot) -> None:  # type: ignore[no-untyped-def]
    await pilot.press("ctrl+p")
    for _ in range(100):  # the palette gathers its commands in a worker: wait until they are listed
        await settle(pilot)
        if CommandPalette.is_open(pilot.app) and pilot.app.screen.query_one(CommandList).option_count:
            return
    raise AssertionError("the command palette did not list its commands")


async def _notified(pilot) -> None:  # type: ignore[no-untyped-def]
    """A notification of each severity (toasts each have their own bar), the last one on screen."""
    for severity in ("information", "warning", "error"):
        pilot.app.notify(f"an {severity} note", title=severity.title(), severity=severity)
    for _ in range(100):
        await settle(pilot)
        if any("an error note" in line for line in screen_lines(pilot.app)):
            return
    raise AssertionError("the notifications did not show")


async def _keys_panel(pilot) -> None:  # type: ignore[no-untyped-def]
    await pilot.app.run_action("show_help_panel")  # what the palette's "Keys" does
    for _ in range(100):
        await settle(pilot)
        if pilot.app.screen.query("KeyPanel BindingsTable"):
            return
    raise AssertionError("the keys panel did not show")


ASCII_SCREENS = {
    "main": [],
    "help": ["question_mark"],
    "help-end": ["question_mark", "end"],
    "compare": ["c"],
    "palette": [_palette_open],
    "notifications": [_notified],
}
# Textual's own Keys panel is not offered (the palette leaves it out; help has every key), so it is not here.


class TestAsciiEverywhere:
    """--ascii: every screen a learner can open draws with characters below 128 only."""

    @pytest.mark.parametrize("size", [SMALL, SMALLEST], ids=lambda s: f"{s[0]}x{s[1]}")
    @pytest.mark.parametrize("name", list(ASCII_SCREENS))
    async def test_screen_is_plain_ascii(self, name: str, size: tuple[int, int]) -> None:
        app = at_once(KnobApp(start_at("gradient"), ascii=True))
        async with app.run_test(size=size, notifications=True) as pilot:
            await settle(pilot)
            for step in ASCII_SCREENS[name]:
                if callable(step):
                    await step(pilot)
                else:
                    await pilot.press(step)
                await settle(pilot)
            lines = screen_lines(app)
            if name == "help-end":
                assert shows_last_key_row(app)
            assert len(lines) == size[1]
            assert not_ascii(lines) == []
