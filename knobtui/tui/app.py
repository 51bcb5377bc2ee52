"""KnobApp: each key is one Session call, then `publish`: the next stage (tui/stage.py) goes to `show`.

The rooms around it: stage.py (everything the screen shows, as one value), show.py (the one place a stage
reaches the widgets), host.py (what the helpers may ask of the app; they import it, never the app),
keys.py (every key, once), layout.py (rows, widgets), autoplay.py (p, f), knob_controls.py, undo.py,
lesson_player.py (n/N), predicting.py (a), presenting.py (presenter mode), room_quiz.py (a, presenting),
exports.py (e/E/s), commands.py (the palette), themes.py (looks), main.py (running it).
docs/architecture.md walks a key through.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from textual import events, on
from textual.app import App, ComposeResult
from textual.reactive import var

from ..learning import DEFAULT_TOLERANCE, METHODS, Scene, Session, Start, check_method, get_preset
from ..learning.lesson import Lesson
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
from .show import show, show_log
from .stage import Stage, first_stage
from .themes import DEFAULT_THEME, LooksMixin, use_knobtui_themes
from .undo import NOTHING_TO_UNDO, Undo, undone
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

    stage: var[Stage] = var(Stage(), always_update=True)
    """Everything the screen shows (tui/stage.py); replaced, never mutated. `watch_stage` shows it."""

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
        self.set_reactive(KnobApp.stage, first_stage(frozenset(hidden)))
        self.autoplay, self.exports, self.knobs = Autoplay(self), Exports(self), KnobControls(self)
        self.predicting = Predicting(self)
        self.lessons = LessonPlayer(lesson, tolerance, self.glyphs.sep) if lesson else None
        self.room_quiz = RoomQuiz(self)
        self.presenting = Presenting(self, link, os.environ, self.room_quiz) if link else None
        self.room_quiz.seat = self.presenting
        if self.presenting is not None and self.presenting.shared_view:
            self.set_reactive(KnobApp.stage, self.stage.but(curve_at_once=True))
        self.undo = Undo()
        self._remember = remember
        self.theme = use_knobtui_themes(self, theme)

    def get_driver_class(self) -> type[Driver]:
        """On Linux, a driver that survives bytes that are not UTF-8 (tui/driver.py)."""
        from .driver import tolerant
        return tolerant(super().get_driver_class())

    # ---- the stage --------------------------------------------------------------------------
    def watch_stage(self, before: Stage, stage: Stage) -> None:
        if self.showing:  # not while the app closes: a timer's last stop() would find its widgets gone
            show(self, stage, before)
            if stage.lesson_note != before.lesson_note or stage.lesson_heading != before.lesson_heading:
                self.fit()  # a note came or went (a follower's comes from the presenter): share the rows again

    @property
    def view(self) -> View | None:
        """The engine's view on the stage now (what the screen shows of the session)."""
        return self.stage.view

    @property
    def showing(self) -> bool:
        """The simulator's widgets are there (not yet, or no longer while the app closes)."""
        return self._laid_out and not (self._was_ready and not self.is_running)

    def on_ready(self) -> None:
        # Textual sets is_running after mounting and clears it first thing when it shuts down, before any
        # widget goes: once ready, not running means closing.
        self._was_ready = True

    # ---- layout ------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        return simulator_widgets(self.glyphs, self.ascii)  # tui/layout.py; `show` hands them the stage

    def on_mount(self) -> None:
        self.set_class(self.ascii, "-ascii")
        self._laid_out = True
        show(self, self.stage)
        self.fit()
        self.show_keys()
        if self.presenting is not None:
            self.presenting.start()
        if self.lessons is not None:
            self.show_lesson_step(0)
        else:
            self.publish(rebuild_log=True)

    def show_keys(self) -> None:
        """The key bar for the situation now."""
        when = {"lesson"} if self.lessons is not None else set()
        situation = self.presenting.key_situation() if self.presenting is not None else set()
        self.stage = self.stage.but(keys_shown=tuple(bar_entries(when | situation, self.ascii, self.key_table)))

    def on_resize(self, event: events.Resize) -> None:
        self.fit(event.size.width, event.size.height)

    _laid_out = False  # the widgets are mounted (a resize or a lesson note can come before)
    _was_ready = False  # Textual's Ready came (see on_ready)

    def fit(self, width: int | None = None, height: int | None = None) -> None:
        """Share the rows for this size (tui/layout.py)."""
        if self._laid_out:
            lesson = self.lessons is not None or bool(self.stage.lesson_heading)
            p = apply_plan(self, width or self.size.width, height or self.size.height,
                           self.stage.lesson_note if lesson else None)
            if p.arithmetic != self.stage.arithmetic_rows:
                self.stage = self.stage.but(arithmetic_rows=p.arithmetic)
            self.header()

    # ---- the one way the session reaches the screen --------------------------------------------
    def publish(self, rebuild_log: bool = False) -> None:
        """A new view of the session on the stage, the log brought in line, the room told (presenter mode)."""
        self.room_quiz.refresh()  # a follower: the room's question shown if it is about this state
        # While a question is due or open (predict mode's, a lesson step's, the room's), its answer is not on
        # the screen, and the room is told to keep it back too.
        question = "predict" if self.predicting.hides_answer else "room" if self.room_quiz.hides_answer else ""
        self.stage = stage = self.stage.showing(make_view(self.session, self.preset), question)
        self.header()
        if self.presenting is not None:
            self.presenting.send(Scene(self.session.recipe(), self.preset, stage.hidden, stage.lesson_heading,
                                       stage.lesson_note, stage.keeps_back))
        if self._laid_out:
            show_log(self, self.session, rebuild_log)

    def become(self, scene: Scene) -> str | None:
        """Make the screen a scene (the presenter's; the room's, for a presenter resuming); what is wrong
        with it if it cannot be (nothing changes then)."""
        iteration = scene.recipe.get("iteration")
        ceiling = self.limits.max_history
        if isinstance(iteration, int) and ceiling is not None and iteration > ceiling:
            return f"iteration {iteration:,} is past the {ceiling:,} this session keeps"
        self.autoplay.stop()
        try:
            kept = self.session.follow(scene.recipe)
        except (KeyError, ValueError, TypeError, AttributeError) as exc:
            return str(exc)
        self.preset = scene.preset
        # A follower keeps back what the presenter's screen keeps back; a presenter's own state decides for itself.
        presenter = self.presenting is not None and self.presenting.presenter
        self.stage = self.stage.but(hidden=scene.hidden, lesson_heading=scene.heading, lesson_note=scene.note,
                                    outcome_hidden=scene.outcome_hidden and not presenter)
        if self.lessons is not None:
            self.lessons.find(scene.heading)
        self.publish(rebuild_log=not kept)
        return None

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

    @property
    def taught_divergence(self) -> bool:
        """A lesson has shown divergence by now: overshooting is a fair question."""
        return self.lessons is not None and self.lessons.taught_divergence

    def action_step(self) -> None:
        if self.presenting is not None and self.presenting.presenter and self.predicting.once is not None:
            kind, self.predicting.once = self.predicting.once, None  # a lesson's question goes to the room
            self.ask_the_room(kind)
        elif not (self.predicting.asking and self.predicting.step(self.taught_divergence)):
            self.plain_step()

    def action_predict(self) -> None:
        """a: predict mode; a presenter asks the room instead."""
        if self.presenting is not None and self.presenting.presenter:
            self.ask_the_room()
        else:
            self.predicting.toggle()

    def ask_the_room(self, kind: Any = None) -> None:
        if not self.room_quiz.asking:
            self.autoplay.stop()
        self.room_quiz.ask(kind, self.taught_divergence)

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

    # ---- changes that throw a run away (u takes them back) --------------------------------------
    def start_over(self, session: Session, preset: str) -> None:
        """A new run replaces this one (which `u` can bring back)."""
        self.autoplay.stop()
        self.undo.keep(self.session, self.preset)
        self.session, self.preset = session, preset
        self.stage = self.stage.but(knob_message="")
        self.publish(rebuild_log=True)

    def action_reset(self) -> None:
        fresh = self.session.copy()
        fresh.reset()
        self.start_over(fresh, self.preset)

    def action_preset(self, name: str) -> None:
        """Load a preset: its knobs and method become the session's new start."""
        preset = get_preset(name)
        self.start_over(Session(preset.knobs, preset.method, self.session.tolerance), preset.name)

    def action_undo(self) -> None:
        run = self.undo.take()
        if run is None:
            self.say(NOTHING_TO_UNDO, title="Undo")
            return
        self.autoplay.stop()
        self.session, self.preset = run
        self.stage = self.stage.but(knob_message="")
        self.publish(rebuild_log=True)
        self.say(undone(self.preset, self.session.iteration), title="Undo")

    def action_switch_method(self) -> None:
        self.action_method(METHODS[1 - METHODS.index(self.session.method)])

    def action_method(self, method: str) -> None:
        """Switch the update rule from the next iteration on."""
        if method != self.session.method:
            self.undo.keep(self.session, self.preset)
        self.session.set_method(check_method(method))
        self.publish()

    def action_lesson(self, change: int) -> None:
        """n / N: the next or the previous step of the lesson."""
        if self.lessons is None:
            self.say("no lesson is running (start one with --lesson chapter4)", title="Lesson")
            return
        why = self.lessons.refusal(change)
        if why is not None:
            self.say(why, title="Lesson")
        else:
            self.show_lesson_step(self.lessons.index + change)

    def show_lesson_step(self, index: int) -> None:
        """Put step `index` of the lesson on the screen (tui/lesson_player.py gives its run and stage)."""
        assert self.lessons is not None
        self.autoplay.stop()
        self.session, self.preset, self.stage, ask = self.lessons.step(self.stage, index)
        self.predicting.ask_once(ask)
        self.publish(rebuild_log=True)
        self.fit()

    # ---- knobs (tui/knob_controls.py) ---------------------------------------------------------
    def action_select(self, change: int) -> None:
        self.knobs.select(change)

    def action_nudge(self, direction: int, coarse: bool = False) -> None:
        self.knobs.nudge(direction, coarse)

    def action_edit(self) -> None:
        self.stage = self.stage.but(editing=True)

    @on(KnobPanel.Edited)
    def _edited(self, event: KnobPanel.Edited) -> None:
        self.knobs.typed(event.knob, event.text)

    @on(KnobPanel.Cancelled)
    def _cancelled(self) -> None:
        self.stage = self.stage.but(editing=False, knob_message="")

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
        self.stage = self.stage.but(per_iteration=not self.stage.per_iteration)

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
        self.stage = self.stage.quiet()  # a message lasts until the next key
        return await super().run_action(action, default_namespace, namespaces)

    def say(self, message: str, title: str = "", severity: str = "information", brief: str = "") -> None:
        """A message at the front of the status line until the next key: never over the curve or the log,
        one at a time, and never markup (messages quote what people typed). A claim of the narrator's
        comes with its `brief` form too: it is shown whole, in the words that fit, never cut."""
        self.stage = self.stage.saying(message, title, severity, brief)

    def notify(self, message: str, *, title: str = "", severity: str = "information",
               timeout: float | None = None, markup: bool = True) -> None:
        """Textual's own messages (and any widget's) go to the status line too, as plain text."""
        self.say(plain_text(message) if markup else message, title, severity)


__all__ = ["DEFAULT_THEME", "SPEEDS", "KnobApp"]
