"""Keys people can rebind: every key has an id; a keymap file moves keys; help, the key bar and the
palette show the keys that work; an unknown id, a non-key and a clash are refused with their names."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from appkit import start_at

from knobtui.tui.app import KnobApp
from knobtui.tui.commands import simulator_commands
from knobtui.tui.keys import KEYS, KeymapError, bar_entries, help_rows, load_keymap, rebind

README = Path(__file__).parent.parent / "README.md"


def test_every_key_has_one_id_and_the_readme_lists_them() -> None:
    ids = [k.id for k in KEYS]
    assert len(ids) == len(set(ids)) and all(ids)
    readme = README.read_text()
    for k in KEYS:
        keys = ", ".join(f"`{part}`" for part in k.keys.split(","))
        assert f"| `{k.id}` | {keys} |" in readme, k.id


def test_no_keymap_changes_nothing() -> None:
    assert rebind({}) is KEYS


async def test_a_rebound_key_works_and_is_shown_everywhere(tmp_path: Path) -> None:
    path = tmp_path / "keys.toml"
    path.write_text('play = "P"\nstep = "space,x"\n')
    table = load_keymap(path)
    app = KnobApp(start_at("gradient"), keys=table)
    async with app.run_test(size=(120, 30)) as pilot:
        await pilot.pause()
        assert ("P", "play", 5) in app.stage.keys_shown and ("p", "play", 5) not in app.stage.keys_shown
        bar = app.query_one("#keys").render_line(0).text
        assert "Pplay" in bar.replace(" ", "") and "pplay" not in bar.replace(" ", "")
        commands = {c.title: c.help for c in simulator_commands(app)}
        assert commands["Play / pause"].startswith("P: play / pause")
        await pilot.press("x")
        await pilot.pause()
        assert app.session.iteration == 1  # x steps as well as space
        await pilot.press("p")
        await pilot.pause()
        assert not app.stage.playing  # p is no longer play
        await pilot.press("P")
        await pilot.pause()
        assert app.stage.playing
        await pilot.press("P")
        await pilot.press("question_mark")
        await pilot.pause()
        text = app.screen.text  # type: ignore[attr-defined]
        assert "| P | play / pause autoplay" in text and "| p | play" not in text
        assert "| space, x | one iteration" in text


@pytest.mark.parametrize("keymap,words", [
    ({"stepp": "x"}, "unknown key id 'stepp' (did you mean step?"),
    ({"play": "b"}, "'b' would do two things: back and play"),
    ({"play": "ctrl+p"}, "'ctrl+p' is kept for the command palette"),
    ({"play": 5}, "play = 5: give the keys as a string"),
    ({"play": "é!"}, "play: 'é!' is not a key name"),
])
def test_a_bad_keymap_is_refused_with_its_name(keymap: dict[str, object], words: str) -> None:
    with pytest.raises(KeymapError) as exc:
        rebind(keymap, "keys.toml")
    assert str(exc.value).startswith("keys.toml: ") and words in str(exc.value)


def test_moving_a_key_away_frees_it() -> None:
    """Swapping two keys is no clash: each moves."""
    table = rebind({"play": "b", "back": "p"})
    assert {k.id: k.keys for k in table}["play"] == "b"
    rows = dict(help_rows(table))
    assert rows["b"].startswith("play") and rows["p"].startswith("step back")
    assert ("b", "play", 5) in bar_entries(set(), table=table)


def test_the_command_line_refuses_a_bad_keymap_before_any_screen(tmp_path: Path) -> None:
    path = tmp_path / "keys.toml"
    path.write_text('stepp = "x"\n')
    env = {k: v for k, v in os.environ.items() if k != "KNOBTUI_SERVED"}
    proc = subprocess.run([sys.executable, "-m", "knobtui", "--keys", str(path)], capture_output=True, text=True,
                          timeout=60, env=env, stdin=subprocess.DEVNULL)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.startswith("knobtui: --keys: ") and "'stepp'" in proc.stderr
    proc = subprocess.run([sys.executable, "-m", "knobtui", "--keys", str(tmp_path / "none.toml")],
                          capture_output=True, text=True, timeout=60, env=env, stdin=subprocess.DEVNULL)
    assert proc.returncode == 2 and "no such file" in proc.stderr


def test_the_default_file_is_read_from_the_config_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert load_keymap() is KEYS  # no file: the default keys
    (tmp_path / "knobtui").mkdir()
    (tmp_path / "knobtui" / "keys.toml").write_text('quit = "Q"\n')
    assert {k.id: k.keys for k in load_keymap()}["quit"] == "Q"
    (tmp_path / "knobtui" / "keys.toml").write_text('quit = \n')
    with pytest.raises(KeymapError, match="not TOML"):
        load_keymap()
