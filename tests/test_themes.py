"""Themes: shipped files load, t cycles and is remembered, --theme and --list-themes, one snapshot each."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from appkit import start_at
from knobtui.tui.app import KnobApp
from knobtui.tui.themes import THEME_DEFAULTS
from knobtui.tui.themes import load_themes, remembered_theme, theme_names

REPO = Path(__file__).resolve().parents[1]


def test_at_least_four_themes_ship_each_with_every_app_colour() -> None:
    themes = load_themes()
    assert {"chalkboard", "paper", "high-contrast", "amber"} <= set(themes)
    assert len(list((REPO / "themes").glob("*.toml"))) == len(themes)
    for theme in themes.values():
        assert set(THEME_DEFAULTS) <= set(theme.variables), theme.name


async def test_t_cycles_themes_and_remembers_the_choice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    app = KnobApp(start_at("gradient"), remember=True)
    async with app.run_test(size=(80, 24)) as pilot:
        seen = [app.theme]
        for _ in range(len(theme_names())):
            await pilot.press("t")
            seen.append(app.theme)
    assert seen[0] == seen[-1] and set(seen) == set(theme_names())
    assert remembered_theme() == seen[-1]
    assert json.loads((tmp_path / "knobtui" / "settings.json").read_text())["theme"] == seen[-1]


def test_list_themes_and_unknown_theme() -> None:
    r = subprocess.run([sys.executable, "-m", "knobtui", "--list-themes"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and r.stdout.split() == theme_names()
    r = subprocess.run([sys.executable, "-m", "knobtui", "--theme", "neon"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and "'neon'" in r.stderr and "chalkboard" in r.stderr


@pytest.mark.parametrize("theme", ["chalkboard", "paper", "high-contrast", "amber"])
def test_theme_snapshot(snap_compare, theme: str) -> None:
    """Each theme switched to at runtime, after three gradient steps: curve, trail, tangent, ghost, goal and
    log colours, the plot's background included (the same screen as starting with it)."""
    app = KnobApp(start_at("watch-four"))

    async def settle(pilot) -> None:  # type: ignore[no-untyped-def]
        pilot.app.theme = theme
        await pilot.pause()
        await pilot.pause()

    assert snap_compare(app, press=["space"] * 3, terminal_size=(80, 24), run_before=settle)
