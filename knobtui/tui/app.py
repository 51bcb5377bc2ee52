"""KnobApp: each key is one Session call, then `publish`: the new view flows down to the widgets.

The rooms around it: keys.py (every key, once), layout.py (rows, widgets), autoplay.py (p, f), knob_controls.py,
undo.py, lesson_player.py (n/N), predicting.py (a), presenting.py (presenter mode), room_quiz.py (a, presenting), exports.py (e/E/s),
commands.py (the palette), themes.py (looks), main.py (running it). docs/architecture.md walks a key through.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from textual import events, on
from textual.app import App, ComposeResult
from textual.reactive import var

from ..learning import DEFAULT_TOLERANCE, KNOB_NAMES, METHODS, Scene, Session, Start, check_method, get_preset
from ..learning.lesson import Lesson
from ..learning.predict import hide_answer
from ..learning.view import View, make_view
from ..presenter.protocol import LinkConfig
from .autoplay import SPEEDS, Autoplay
from .commands import PaletteMixin
from .exports import Exports
from .glyphs import glyphs, plain_text
from .keys import KEYS, Key, bar_entries, bindings, keymap_of
from .knob_controls import KnobControls
from .layout import apply_plan, simulator_widgets
from .lesson_player import LessonPlayer
from .limits import Limits
from .predicting import Predicting
from .presenting import Presenting
from .room_quiz import RoomQuiz
from .themes import DEFAULT_THEME, LooksMixin, use_knobtui_themes
from .undo import Undo
from .widgets import IterationLog, KnobPanel

if TYPE_CHECKING:
    from collections.abc import Mapping

    from textual.actions import ActionParseResult
    from textual.dom import DOMNode
    from textual.driver import Driver


class KnobApp(PaletteMixin, LooksMixin, App[None]):
    """The simulator: a knob panel, the arithmetic, the error curve, the iteration log and the status."""

    CSS_PATH = ["knobtui.tcss", "ascii.tcss"]
    TITLE = "knobtui"
    AUTO_FOCUS = None  # keys go to the app's bindings; only the knob editor takes focus, while open
    BINDINGS = bindings()

    view: var[View | None] = var(None)  # what the screen shows; replaced, never mutated, after every change
    selected: var[int] = var(0)  # the selected knob (index into KNOB_NAMES)
    editing: var[bool] = var(False)  # the knob editor is open (Enter): the arrows edit text, not knobs
    knob_message: var[str] = var("")  # why the last knob entry was refused
    playing: var[str] = var("")  # autoplay's label while it runs ('playing 8/s')
    per_iteration: var[bool] = var(False)  # the plot shows error per iteration instead of the curve
    arithmetic_rows: var[int] = var(7)  # the lines the layout gives the arithmetic (tui/layout.py)
    note: var[tuple[str, str]] = var(("", ""))  # the last message and its severity, until the next key
    note_brief: var[str] = var("")  # the same message in fewer words (a claim's brief form), or nothing
    status_extra: var[tuple[tuple[str, int], ...]] = var(())  # the status line's extras: the autoplay speed
    keys_shown: var[tuple[tuple[str, str, int], ...]] = var(())  # the key bar for the situation now
    hidden: var[frozenset[str]] = var(frozenset())  # knobs a lesson (or --hide) keeps off the panel
    lesson_note: var[str] = var("")  # the note of the lesson step on screen
    lesson_heading: var[str] = var("")  # 'lesson title · step k of n', or empty without a lesson
    link_status: var[str] = var("")  # presenter mode: 'presenting to N', 'following the presenter', ...
    outcome_hidden: var[bool] = var(False)  # the lesson step (or the presenter's scene) keeps the next outcome back
    followers: var[int] = var(0)  # presenter mode: how many follow the presenter now (the join screen's count)

    def __init__(self, start: Start, tolerance: float = DEFAULT_TOLERANCE, theme: str | None = None,
                 remember: bool = False, ascii: bool = False, hidden: frozenset[str] = frozenset(),
                 lesson: Lesson | None = None, link: LinkConfig | None = None, limits: Limits | None = None,
                 keys: tuple[Key, ...] = KEYS) -> None:
        super().__init__()
        self.key_table = keys  # the one key table, with the user's keymap (tui/keys.py)
        if keys is not KEYS:
            self.set_keymap(keymap_of(keys))
        self.limits = Limits.from_env(os.environ) if limits is None else limits
        self.ascii, self.glyphs = ascii, glyphs(ascii)
        self.session = Session(start.knobs, start.method, tolerance)
        self.preset = start.preset
        self.set_reactive(KnobApp.hidden, frozenset(hidden))
        self.selected = next((i for i, name in enumerate(KNOB_NAMES) if name not in self.hidden), 0)
        self.autoplay, self.exports, self.knobs = Autoplay(self), Exports(self), KnobControls(self)
        self.predicting, self._extras = Predicting(self), dict[str, tuple[str, int]]()
        self.lessons = LessonPlayer(self, lesson, tolerance, self.glyphs.sep) if lesson else None
        self.presenting = Presenting(self, link, os.environ) if link else None
        self.room_quiz = RoomQuiz(self)
        self.undo = Undo(self)
        self._remember = remember
        self.theme = use_knobtui_themes(self, theme)

    def get_driver_class(self) -> type[Driver]:
        """On Linux, a driver that survives bytes that are not UTF-8 (tui/driver.py)."""
        from .driver import tolerant
        return tolerant(super().get_driver_class())

    # ---- layout ------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        return simulator_widgets(self)  # tui/layout.py: the widgets, each bound to the reactives it shows

    def on_mount(self) -> None:
        self.set_class(self.ascii, "-ascii")
        self._laid_out = True
        self.fit()
        self.show_keys()
        if self.presenting is not None:
            self.presenting.start()
        if self.lessons is not None:
            self.lessons.show(0)
        else:
            self.publish(rebuild_log=True)

    def show_keys(self) -> None:
        """The key bar for the situation now."""
        when = {"lesson"} if self.lessons is not None else set()
        situation = self.presenting.key_situation() if self.presenting is not None else set()
        self.keys_shown = tuple(bar_entries(when | situation, self.ascii, self.key_table))

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
        self.room_quiz.refresh()  # a follower: the room's question shown if it is about this state
        view = make_view(self.session, self.preset)
        # While a question is due or open (predict mode's, a lesson step's, the room's), its answer is not on
        # the screen, and the room is told to keep it back too.
        hide = self.predicting.hides_answer or self.room_quiz.hides_answer or self.outcome_hidden
        self.view = hide_answer(view) if hide else view
        self.header()
        if self.presenting is not None:
            self.presenting.send(Scene(self.session.recipe(), self.preset, self.hidden, self.lesson_heading,
                                       self.lesson_note, hide))
        self.query_one(IterationLog).sync(self.session, rebuild_log)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if self.room_quiz.asking:
            return action == "quit"  # the room's question holds the state still (the palette included)
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
        if self.presenting is not None and self.presenting.presenter and self.predicting.once is not None:
            kind, self.predicting.once = self.predicting.once, None  # a lesson's question goes to the room
            self.room_quiz.ask(kind)
        elif not (self.predicting.asking and self.predicting.step()):
            self.plain_step()

    def action_predict(self) -> None:
        """a: predict mode; a presenter asks the room instead."""
        if self.presenting is not None and self.presenting.presenter:
            self.room_quiz.ask()
        else:
            self.predicting.toggle()

    def plain_step(self) -> None:
        if not self.history_full() and self.session.step() is None:
            self.say(self.session.status.text, title="Cannot step", severity="warning")
        self.publish()

    def action_back(self) -> None:  # type: ignore[override]  # Textual's own "back" is a screen's; ours steps
        self.session.back()
        self.publish()

    def action_fast_forward(self) -> None:
        self.autoplay.fast_forward()

    def action_play(self) -> None:
        self.autoplay.toggle()

    def action_speed(self, change: int) -> None:
        self.autoplay.change_speed(change)

    # ---- changes that throw a run away (tui/undo.py: u takes them back) --------------------
    def action_reset(self) -> None:
        fresh = self.session.copy()
        fresh.reset()
        self.undo.start_over(fresh, self.preset)

    def action_preset(self, name: str) -> None:
        """Load a preset: its knobs and method become the session's new start."""
        preset = get_preset(name)
        self.undo.start_over(Session(preset.knobs, preset.method, self.session.tolerance), preset.name)

    def action_undo(self) -> None:
        self.undo.undo()

    def action_switch_method(self) -> None:
        self.action_method(METHODS[1 - METHODS.index(self.session.method)])

    def action_method(self, method: str) -> None:
        """Switch the update rule from the next iteration on."""
        if method != self.session.method:
            self.undo.keep()
        self.session.set_method(check_method(method))
        self.publish()

    def action_lesson(self, change: int) -> None:
        """n / N: the next or the previous step of the lesson."""
        if self.lessons is None:
            self.say("no lesson is running (start one with --lesson chapter4)", title="Lesson")
        else:
            self.lessons.move(change)

    # ---- knobs (tui/knob_controls.py) ---------------------------------------------------------
    def action_select(self, change: int) -> None:
        self.knobs.select(change)

    def action_nudge(self, direction: int, coarse: bool = False) -> None:
        self.knobs.nudge(direction, coarse)

    def action_edit(self) -> None:
        self.editing = True

    @on(KnobPanel.Edited)
    def _edited(self, event: KnobPanel.Edited) -> None:
        self.knobs.typed(event.knob, event.text)

    @on(KnobPanel.Cancelled)
    def _cancelled(self) -> None:
        self.editing, self.knob_message = False, ""

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
        self.query_one(IterationLog).to_end() if direction > 0 else self.query_one(IterationLog).to_start()

    def action_help(self) -> None:
        from .screens.help import HelpScreen
        self.push_screen(HelpScreen(self.key_table))

    def action_join(self) -> None:
        """j: the join screen for the projector (the presenter's, under `knobtui serve`)."""
        join = self.presenting.join if self.presenting is not None and self.presenting.presenter else None
        if join is None:
            self.say("the join screen is the presenter's, under knobtui serve", title="Join")
            return
        from .screens.join import JoinScreen
        self.push_screen(JoinScreen(join))

    def action_compare(self) -> None:
        from .screens.compare import CompareScreen
        self.autoplay.stop()
        self.push_screen(CompareScreen(self.session.knobs, self.session.tolerance))

    # ---- messages --------------------------------------------------------------------
    async def run_action(self, action: str | ActionParseResult, default_namespace: DOMNode | None = None,
                         namespaces: Mapping[str, DOMNode] | None = None) -> bool:
        self.note, self.note_brief = ("", ""), ""  # a message lasts until the next key
        return await super().run_action(action, default_namespace, namespaces)

    def set_extra(self, name: str, text: str, rank: int) -> None:
        """One of the status line's extras (the autoplay speed, predict mode's tally); empty text removes it."""
        self._extras = {**self._extras, name: (text, rank)} if text else {k: v for k, v in self._extras.items() if k != name}
        self.status_extra = tuple(self._extras.values())

    def say(self, message: str, title: str = "", severity: str = "information", brief: str = "") -> None:
        """A message at the front of the status line until the next key: never over the curve or the log,
        one at a time, and never markup (messages quote what people typed). A claim of the narrator's
        comes with its `brief` form too: it is shown whole, in the words that fit, never cut."""
        self.note = (f"{title}: {message}" if title else message, severity)
        self.note_brief = (f"{title}: {brief}" if title else brief) if brief else ""

    def notify(self, message: str, *, title: str = "", severity: str = "information",
               timeout: float | None = None, markup: bool = True) -> None:
        """Textual's own messages (and any widget's) go to the status line too, as plain text."""
        self.say(plain_text(message) if markup else message, title, severity)


__all__ = ["DEFAULT_THEME", "SPEEDS", "KnobApp"]
