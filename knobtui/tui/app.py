"""KnobApp: keys become one Session call each; the new view flows down to the widgets."""

from __future__ import annotations

import asyncio
import os
import threading
from typing import TYPE_CHECKING

from rich.errors import MarkupError
from rich.text import Text
from textual import events, on
from collections.abc import Iterable
from pathlib import Path

from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive, var
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Header, Static

from ..learning import (DEFAULT_TOLERANCE, KNOB_LABELS, KNOB_NAMES, METHOD_NAMES, METHODS, PRESETS, KnobError, Session,
                        get_preset, parse_number)
from ..learning.lesson import Lesson, LessonSnapshot, lesson_snapshots, state_from_snapshot
from ..learning.session import DEFAULT_FAST_FORWARD_LIMIT
from ..learning.view import View, make_view, nudge
from ..records import TooBig, estimate_export_bytes, export_session, write_new_file
from .crash import CRASH_LOG_ENV, CrashReport
from .follow import REJOIN_STATUS, RelayLink
from .glyphs import glyphs
from .keys import FOLLOWER_ACTIONS, bar_entries, bindings
from .layout import MIN_WIDTH, plan
from .limits import FileQuota, Limits, human_bytes, is_served
from .themes import DEFAULT_THEME, load_themes, remember_theme, theme_names
from .widgets import Arithmetic, ErrorPlot, IterationLog, KnobPanel, LessonPanel, StatusBar
from .widgets.key_bar import KeyBar

if TYPE_CHECKING:
    from textual.driver import Driver

    from ..learning import Start

