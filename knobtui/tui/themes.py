"""themes/*.toml -> textual.theme.Theme, and the remembered choice in the user's config directory."""

from __future__ import annotations

import json
import os
import tomllib
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from textual.app import App
from textual.theme import Theme

from ..learning import METHOD_NAMES, PRESETS, Method

if TYPE_CHECKING:
    from .host import Host

THEME_FIELDS = ("primary", "secondary", "accent", "foreground", "background", "surface", "panel",
                "success", "warning", "error", "boost")
DEFAULT_THEME = "textual-dark"  # Textual's own dark theme; ours are chosen with t, the palette or --theme
KEPT_THEMES = frozenset({DEFAULT_THEME, "textual-ansi"})
"""Textual's own themes kept: the default, and the one Textual itself falls back on. The others define
none of knobtui's colours, so they are not offered."""
THEME_DEFAULTS = {
    "knob-curve": "#5fafff",
    "knob-trail": "#d7af5f",
    "knob-current": "#ffd75f",
    "knob-tangent": "#af87ff",
    "knob-ghost": "#87d7af",
    "knob-goal": "#5fd75f",
    "knob-rising": "#ff5f5f",
    "knob-falling": "#5fd787",
}
"""knobtui's colours in a theme that does not set them (Textual's own)."""


def theme_sources() -> list[tuple[str, str]]:
    """(file name, text) of every shipped theme: inside the wheel, or the repository's themes/ folder."""
    try:
        folder = resources.files("knobtui.themes")
        items = [(p.name, p.read_text(encoding="utf-8")) for p in folder.iterdir() if p.name.endswith(".toml")]
        if items:
            return sorted(items)
    except (ModuleNotFoundError, FileNotFoundError):
        pass
    here = Path(__file__).resolve().parents[2] / "themes"
    return sorted((p.name, p.read_text(encoding="utf-8")) for p in here.glob("*.toml"))


def parse_theme(name: str, text: str) -> Theme:
    """One theme file as a Textual Theme; ValueError names the file and what is wrong."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"theme {name}: {exc}") from None
    if "name" not in data or "primary" not in data:
        raise ValueError(f"theme {name}: needs at least 'name' and 'primary'")
    variables = {str(k): str(v) for k, v in data.get("variables", {}).items()}
    kwargs = {f: str(data[f]) for f in THEME_FIELDS if f in data}
    return Theme(name=str(data["name"]), dark=bool(data.get("dark", True)), variables=variables, **kwargs)


def load_themes() -> dict[str, Theme]:
    themes = [parse_theme(fname, text) for fname, text in theme_sources()]
    return {t.name: t for t in themes}


def theme_names() -> list[str]:
    """Every name `--theme` takes: the default first, then the shipped themes."""
    return [DEFAULT_THEME] + sorted(load_themes())


def config_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "knobtui" / "settings.json"


def remembered_theme() -> str | None:
    """The theme chosen last time, if any (a broken settings file is ignored)."""
    try:
        data = json.loads(config_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    theme = data.get("theme") if isinstance(data, dict) else None
    return theme if isinstance(theme, str) else None


def remember_theme(name: str) -> None:
    """Keep the chosen theme for next time; written atomically, failures ignored (a read-only home)."""
    path = config_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(data, dict):
                data = {}
        except (OSError, ValueError):
            data = {}
        data["theme"] = name
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        pass


def use_knobtui_themes(app: App[Any], theme: str | None) -> str:
    """Offer knobtui's themes (and Textual's two kept ones) in `app`; the theme to start with."""
    ours = load_themes()
    for name in list(app.available_themes):
        if name not in KEPT_THEMES and name not in ours:
            app.unregister_theme(name)
    for t in ours.values():
        app.register_theme(t)
    return theme if theme is not None and theme in app.available_themes else DEFAULT_THEME


def theme_rgb(app: App[Any], name: str) -> tuple[int, int, int]:
    """A theme variable's colour as RGB, for what draws outside Textual's CSS (plotext, Rich text); a value
    that does not parse stays readable grey."""
    from textual.color import Color
    try:
        return Color.parse(app.theme_variables.get(name, "white")).rgb
    except Exception:  # a theme with an unparsable value
        return (200, 200, 200)


def header_titles(preset: str, method: Method, theme: str, sep: str, width: int, ascii: bool) -> tuple[str, str]:
    """The header's title and subtitle (on tall terminals): the preset and what it shows, the method and
    the theme; what the preset shows gives way first when the line is short (Textual would cut the end
    with an ellipsis). In ASCII mode all in the title (Textual's header joins the two with an em dash)."""
    shows = PRESETS[preset].shows if preset in PRESETS else None
    tail = f"{sep} {METHOD_NAMES[method]} {sep} theme {theme}"
    sub = f"preset {preset}: {shows} {tail}" if shows is not None else ""
    if not sub or len(sub) > width - 34:  # the header's icon, title and margins take the rest
        sub = f"preset {preset} {tail}"
    return (f"knobtui - {sub}", "") if ascii else ("knobtui", sub)


def next_theme(current: str) -> str:
    """The theme after `current` in `t`'s cycle."""
    names = theme_names()
    return names[(names.index(current) + 1) % len(names) if current in names else 0]


def check_theme(name: str) -> str:
    """Return `name` if a theme of that name ships, else raise ValueError naming it and the choices."""
    names = theme_names()
    if name not in names:
        raise ValueError(f"theme: {name!r} is not one of {', '.join(names)}")
    return name


class LooksMixin:
    """The app's looks: knobtui's colours in every theme, `t`, the remembered choice, the header."""

    _remember = False  # remember the theme chosen (not for a visitor of `knobtui serve`)

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return dict(THEME_DEFAULTS)

    def header(self) -> None:
        app = cast("Host", self)
        app.title, app.sub_title = header_titles(app.preset, app.session.method, app.theme, app.glyphs.sep,
                                                 app.size.width, app.ascii)

    def action_next_theme(self) -> None:
        app = cast("Host", self)
        app.theme = next_theme(app.theme)

    def watch_theme(self, theme: str) -> None:
        if self._remember:
            remember_theme(theme)
        if cast("Host", self).stage.view is not None:
            self.header()
