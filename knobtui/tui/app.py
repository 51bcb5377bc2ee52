"""KnobApp: each key is one Session call, then `publish`: the new view flows down to the widgets.

The rooms around it: autoplay.py (the timer), presenting.py (presenter mode), lesson_player.py (n/N),
exports.py (e/E/s), layout.py (rows), keys.py (every key, once), main.py (running it).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import TYPE_CHECKING, TypeVar

from rich.errors import MarkupError
from rich.text import Text
from textual import events, on
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.reactive import var
from textual.screen import Screen
from textual.widgets import Header, Static

from ..learning import DEFAULT_TOLERANCE, KNOB_NAMES, METHOD_NAMES, METHODS, PRESETS, KnobError, Scene, Session, Start
from ..learning import check_method, get_preset, parse_number
from ..learning.lesson import Lesson
from ..learning.session import DEFAULT_FAST_FORWARD_LIMIT
from ..learning.view import View, make_view, nudge
from ..presenter.protocol import LinkConfig
from .autoplay import SPEEDS, Autoplay
from .exports import Exports
from .glyphs import glyphs
from .keys import bar_entries, bindings
from .layout import apply_plan
from .lesson_player import LessonPlayer
from .limits import Limits
from .presenting import Presenting
from .themes import DEFAULT_THEME, THEME_DEFAULTS, remember_theme, theme_names, use_knobtui_themes
from .widgets import Arithmetic, ErrorPlot, IterationLog, KnobPanel, LessonPanel, StatusBar
from .widgets.key_bar import KeyBar

if TYPE_CHECKING:
    from textual.driver import Driver

W = TypeVar("W")
UNDO_DEPTH = 20
"""Presets, resets and method switches that `u` can take back."""


class KnobApp(App[None]):
    """The simulator: a knob panel, the arithmetic, the error curve, the iteration log and the status."""

    CSS_PATH = ["knobtui.tcss", "ascii.tcss"]
    TITLE = "knobtui"
    AUTO_FOCUS = None  # keys go to the app's bindings; only the knob editor takes focus, while open
    BINDINGS = bindings()

    view: var[View | None] = var(None)
    """What the screen shows; replaced (never mutated) after every change to the session."""
    selected: var[int] = var(0)
    """The selected knob (index into KNOB_NAMES)."""
    editing: var[bool] = var(False)
    """The knob editor is open (Enter): the arrows edit text instead of turning knobs."""
    knob_message: var[str] = var("")
    """Why the last knob entry was refused."""
    playing: var[str] = var("")
    """Autoplay's label while it runs ('playing 8/s'), else empty."""
    per_iteration: var[bool] = var(False)
    """The plot shows error per iteration instead of the curve."""
    arithmetic_rows: var[int] = var(7)
    """The lines the layout gives the arithmetic (tui/layout.py)."""
    note: var[tuple[str, str]] = var(("", ""))
    """The last message and its severity, at the front of the status line until the next key."""
    status_extra: var[tuple[tuple[str, int], ...]] = var(())
    """State the status line shows besides the session's: the autoplay speed and the theme."""
    keys_shown: var[tuple[tuple[str, str, int], ...]] = var(())
    """The key bar's entries for the situation now (a lesson, following, detached)."""
    hidden: var[frozenset[str]] = var(frozenset())
    """Knobs a lesson (or --hide) keeps off the panel."""
    lesson_note: var[str] = var("")
    """The note of the lesson step on screen."""
    lesson_heading: var[str] = var("")
    """'lesson title · step k of n', or empty without a lesson."""
    link_status: var[str] = var("")
    """Presenter mode: 'presenting to N', 'following the presenter' or 'playing alone'."""

    def __init__(self, start: Start, tolerance: float = DEFAULT_TOLERANCE, theme: str | None = None,
                 remember: bool = False, ascii: bool = False, hidden: frozenset[str] = frozenset(),
                 lesson: Lesson | None = None, link: LinkConfig | None = None, limits: Limits | None = None) -> None:
        super().__init__()
        self.limits = Limits.from_env(os.environ) if limits is None else limits
        self.ascii, self.glyphs = ascii, glyphs(ascii)
        self.session = Session(start.knobs, start.method, tolerance)
        self.preset = start.preset
        self.set_reactive(KnobApp.hidden, frozenset(hidden))
        self.selected = next((i for i, name in enumerate(KNOB_NAMES) if name not in self.hidden), 0)
        self.autoplay = Autoplay(self)
        self.exports = Exports(self)
        self.lessons = LessonPlayer(lesson, tolerance, self.glyphs.sep) if lesson else None
        self.presenting = Presenting(self, link, os.environ) if link else None
        self._undo: list[tuple[Session, str]] = []
        self._remember = remember
        self.theme = use_knobtui_themes(self, theme)

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return dict(THEME_DEFAULTS)

    def get_driver_class(self) -> type[Driver]:
        """On Linux, a driver that survives bytes that are not UTF-8 (tui/driver.py)."""
        driver = super().get_driver_class()
        if driver.__name__ == "LinuxDriver" and driver.__module__ == "textual.drivers.linux_driver":
            from .driver import TolerantLinuxDriver
            return TolerantLinuxDriver
        return driver

    # ---- layout ------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Header(icon=self.glyphs.icon)
        yield LessonPanel(id="lesson").data_bind(note=KnobApp.lesson_note, heading=KnobApp.lesson_heading)
        with Vertical(id="main"):
            with Horizontal(id="top"):
                with Vertical(id="left"):
                    yield _plain(KnobPanel(), self.ascii).data_bind(
                        KnobApp.view, KnobApp.selected, KnobApp.hidden, KnobApp.editing, message=KnobApp.knob_message)
                    arrows, sideways = ("up/down", "left/right") if self.ascii else ("↑↓", "←→")
                    yield Static(f"{arrows} knob, {sideways} nudge, enter: exact value", id="knob-hint")
                yield _plain(ErrorPlot(id="plot"), self.ascii).data_bind(KnobApp.view, KnobApp.per_iteration)
            yield Arithmetic(id="arithmetic").data_bind(KnobApp.view, rows=KnobApp.arithmetic_rows)
            yield IterationLog(id="log", glyphs=self.glyphs)
            yield _plain(StatusBar(id="status"), self.ascii).data_bind(
                KnobApp.view, KnobApp.playing, link=KnobApp.link_status, extra=KnobApp.status_extra, note=KnobApp.note)
        yield Static(id="too-small")
        yield KeyBar(id="keys").data_bind(entries=KnobApp.keys_shown)

    def on_mount(self) -> None:
        self.set_class(self.ascii, "-ascii")
        self._laid_out = True
        self.fit()
        self.show_keys()
        if self.presenting is not None:
            self.presenting.start()
        if self.lessons is not None:
            self.go_to_lesson_step(0)
        else:
            self.publish(rebuild_log=True)

    def show_keys(self) -> None:
        """The key bar for the situation now."""
        when = {"lesson"} if self.lessons is not None else set()
        situation = self.presenting.key_situation() if self.presenting is not None else None
        self.keys_shown = tuple(bar_entries(when | ({situation} if situation else set()), self.ascii))

    def on_resize(self, event: events.Resize) -> None:
        self.fit(event.size.width, event.size.height)

    def watch_lesson_note(self) -> None:
        self.fit()  # a note came or went (a follower's comes from the presenter): share the rows again

    _laid_out = False  # the widgets are mounted (a resize or a lesson note can come before)

    def fit(self, width: int | None = None, height: int | None = None) -> None:
        """Share the rows for this size (tui/layout.py)."""
        if self._laid_out:
            apply_plan(self, width or self.size.width, height or self.size.height,
                       self.lessons is not None or bool(self.lesson_heading))
            self.header()

    # ---- the one way state reaches the screen ------------------------------------------------
    def publish(self, rebuild_log: bool = False) -> None:
        """A new view of the session, the log brought in line, the room told (presenter mode)."""
        self.view = make_view(self.session, self.preset)
        self.header()
        if self.presenting is not None:
            self.presenting.send(Scene(self.session.recipe(), self.preset, self.hidden, self.lesson_heading,
                                       self.lesson_note))
        self.query_one(IterationLog).sync(self.session, rebuild_log)

    def show_scene(self, scene: Scene) -> str | None:
        """Become a scene (the presenter's, or the room's for a presenter resuming); what is wrong with
        it if it cannot be (nothing changes then)."""
        iteration = scene.recipe.get("iteration")
        ceiling = self.limits.max_history
        if isinstance(iteration, int) and ceiling is not None and iteration > ceiling:
            return f"iteration {iteration:,} is past the {ceiling:,} this session keeps"
        self.autoplay.stop()
        try:
            kept = self.session.follow(scene.recipe)
        except (KeyError, ValueError, TypeError, AttributeError) as exc:
            return str(exc)
        self.preset, self.hidden = scene.preset, scene.hidden
        self.lesson_heading, self.lesson_note = scene.heading, scene.note
        if self.lessons is not None:
            self.lessons.find(scene.heading)
        self.publish(rebuild_log=not kept)
        return None

    def relay_message(self, message: dict[str, object]) -> None:
        """What the relay said (presenter mode)."""
        if self.presenting is not None:
            self.presenting.on_message(message)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if self.presenting is not None:
            return self.presenting.allows(action)
        return action not in ("detach", "follow")

    # ---- stepping ----------------------------------------------------------------------------
    def history_full(self) -> bool:
        """At the session's ceiling of iterations (served sessions have one): say so, and True."""
        if self.limits.history_room(self.session.iteration) == 0:
            self.say(self.limits.history_full(), severity="warning")
            return True
        return False

    def action_step(self) -> None:
        if not self.history_full() and self.session.step() is None:
            self.say(self.session.status.text, title="Cannot step", severity="warning")
        self.publish()

    def action_back(self) -> None:  # type: ignore[override]  # Textual's own "back" is a screen's; ours steps
        self.session.back()
        self.publish()

    def action_fast_forward(self) -> None:
        self.autoplay.stop()
        room = self.limits.history_room(self.session.iteration)
        if self.session.converged_at is None and self.history_full():
            return
        ff = self.session.fast_forward(DEFAULT_FAST_FORWARD_LIMIT if room is None else min(room, DEFAULT_FAST_FORWARD_LIMIT))
        self.publish()
        if ff.stop == "already":
            self.say(f"already {self.session.status.text}", "fast-forward")
        elif ff.stop == "limit" and ff.steps == room:
            self.history_full()
        else:
            more = ", not converged yet" if ff.stop == "limit" else ""
            self.say(f"{ff.steps} iterations{more}", "fast-forward", "warning" if ff.stop == "overflow" else "information")

    def action_play(self) -> None:
        self.autoplay.toggle()

    def action_speed(self, change: int) -> None:
        self.autoplay.change_speed(change)

    @property
    def speed(self) -> int:
        """Autoplay's speed, an index into SPEEDS."""
        return self.autoplay.speed

    @speed.setter
    def speed(self, value: int) -> None:
        self.autoplay.speed = value

    # ---- changes that throw a run away (u takes them back) -----------------------------------
    def _start_over(self, session: Session, preset: str) -> None:
        self.autoplay.stop()
        self._undo = [*self._undo, (self.session.copy(), self.preset)][-UNDO_DEPTH:]
        self.session, self.preset, self.knob_message = session, preset, ""
        self.publish(rebuild_log=True)

    def action_reset(self) -> None:
        fresh = self.session.copy()
        fresh.reset()
        self._start_over(fresh, self.preset)

    def action_preset(self, name: str) -> None:
        """Load a preset: its knobs and method become the session's new start."""
        preset = get_preset(name)
        self._start_over(Session(preset.knobs, preset.method, self.session.tolerance), preset.name)

    def action_undo(self) -> None:
        """u: back to before the last preset, reset or method switch, with the run's whole history."""
        if not self._undo:
            self.say("nothing to undo (u takes back a preset, a reset or a method switch)", title="Undo")
            return
        self.autoplay.stop()
        self.session, self.preset = self._undo.pop()
        self.knob_message = ""
        self.publish(rebuild_log=True)
        self.say(f"back to preset {self.preset} at iteration {self.session.iteration}", title="Undo")

    def action_switch_method(self) -> None:
        self.action_method(METHODS[1 - METHODS.index(self.session.method)])

    def action_method(self, method: str) -> None:
        """Switch the update rule from the next iteration on (u switches back)."""
        if method != self.session.method:
            self._undo = [*self._undo, (self.session.copy(), self.preset)][-UNDO_DEPTH:]
        self.session.set_method(check_method(method))
        self.publish()

    # ---- lessons -------------------------------------------------------------------------------
    def action_lesson(self, change: int) -> None:
        """n / N: the next or the previous step of the lesson."""
        why = "no lesson is running (start one with --lesson chapter4)" if self.lessons is None else \
            self.lessons.refusal(change)
        if why is not None or self.lessons is None:
            self.say(str(why), title="Lesson")
            return
        self.go_to_lesson_step(self.lessons.index + change)

    def go_to_lesson_step(self, index: int) -> None:
        assert self.lessons is not None
        self.autoplay.stop()
        state = self.lessons.state(index)
        self.session, self.preset, self.hidden, self.knob_message = state.session, state.preset, state.hidden, ""
        if KNOB_NAMES[self.selected] in state.hidden:
            self.action_select(1)
        self.lesson_heading, self.lesson_note = self.lessons.heading(index), state.note
        self.publish(rebuild_log=True)
        self.fit()

    # ---- knobs -------------------------------------------------------------------------------
    def action_select(self, change: int) -> None:
        """Select the next (or previous) knob that is shown."""
        shown = [i for i, name in enumerate(KNOB_NAMES) if name not in self.hidden] or [self.selected]
        at = shown.index(self.selected) if self.selected in shown else 0
        if not self.editing:
            self.selected = shown[(at + change) % len(shown)]

    def action_nudge(self, direction: int, coarse: bool = False) -> None:
        knob = KNOB_NAMES[self.selected]
        if not self.editing:
            self._set_knob(knob, nudge(getattr(self.session.knobs, knob), direction, coarse, knob == "step_amount"))

    def action_edit(self) -> None:
        self.editing = True

    @on(KnobPanel.Edited)
    def _edited(self, event: KnobPanel.Edited) -> None:
        try:
            value = parse_number(event.knob, event.text)
        except KnobError as exc:
            self.knob_message = f"{exc}; kept {getattr(self.session.knobs, event.knob)!r}"
            self.say(self.knob_message, title="Refused", severity="error")
            return
        self.editing = False
        self._set_knob(event.knob, value)

    @on(KnobPanel.Cancelled)
    def _cancelled(self) -> None:
        self.editing, self.knob_message = False, ""

    def _set_knob(self, knob: str, value: float) -> None:
        try:
            self.session.set_knobs(**{knob: value})
        except KnobError as exc:
            self.knob_message = f"{exc}; kept {getattr(self.session.knobs, knob)!r}"
            return
        self.knob_message = ""
        self.publish()

    # ---- writing down, presenter mode, other screens -------------------------------------------
    def action_export(self, fmt: str) -> None:
        self.exports.export(fmt)

    def action_screenshot(self) -> None:  # type: ignore[override]  # ours writes within the file quota
        self.exports.screenshot()

    def action_detach(self) -> None:
        if self.presenting is not None:
            self.presenting.detach()

    def action_follow(self) -> None:
        if self.presenting is not None:
            self.autoplay.stop()
            self.presenting.follow()

    def action_repaint(self) -> None:
        """ctrl+l: draw every cell again (a follower joining a shared view of `knobtui serve` needs it)."""
        self.screen.refresh()
        self.refresh(repaint=True, layout=True)

    def action_toggle_plot(self) -> None:
        self.per_iteration = not self.per_iteration

    def action_log_page(self, direction: int) -> None:
        self.query_one(IterationLog).page(direction)

    def action_log_end(self, direction: int) -> None:
        log = self.query_one(IterationLog)
        log.to_end() if direction > 0 else log.to_start()

    def action_help(self) -> None:
        from .screens.help import HelpScreen
        self.push_screen(HelpScreen())

    def action_compare(self) -> None:
        from .screens.compare import CompareScreen
        self.autoplay.stop()
        self.push_screen(CompareScreen(self.session.knobs, self.session.tolerance))

    def action_command_palette(self) -> None:
        """ctrl+p: Textual's command palette, one that survives keys queued behind the one that closes it
        (in ASCII mode one without emoji, ellipsis and block rules)."""
        from .screens.plain import open_palette
        open_palette(self)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        # Textual's theme picker would offer themes without knobtui's colours; its Keys panel and
        # Screenshot repeat help and s.
        yield from (c for c in super().get_system_commands(screen) if c.title not in ("Theme", "Keys", "Screenshot"))
        from .commands import simulator_commands
        yield from simulator_commands(self)

    def get_key_display(self, binding: Binding) -> str:
        """In ASCII mode, words instead of arrows and the return symbol."""
        from .screens.plain import plain_key_display
        display = super().get_key_display(binding)
        return plain_key_display(display, binding.key) if self.ascii else display

    # ---- looks and messages --------------------------------------------------------------------
    def header(self) -> None:
        """The header (on tall terminals): the preset and what it shows, the method and the theme; what the
        preset shows gives way first when the line is short (Textual would cut the end with an ellipsis)."""
        sep, preset = self.glyphs.sep, PRESETS.get(self.preset)
        tail = f"{sep} {METHOD_NAMES[self.session.method]} {sep} theme {self.theme}"
        sub = f"preset {self.preset}: {preset.shows} {tail}" if preset is not None else ""
        if not sub or len(sub) > self.size.width - 34:  # the header's icon, title and margins take the rest
            sub = f"preset {self.preset} {tail}"
        if self.ascii:  # Textual's header joins title and subtitle with an em dash
            self.title, self.sub_title = f"knobtui - {sub}", ""
        else:
            self.sub_title = sub

    def action_next_theme(self) -> None:
        names = theme_names()
        self.theme = names[(names.index(self.theme) + 1) % len(names) if self.theme in names else 0]

    def watch_theme(self, theme: str) -> None:
        if self._remember:
            remember_theme(theme)
        if self.view is not None:
            self.header()

    async def run_action(self, action, default_namespace=None, namespaces=None) -> bool:  # type: ignore[no-untyped-def]
        self.note = ("", "")  # a message lasts until the next key
        return await super().run_action(action, default_namespace, namespaces)

    def say(self, message: str, title: str = "", severity: str = "information") -> None:
        """A message at the front of the status line until the next key: never over the curve or the log,
        one at a time, and never markup (messages quote what people typed)."""
        self.note = (f"{title}: {message}" if title else message, severity)

    def notify(self, message: str, *, title: str = "", severity: str = "information",  # type: ignore[override]
               timeout: float | None = None, markup: bool = True) -> None:
        """Textual's own messages (and any widget's) go to the status line too, as plain text."""
        if markup:
            try:
                message = Text.from_markup(message).plain
            except MarkupError:
                pass
        self.say(message, title, severity)


def _plain(widget: W, ascii: bool) -> W:
    """A widget that draws with plain ASCII when asked (its own `ascii` reactive)."""
    widget.ascii = ascii  # type: ignore[attr-defined]  # KnobPanel, ErrorPlot and StatusBar each have one
    return widget


__all__ = ["DEFAULT_THEME", "SPEEDS", "KnobApp"]