STOPS = ("converged", "overflow", "stuck", "oscillating")
"""Where autoplay stops: learning has stopped (or can only repeat itself)."""
SPEEDS = (1, 2, 4, 8, 15, 30, 60, 120, 250, 500, 1000, 2500, 5000)
"""Autoplay speeds, iterations per second."""
FRAME_RATE = 30
"""Autoplay redraws at most this often; faster speeds take several iterations per frame."""
UNDO_DEPTH = 20
"""Presets, resets and method switches that `u` can take back."""
EXPORT_AT_ONCE = 250_000
"""An export estimated at up to this many bytes (about 1,700 iterations, ~20 ms) is written at once; a
longer one in a thread."""
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
    knob_message: var[str] = var("")
    """Why the last knob entry was refused."""
    speed: reactive[int] = reactive(4)
    """Autoplay speed: an index into SPEEDS."""
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
                 lesson: Lesson | None = None, link: tuple[str, str, str] | None = None,
                 limits: Limits | None = None) -> None:
        super().__init__()
        self.limits = Limits.from_env(os.environ) if limits is None else limits
        """What this session may hold and write (a visitor of `knobtui serve` has ceilings)."""
        self.files = FileQuota(self.limits)
        """The files this session has written, against its limits."""
        self._exporting: str | None = None  # what a long export being written in a thread is writing
        self._resumed = False  # a presenter adopts the room's state once, at connect
        # A follower of `knobtui serve` who pressed d in the room's shared view gets this simulator: it
        # starts from the presenter's state, alone; F ends it with REJOIN_STATUS, back to the shared view.
        self._start_detached = os.environ.get("KNOBTUI_START_DETACHED") == "1"
        self._room = os.environ.get("KNOBTUI_ROOM") == "1"
        self.link = RelayLink(*link) if link else None
        self.following = bool(self.link and not self.link.presenter)
        self._latest_state: dict[str, object] | None = None
        self.ascii = ascii
        self.glyphs = glyphs(ascii)
        self.lesson = lesson
        self.lesson_index = -1
        self._lesson_snapshots: list[LessonSnapshot] | None = None
        self.set_reactive(KnobApp.hidden, frozenset(hidden))
        self.selected = next((i for i, name in enumerate(KNOB_NAMES) if name not in self.hidden), 0)
        self.session = Session(start.knobs, start.method, tolerance)
        self.preset = start.preset
        self._timer: Timer | None = None
        self._remember = remember
        self._undo: list[tuple[Session, str]] = []
        self._laid_out = False
        ours = load_themes()
        for name in list(self.available_themes):
            if name not in KEPT_THEMES and name not in ours:
                self.unregister_theme(name)
        for t in ours.values():
            self.register_theme(t)
        self.theme = theme if theme in self.available_themes else DEFAULT_THEME

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return dict(THEME_DEFAULTS)

    def get_driver_class(self) -> type[Driver]:
        """Textual's driver for this platform; on Linux one that survives bytes that are not UTF-8
        (tui/driver.py). A driver chosen through TEXTUAL_DRIVER (textual-serve's) is left alone."""
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
                    panel = KnobPanel().data_bind(KnobApp.view, KnobApp.selected, KnobApp.hidden,
                                                  message=KnobApp.knob_message)
                    panel.ascii = self.ascii
                    yield panel
                    yield Static(self._knob_hint(), id="knob-hint")
                plot = ErrorPlot(id="plot").data_bind(KnobApp.view, KnobApp.per_iteration)
                plot.ascii = self.ascii
                yield plot
            yield Arithmetic(id="arithmetic").data_bind(KnobApp.view, rows=KnobApp.arithmetic_rows)
            log = IterationLog(id="log")
            log.glyphs = self.glyphs
            yield log
            status = StatusBar(id="status").data_bind(KnobApp.view, KnobApp.playing, link=KnobApp.link_status,
                                                      extra=KnobApp.status_extra, note=KnobApp.note)
            status.ascii = self.ascii
            yield status
        yield Static(id="too-small")
        yield KeyBar(id="keys").data_bind(entries=KnobApp.keys_shown)

    def _knob_hint(self) -> str:
        arrows = "up/down" if self.ascii else "↑↓"
        nudge = "left/right" if self.ascii else "←→"
        return f"{arrows} knob, {nudge} nudge, enter: exact value"

    def on_mount(self) -> None:
        self.set_class(self.ascii, "-ascii")
        self._fit(self.size.width, self.size.height)
        self._laid_out = True
        self._show_keys()
        if self.link is not None:
            self.link_status = "presenting" if self.link.presenter else "following the presenter (d: play alone)"
            self.run_worker(self._relay(), exclusive=True, group="relay")
        if self.lesson is not None:
            self.go_to_lesson_step(0)
        else:
            self._publish(rebuild_log=True)

    def _show_keys(self) -> None:
        """The key bar for the situation now."""
        when = set()
        if self.lesson is not None:
            when.add("lesson")
        if self.link is not None and not self.link.presenter:
            when.add("follower" if self.following else "detached")
        self.keys_shown = tuple(bar_entries(when, self.ascii))

    # ---- presenter mode ------------------------------------------------------------------------
    async def _relay(self) -> None:
        assert self.link is not None
        try:
            await self.link.run(self.relay_message)
        except OSError as exc:
            self.say(f"cannot reach the presenter's relay: {exc}", severity="error")
        if self.link.presenter:
            self.link_status = "the relay has gone: nobody is following"
        else:
            self._set_following(False, "the presenter's relay has gone: playing alone")

    def relay_message(self, message: dict[str, object]) -> None:
        """A message from the relay: the number of followers, or a state (a follower becomes it while it
        follows; a presenter adopts the first one, the room's, when it connects)."""
        if "followers" in message:
            n = message["followers"]
            self.link_status = f"presenting to {n} follower{'s' if n != 1 else ''}"
        state = message.get("state")
        if isinstance(state, dict):
            if self.link is not None and self.link.presenter:
                self.resume_room(state)
                return
            self._latest_state = state
            if self.following:
                self._follow_state(state)
                if self._start_detached:
                    self._start_detached = False
                    self._set_following(False, "playing alone (F: back to the room)")

    def _follow_state(self, state: dict[str, object]) -> None:
        problem = self._apply_state(state)
        if problem is not None:
            self.link_status = f"cannot follow: {problem}"

    def resume_room(self, state: dict[str, object]) -> bool:
        """A presenter who reconnects: the relay's first message is the room's latest state. Become it
        (as a follower would), then present on from there. Only once, at connect: after that the
        presenter's own keys are the room's state. True if adopted."""
        if self._resumed:
            return False
        self._resumed = True
        self._stop_play()
        problem = self._apply_state(state)
        if problem is not None:
            self.link_status = f"presenting (could not resume the room: {problem})"
            return False
        self._match_lesson_step()
        self.link_status = f"presenting (resumed at iteration {self.session.iteration})"
        return True

    def _match_lesson_step(self) -> None:
        """After resuming, `n` goes on from the lesson step the room was at (found by its heading)."""
        if self.lesson is None:
            return
        for index in range(len(self.lesson.steps)):
            if self._lesson_heading(index) == self.lesson_heading:
                self.lesson_index = index
                return

    def _apply_state(self, state: dict[str, object]) -> str | None:
        """Become the presenter's state: the same session, preset, hidden knobs and lesson note; what is
        wrong with the state if it cannot (nothing changes then)."""
        before = [(seg.start, seg.method, seg.knobs) for seg in self.session.segments]
        was = self.session.iteration
        recipe = state.get("recipe")
        iteration = recipe.get("iteration") if isinstance(recipe, dict) else None
        ceiling = self.limits.max_history
        if isinstance(iteration, int) and ceiling is not None and iteration > ceiling:
            return f"iteration {iteration:,} is past the {ceiling:,} this session keeps"
        try:
            self.session.follow(recipe)  # type: ignore[arg-type]
        except (KeyError, ValueError, TypeError, AttributeError) as exc:
            return str(exc)
        after = [(seg.start, seg.method, seg.knobs) for seg in self.session.segments]
        # The log can only be extended in place when what it shows is still history: same stretches
        # so far, and this simulator was not past the point where the presenter's new stretch begins.
        extends = after[: len(before)] == before and (len(after) == len(before) or was <= after[len(before)][0])
        self.preset = str(state.get("preset", self.preset))
        hidden = state.get("hidden", [])
        self.hidden = frozenset(h for h in hidden if h in KNOB_NAMES) if isinstance(hidden, list) else frozenset()
        self.lesson_heading = str(state.get("lesson_heading", ""))
        self.lesson_note = str(state.get("lesson_note", ""))
        self._publish(rebuild_log=not extends)
        return None

    def _send_state(self) -> None:
        if self.link is not None and self.link.presenter:
            self.link.send_state({"recipe": self.session.recipe(), "preset": self.preset,
                                  "hidden": sorted(self.hidden), "lesson_heading": self.lesson_heading,
                                  "lesson_note": self.lesson_note})

    def _set_following(self, following: bool, status: str) -> None:
        """Follow the presenter or not: the keys allowed and the key bar change with it."""
        self.following = following
        self.link_status = status
        self.refresh_bindings()
        self._show_keys()

    def action_repaint(self) -> None:
        """ctrl+l: draw every cell again (a follower joining a shared view of `knobtui serve` needs it)."""
        self.screen.refresh()
        self.refresh(repaint=True, layout=True)

    def action_detach(self) -> None:
        """d: stop following and play alone from here."""
        if self.link is None or self.link.presenter:
            return
        self._set_following(False, "playing alone (F: follow the presenter again)")

    def action_follow(self) -> None:
        """F: follow the presenter again, from where the presenter is now."""
        if self.link is None or self.link.presenter:
            return
        self._stop_play()
        if self._room:  # the room's shared view shows the presenter; this private simulator ends
            self.exit(return_code=REJOIN_STATUS)
            return
        self._set_following(True, "following the presenter (d: play alone)")
        if self._latest_state is not None:
            self._follow_state(self._latest_state)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """While following, keys that would change the state are off (d detaches to use them)."""
        if self.following and action not in FOLLOWER_ACTIONS and not action.startswith("_"):
            return False
        if action in ("detach", "follow"):
            if self.link is None or self.link.presenter:
                return False
            return self.following == (action == "detach")  # only the one that changes something
        return True

    # ---- lessons -------------------------------------------------------------------------------
    def action_lesson(self, change: int) -> None:
        """n / N: the next or the previous step of the lesson."""
        if self.lesson is None:
            self.say("no lesson is running (start one with --lesson chapter4)", title="Lesson")
            return
        target = self.lesson_index + change
        if not 0 <= target < len(self.lesson.steps):
            self.say("that was the last step" if change > 0 else "this is the first step", title="Lesson")
            return
        self.go_to_lesson_step(target)

    def go_to_lesson_step(self, index: int) -> None:
        """Show the lesson as it stands after step `index`: replayed from the start, so going back is exact."""
        assert self.lesson is not None
        self._stop_play()
        if self._lesson_snapshots is None:
            self._lesson_snapshots = lesson_snapshots(self.lesson, self.session.tolerance)
        state = state_from_snapshot(index, self._lesson_snapshots[index])
        self.lesson_index = index
        self.session = state.session
        self.preset = state.preset
        self.hidden = state.hidden
        if KNOB_NAMES[self.selected] in state.hidden:
            self.action_select(1)
        self.knob_message = ""
        self.lesson_heading = self._lesson_heading(index)
        self.lesson_note = state.note
        self._publish(rebuild_log=True)
        self._fit(self.size.width, self.size.height)

    def _lesson_heading(self, index: int) -> str:
        assert self.lesson is not None
        return f"{self.lesson.title} {self.glyphs.sep} step {index + 1} of {len(self.lesson.steps)}"

    def on_resize(self, event: events.Resize) -> None:
        self._fit(event.size.width, event.size.height)
        if self.view is not None:
            self._header()

    def watch_lesson_note(self) -> None:
        self._refit()

    def watch_lesson_heading(self) -> None:
        self._refit()

    def _refit(self) -> None:
        """A lesson note came or went (a follower's comes from the presenter): share the rows again."""
        if self._laid_out:
            self._fit(self.size.width, self.size.height)

    def _fit(self, width: int, height: int) -> None:
        """Share the rows (tui/layout.py); a terminal too small gets a notice instead of a broken layout."""
        lesson = self.lesson is not None or bool(self.lesson_heading)  # a follower shows the presenter's
        p = plan(width, height, self.lesson_note if lesson else None)
        self.set_class(p.roomy, "-roomy")
        self.set_class(p.too_small, "-too-small")
        self.arithmetic_rows = p.arithmetic
        self.query_one("#top").styles.height = p.plot
        self.query_one("#left").styles.width = p.knob_width
        self.query_one("#lesson").styles.height = p.lesson or "auto"
        if p.too_small:
            self.query_one("#too-small", Static).update(Text(
                f"knobtui needs at least {MIN_WIDTH} x {p.min_height}: enlarge the terminal to {MIN_WIDTH} x "
                f"{p.min_height} (it is {width} x {height} now)."))

    # ---- the one way state reaches the screen ------------------------------------------------
    def _publish(self, rebuild_log: bool = False) -> None:
        """Make a new view of the session and bring the log in line with it."""
        s = self.session
        self.view = make_view(s, self.preset)
        self._header()
        self._send_state()
        log = self.query_one(IterationLog)
        log.method = s.method  # an empty log's header names this method's columns
        it = s.iteration
        if rebuild_log or it < log.last_iteration:
            if not rebuild_log and 0 < log.first_iteration <= it:
                log.truncate(it, s.record(it).error if it else None)
                return
            log.clear()
            first = max(1, it - log.cap + 1)
            log.extend(s.records(first, it), s.record(first - 1).error if first > 1 else None)
        elif it > log.last_iteration:
            first = max(log.last_iteration + 1, it - log.cap + 1)
            if first > log.last_iteration + 1:
                log.clear()
            log.extend(s.records(first, it), s.record(first - 1).error if first > 1 else None)

    # ---- stepping ----------------------------------------------------------------------------
    def _history_full(self) -> bool:
        """At the session's ceiling of iterations (served sessions have one): say so, and True."""
        if self.limits.history_room(self.session.iteration) == 0:
            self.say(self.limits.history_full(), severity="warning")
            return True
        return False

    def action_step(self) -> None:
        if self._history_full():
            return
        if self.session.step() is None:
            self.say(self.session.status.text, title="Cannot step", severity="warning")
        self._publish()

    def action_back(self) -> None:
        self.session.back()
        self._publish()

    def action_fast_forward(self) -> None:
        self._stop_play()
        room = self.limits.history_room(self.session.iteration)
        if self.session.converged_at is None and self._history_full():
            return
        limit = DEFAULT_FAST_FORWARD_LIMIT if room is None else min(room, DEFAULT_FAST_FORWARD_LIMIT)
        ff = self.session.fast_forward(limit)
        self._publish()
        if ff.stop == "already":
            self.say(f"already {self.session.status.text}", "fast-forward")
        elif ff.stop == "limit" and ff.steps == room:
            self._history_full()
        elif ff.stop == "limit":
            self.say(f"{ff.steps} iterations, not converged yet", "fast-forward")
        else:
            self.say(f"{ff.steps} iterations", "fast-forward", "warning" if ff.stop == "overflow" else "information")

    def _header(self) -> None:
        """The header (on tall terminals): the preset and what it shows, the method and the theme; what the
        preset shows gives way first when the line is short (Textual would cut the end with an ellipsis)."""
        sep = self.glyphs.sep
        preset = PRESETS.get(self.preset)
        tail = f"{sep} {METHOD_NAMES[self.session.method]} {sep} theme {self.theme}"
        sub = f"preset {self.preset}: {preset.shows} {tail}" if preset is not None else ""
        if not sub or len(sub) > self.size.width - 34:  # the header's icon, title and margins take the rest
            sub = f"preset {self.preset} {tail}"
        if self.ascii:  # Textual's header joins title and subtitle with an em dash
            self.title, self.sub_title = f"knobtui - {sub}", ""
        else:
            self.sub_title = sub

    def _keep_for_undo(self) -> None:
        """Remember the session and preset before a change that throws a run away (u brings it back)."""
        self._undo.append((self.session.copy(), self.preset))
        del self._undo[:-UNDO_DEPTH]

    def action_undo(self) -> None:
        """u: back to before the last preset, reset or method switch, with the run's whole history."""
        if not self._undo:
            self.say("nothing to undo (u takes back a preset, a reset or a method switch)", title="Undo")
            return
        self._stop_play()
        self.session, self.preset = self._undo.pop()
        self.knob_message = ""
        self._publish(rebuild_log=True)
        self.say(f"back to preset {self.preset} at iteration {self.session.iteration}", title="Undo")

    def action_reset(self) -> None:
        self._stop_play()
        self._keep_for_undo()
        self.session.reset()
        self.knob_message = ""
        self._publish(rebuild_log=True)

    def action_preset(self, name: str) -> None:
        """Load a preset: its knobs and method become the session's new start (u takes it back)."""
        self._stop_play()
        self._keep_for_undo()
        preset = get_preset(name)
        self.preset = preset.name
        self.session = Session(preset.knobs, preset.method, self.session.tolerance)
        self.knob_message = ""
        self._publish(rebuild_log=True)

    def action_switch_method(self) -> None:
        self.set_method(METHODS[1 - METHODS.index(self.session.method)])

    def action_method(self, method: str) -> None:
        """The palette's 'Method: ...' (a key's path, so follow mode can refuse it)."""
        self.set_method(method)

    def set_method(self, method: str) -> None:
        """Switch the update rule from the next iteration on (u switches back)."""
        if method != self.session.method:
            self._keep_for_undo()
        self.session.set_method(method)  # type: ignore[arg-type]
        self._publish()

    def get_key_display(self, binding: Binding) -> str:
        """How Textual writes a key (its Keys panel): in ASCII mode words instead of arrows and the return symbol."""
        display = super().get_key_display(binding)
        if self.ascii:
            from .screens.plain import plain_key_display
            display = plain_key_display(display, binding.key)
        return display

    def action_command_palette(self) -> None:
        """ctrl+p: Textual's command palette (one that survives keys queued behind the one that closes it);
        in ASCII mode one without its emoji, ellipsis and block rules."""
        from textual.command import CommandPalette
        from .screens.plain import PlainCommandPalette, SafeCommandPalette
        if self.use_command_palette and not CommandPalette.is_open(self):
            self.push_screen(PlainCommandPalette() if self.ascii else SafeCommandPalette(id="--command-palette"))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        # Textual's own theme picker would offer themes without knobtui's colours: ours are "Theme: ..."
        # (and its Keys panel and Screenshot repeat what help and s do, in Textual's own words)
        yield from (c for c in super().get_system_commands(screen) if c.title not in ("Theme", "Keys", "Screenshot"))
        from .commands import simulator_commands
        yield from simulator_commands(self)

    # ---- autoplay ----------------------------------------------------------------------------
    def action_play(self) -> None:
        if self._timer is not None:
            self._stop_play()
        else:
            self._start_play()

    def action_speed(self, change: int) -> None:
        self.speed = max(0, min(len(SPEEDS) - 1, self.speed + change))
        if self._timer is not None:
            self._start_play()
        else:
            self.status_extra = ((f"autoplay {SPEEDS[self.speed]}/s", 3),)

    def _start_play(self) -> None:
        if self._timer is not None:
            self._timer.stop()
        if self.session.status.kind in STOPS:
            self.say(f"nothing to play: {self.session.status.text}", title="Play")
            return
        if self._history_full():
            return
        rate = SPEEDS[self.speed]
        ticks = min(rate, FRAME_RATE)
        self._per_tick = max(1, round(rate / ticks))
        self._timer = self.set_interval(1 / ticks, self._tick)
        self.playing = f"playing {rate}/s"

    def _stop_play(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        self.playing = ""

    def _tick(self) -> None:
        """One frame of autoplay: a few iterations, stopping where learning stops (the status says why)."""
        if not self.is_running or not self.query(IterationLog):  # the app is closing under the timer
            self._stop_play()
            return
        s = self.session
        if s.status.kind in STOPS:
            self._stop_play()
            return
        room = self.limits.history_room(s.iteration)
        if room == 0:
            self._stop_play()
            self._history_full()
            return
        before = s.iteration
        ff = s.fast_forward(self._per_tick if room is None else min(room, self._per_tick))
        if s.iteration == before or ff.stop != "limit" or s.status.kind in STOPS:
            self._stop_play()
        self._publish()
        if self.limits.history_room(s.iteration) == 0:
            self._stop_play()
            self._history_full()

    # ---- knobs -------------------------------------------------------------------------------
    def action_select(self, change: int) -> None:
        """Select the next (or previous) knob that is shown."""
        if self.query_one(KnobPanel).editing:
            return
        shown = [i for i, name in enumerate(KNOB_NAMES) if name not in self.hidden] or [self.selected]
        at = shown.index(self.selected) if self.selected in shown else 0
        self.selected = shown[(at + change) % len(shown)]

    def action_nudge(self, direction: int, coarse: bool = False) -> None:
        if self.query_one(KnobPanel).editing:
            return
        knob = KNOB_NAMES[self.selected]
        value = getattr(self.session.knobs, knob)
        self._set_knob(knob, nudge(value, direction, coarse, positive=knob == "step_amount"))

    def action_edit(self) -> None:
        panel = self.query_one(KnobPanel)
        panel.begin_edit(repr(getattr(self.session.knobs, KNOB_NAMES[self.selected])))

    @on(KnobPanel.Edited)
    def _edited(self, event: KnobPanel.Edited) -> None:
        try:
            value = parse_number(event.knob, event.text)
        except KnobError as exc:
            old = getattr(self.session.knobs, event.knob)
            self.knob_message = f"{exc}; kept {old!r}"
            self.say(self.knob_message, title="Refused", severity="error")
            return
        self.query_one(KnobPanel).end_edit()
        self._set_knob(event.knob, value)

    @on(KnobPanel.Cancelled)
    def _cancelled(self) -> None:
        self.query_one(KnobPanel).end_edit()
        self.knob_message = ""

    def _set_knob(self, knob: str, value: float) -> None:
        try:
            self.session.set_knobs(**{knob: value})
        except KnobError as exc:
            self.knob_message = f"{exc}; kept {getattr(self.session.knobs, knob)!r}"
            return
        self.knob_message = ""
        self._publish()

    # ---- writing down ------------------------------------------------------------------------
    def _file_stem(self) -> str:
        """knobtui-<preset>; never a path (a follower's preset name comes from elsewhere)."""
        return f"knobtui-{self.preset if self.preset in PRESETS else 'session'}"

    def _file_refused(self, title: str, size: int | None = None, about: bool = False) -> bool:
        """Say why another file (of `size` bytes) cannot be written now, if it cannot; True then."""
        if self._exporting is not None:
            self.say(f"still writing the last export ({self._exporting})", title=title, severity="warning")
            return True
        refusal = self.files.refusal(size, about)
        if refusal is not None:
            self.say(refusal, title=title, severity="warning")
            return True
        return False

    def action_export(self, fmt: str) -> None:
        """Write every iteration (and the knobs it was taken under) to a new file in the current directory.

        A short history is written at once. A long one is written in a thread, from a copy of the
        session, a line at a time (2.5 million iterations are 741 MB of JSON lines): the keys keep
        working, and the message says how big it will be. A served session writes only what its
        quota has left, and says what is left."""
        if self._file_refused("Export"):
            return
        session = self.session
        estimate = estimate_export_bytes(session, fmt)
        left = self.files.bytes_left
        if left is not None and estimate > left * 1.1:  # clearly too big: refuse before writing any of it
            self._file_refused("Export", estimate, about=True)
            return
        stem = self._file_stem()
        if estimate <= EXPORT_AT_ONCE:
            try:
                path, size = export_session(session, fmt, Path.cwd(), stem, max_bytes=left)
            except (TooBig, OSError, ValueError) as exc:
                self._export_failed(exc)
                return
            self._exported(path, size, session.iteration)
            return
        self._exporting = f"about {human_bytes(estimate)} ({session.iteration:,} iterations)"
        self.say(f"writing {self._exporting} to a new file in {Path.cwd()}", title="Export")
        self.run_worker(self._export_in_thread(session.copy(), fmt, stem, left), group="export")

    def _export_failed(self, exc: Exception) -> None:
        if isinstance(exc, TooBig):
            self.say(self.files.too_big(), title="Export", severity="warning")
        else:
            self.say(f"could not export: {exc}", title="Export", severity="error")

    async def _export_in_thread(self, session: Session, fmt: str, stem: str, left: int | None) -> None:
        stop = threading.Event()
        try:
            path, size = await asyncio.to_thread(export_session, session, fmt, Path.cwd(), stem, left, stop.is_set)
        except asyncio.CancelledError:  # the app is closing: the thread stops at its next piece, leaving no file
            stop.set()
            raise
        except (TooBig, OSError, ValueError) as exc:
            self._export_failed(exc)
            return
        finally:
            self._exporting = None
        self._exported(path, size, session.iteration)

    def _exported(self, path: Path, size: int, iterations: int) -> None:
        self.files.spend(size)
        left = self.files.left()
        self.say(f"{iterations} iteration{'s' if iterations != 1 else ''} written to {path} "
                 f"({human_bytes(size)}{'; ' + left if left else ''})", title="Export")

    def action_screenshot(self) -> None:
        svg = self.export_screenshot()
        size = len(svg.encode("utf-8"))
        if self._file_refused("Screenshot", size):
            return
        try:
            path = write_new_file(Path.cwd(), self._file_stem(), "svg", svg)
        except OSError as exc:
            self.say(f"could not save a screenshot: {exc}", title="Screenshot", severity="error")
            return
        self.files.spend(size)
        self.say(f"saved {path}", title="Screenshot")

    # ---- looks -------------------------------------------------------------------------------
    def action_next_theme(self) -> None:
        names = theme_names()
        current = names.index(self.theme) if self.theme in names else -1
        self.theme = names[(current + 1) % len(names)]

    def watch_theme(self, theme: str) -> None:
        if self._remember:
            remember_theme(theme)
        if self.is_mounted and self.view is not None:
            self._header()

    async def run_action(self, action, default_namespace=None, namespaces=None) -> bool:  # type: ignore[no-untyped-def]
        self.note = ("", "")  # a message lasts until the next key
        return await super().run_action(action, default_namespace, namespaces)

    def say(self, message: str, title: str = "", severity: str = "information") -> None:
        """Show a message at the front of the status line until the next key: never over the curve or the
        log, one at a time, and never markup (messages quote what people typed)."""
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

    def action_log_page(self, direction: int) -> None:
        """PageUp / PageDown: scroll the iteration log a page."""
        self.query_one(IterationLog).page(direction)

    def action_log_end(self, direction: int) -> None:
        """Home / End: the log's first line / its newest."""
        log = self.query_one(IterationLog)
        log.to_end() if direction > 0 else log.to_start()

    # ---- other screens -----------------------------------------------------------------------
    def action_toggle_plot(self) -> None:
        self.per_iteration = not self.per_iteration

    def action_help(self) -> None:
        from .screens.help import HelpScreen
        self.push_screen(HelpScreen())

    def action_compare(self) -> None:
        from .screens.compare import CompareScreen
        self._stop_play()
        self.push_screen(CompareScreen(self.session.knobs, self.session.tolerance))


def run_app(start: Start, theme: str | None = None, ascii: bool = False,
            hidden: frozenset[str] = frozenset(), lesson: Lesson | None = None,
            link: tuple[str, str, str] | None = None) -> int:
    """Run the simulator in this terminal; the exit status. The theme chosen is remembered for next time.

    In a visitor's simulator (`knobtui serve` sets KNOBTUI_SERVED=1) a crash is not Textual's traceback
    on the visitor's screen but a short apology, with the details appended to the file KNOBTUI_CRASH_LOG
    names (tui/crash.py), and exit status 1; the session has the served limits (tui/limits.py), and the
    theme a visitor picks is not remembered for everyone else."""
    if theme is not None and theme not in theme_names():
        theme = None  # a remembered theme that no longer ships
    served = is_served(os.environ)
    if not served:
        app = KnobApp(start, theme=theme, remember=True, ascii=ascii, hidden=hidden, lesson=lesson, link=link)
        app.run()
        return app.return_code or 0
    report = CrashReport(os.environ.get(CRASH_LOG_ENV) or None)
    code: int | None = None
    try:
        app = KnobApp(start, theme=theme, ascii=ascii, hidden=hidden, lesson=lesson, link=link)
        app.error_console = report.console  # Textual prints a crash's traceback here, after restoring the terminal
        app.run()
        code = app.return_code
        if report.crashed:  # Python's own traceback first (Textual's report, with locals, follows)
            first = getattr(app, "_exception", None)  # Textual keeps the first unhandled exception here
            if isinstance(first, BaseException):
                report.add_exception(first, before=True)
    except Exception as exc:  # escaped Textual altogether (it restores the terminal on the way out)
        report.add_exception(exc)
    if report.crashed:
        report.finish()
        return 1
    return code or 0


__all__ = ["KNOB_LABELS", "KnobApp", "run_app"]
