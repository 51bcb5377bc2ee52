"""Pilot tests: every key of the simulator, asserted against the engine."""

from __future__ import annotations

import math
import os
import shutil
import tempfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from knobtui.learning import KNOB_NAMES, PRESETS, Scene, Session, get_preset
from knobtui.learning.view import make_view
from knobtui.records import book_line
from knobtui.tui.app import SPEEDS, KnobApp
from knobtui.tui.widgets import IterationLog, KnobPanel

from appkit import make_app

from knobtui.learning.predict import hide_answer

SIZE = (100, 30)


def engine(preset: str = "gradient") -> Session:
    p = get_preset(preset)
    return Session(p.knobs, p.method)


def consistent(app: KnobApp) -> None:
    """The screen shows exactly what the engine holds."""
    s = app.session
    view = make_view(s, app.preset)
    asks = app.predicting.hides_answer or app.room_quiz.hides_answer
    assert app.view == (hide_answer(view) if asks else view)  # hidden only while a question is due
    log = app.query_one(IterationLog)
    assert log.last_iteration == s.iteration
    if s.iteration:
        assert log.lines[-1] == f"{s.iteration} {book_line(s.record(s.iteration))}"
    for w in s.weights():
        assert math.isfinite(w)


async def test_space_steps_like_the_book() -> None:
    """space takes one iteration; the log shows the book's line."""
    app = make_app("gradient")
    ref = engine("gradient")
    async with app.run_test(size=SIZE) as pilot:
        for _ in range(3):
            await pilot.press("space")
            ref.step()
        assert app.session.iteration == 3
        assert [r for r in app.session.records()] == list(ref.records())
        log = app.query_one(IterationLog)
        assert log.lines[0].startswith("1 Error: 0.30250000000000005 Prediction: 0.25")
        assert log.lines[1].startswith("2 Error: 0.17015625000000004 Prediction: 0.3875")
        consistent(app)


async def test_back_returns_to_earlier_iterations() -> None:
    app = make_app("from-zero")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("space", "space", "space", "b")
        assert app.session.iteration == 2
        assert app.session.weight == 0.7000000000000001
        consistent(app)
        await pilot.press("b", "b", "b")
        assert app.session.iteration == 0
        assert app.query_one(IterationLog).lines == []
        consistent(app)


async def test_fast_forward_hot_cold_converges_at_1101() -> None:
    """f on the hot-cold preset: converged at iteration 1101, as in the book."""
    app = make_app("hot-cold")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f")
        await pilot.pause()
        assert app.session.converged_at == 1101
        assert app.view.status.text == "converged at iteration 1101"
        status = app.query_one("#status").render_line(0).text
        assert "converged at iteration 1101" in status and "fast-forward: 1101 iterations" in status
        log = app.query_one(IterationLog)
        assert log.lines[-1].startswith("1101 Error: 1.0799505792475652e-27 Prediction: 0.7999999999999672")
        consistent(app)


async def test_fast_forward_divergence_stops_at_overflow() -> None:
    app = make_app("divergence")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f")
        assert app.session.status.kind == "overflow"
        assert app.view.next is None
        assert "alpha*input**2 = 4.0" in app.view.status.text
        consistent(app)
        await pilot.press("space")  # refused, state kept
        assert app.session.status.kind == "overflow"
        await pilot.press("b")
        assert app.session.status.kind == "diverging"
        consistent(app)


async def test_play_pause_and_speed() -> None:
    app = make_app("hot-cold")
    async with app.run_test(size=SIZE) as pilot:
        start_speed = app.autoplay.speed
        await pilot.press("plus", "plus")
        assert app.autoplay.speed == start_speed + 2
        await pilot.press("minus", "minus", "minus")
        assert app.autoplay.speed == start_speed - 1
        await pilot.press("p")
        assert app.stage.playing == f"playing {SPEEDS[app.autoplay.speed]}/s"
        await pilot.pause(0.6)
        await pilot.press("p")
        assert app.stage.playing == ""
        assert app.session.iteration > 0
        assert not app.autoplay.running  # its timer is gone: nothing steps the session any more
        consistent(app)


async def test_autoplay_stops_when_converged() -> None:
    app = make_app("watch-four")
    async with app.run_test(size=SIZE) as pilot:
        for _ in range(len(SPEEDS)):
            await pilot.press("plus")
        await pilot.press("p")
        for _ in range(40):
            await pilot.pause(0.05)
            if not app.stage.playing:
                break
        assert app.stage.playing == ""
        assert app.session.status.kind == "converged"
        consistent(app)


def curve_text(app: KnobApp) -> list[str]:
    plot = app.query_one("#plot")
    return [plot.render_line(y).text for y in range(plot.size.height)]


async def test_the_curve_moves_while_playing_and_shows_the_last_state_once_paused() -> None:
    """At autoplay the curve is redrawn less often than the numbers; it still moves, and a pause leaves the
    curve of the state on screen, the same as a fresh drawing of it."""
    app = make_app("hot-cold")  # its slope, in the legend, changes every iteration
    async with app.run_test(size=SIZE) as pilot:
        for _ in range(3):
            await pilot.press("plus")  # 120 a second
        await pilot.pause()
        before = curve_text(app)
        await pilot.press("p")
        for _ in range(200):
            await pilot.pause(0.02)
            if curve_text(app) != before:
                break
        assert curve_text(app) != before, "the curve never moved while playing"
        plot = app.query_one("#plot")
        for _ in range(12):  # paused at different moments of the curve's redraws
            await pilot.press("p")
            assert app.stage.playing == ""
            await pilot.pause()
            on_screen = curve_text(app)
            plot.invalidate()
            plot.redraw()  # a fresh drawing of the state on screen
            assert curve_text(app) == on_screen
            started = app.session.iteration
            await pilot.press("p")
            for _ in range(100):
                await pilot.pause(0.01)
                if app.session.iteration >= started + 3:
                    break


async def test_a_stage_that_comes_while_the_app_closes_is_not_shown() -> None:
    """Autoplay's timer may tick once more while the app shuts down, and its stop() sets the stage: that
    stage has no widgets to go to any more, and must not raise (CI saw NoMatches for '#lesson')."""
    app = make_app("hot-cold")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("p")
        assert app.stage.playing and app.showing
    assert not app.showing
    app.stage = app.stage.but(playing="", knob_message="a timer's last word, after the widgets went")


async def test_method_switch_keeps_history() -> None:
    app = make_app("gradient")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("space", "m", "space")
        s = app.session
        assert [r.method for r in s.records()] == ["gradient", "hot-cold"]
        assert s.record(2).weight == s.record(1).new_weight
        await pilot.press("b", "b")
        assert s.method == "gradient" and s.iteration == 0
        consistent(app)


async def test_reset_and_presets_by_digit() -> None:
    app = make_app("gradient")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("space", "space", "r")
        assert app.session.iteration == 0
        for key, name in zip("1234567890", PRESETS):
            await pilot.press(key)
            p = get_preset(name)
            assert app.preset == name
            assert app.session.knobs == p.knobs and app.session.method == p.method
            consistent(app)


async def test_knob_nudges_and_selection() -> None:
    app = make_app("gradient")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("right")
        assert app.session.knobs.weight == 0.51
        await pilot.press("shift+left")
        assert app.session.knobs.weight == 0.41
        await pilot.press("down", "left")  # input 0.5 -> 0.49
        assert KNOB_NAMES[app.stage.selected] == "input"
        assert app.session.knobs.input == 0.49
        await pilot.press("up", "up")  # wraps to step amount
        assert KNOB_NAMES[app.stage.selected] == "step_amount"
        for _ in range(6):
            await pilot.press("shift+left")
        assert app.session.knobs.step_amount > 0
        consistent(app)


async def test_knob_change_mid_run_keeps_history() -> None:
    app = make_app("gradient")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("space", "space")
        before = list(app.session.records())
        await pilot.press("down", "down", "down", "left")  # alpha 1.0 -> 0.9
        assert app.session.knobs.alpha == 0.9
        assert list(app.session.records()) == before
        await pilot.press("space")
        assert app.session.record(3).new_weight == app.session.record(3).weight - 0.9 * app.session.record(3).weight_delta
        consistent(app)


@pytest.mark.parametrize("text", ["abc", "nan", "inf", "1e999", ""])
async def test_typed_entry_refused_keeps_old_value(text: str) -> None:
    app = make_app("gradient")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter")
        panel = app.query_one(KnobPanel)
        assert panel.editing
        editor = panel.query_one("Input")
        editor.value = text
        await pilot.press("enter")
        assert app.session.knobs.weight == 0.5
        assert "weight" in app.stage.knob_message and "kept 0.5" in app.stage.knob_message
        assert panel.editing  # still open to fix the entry
        await pilot.press("escape")
        assert not panel.editing and app.stage.knob_message == ""
        await pilot.press("space")  # keys reach the app again
        assert app.session.iteration == 1


async def test_typed_entry_sets_exact_value_and_step_amount_must_be_positive() -> None:
    app = make_app("gradient")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("down", "enter")
        app.query_one(KnobPanel).query_one("Input").value = "2"
        await pilot.press("enter")
        assert app.session.knobs.input == 2.0
        await pilot.press("down", "down", "down", "enter")
        app.query_one(KnobPanel).query_one("Input").value = "0"
        await pilot.press("enter")
        assert app.session.knobs.step_amount == 0.001
        assert "step amount" in app.stage.knob_message and "greater than 0" in app.stage.knob_message
        consistent(app)


async def test_toggle_plot_compare_help_and_quit() -> None:
    app = make_app("gradient")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("g")
        assert app.stage.per_iteration
        await pilot.press("g")
        assert not app.stage.per_iteration
        await pilot.press("c")
        assert type(app.screen).__name__ == "CompareScreen"
        text = str(app.screen.query_one("#compare-text").render())
        assert "converged at iteration 1101" in text  # hot and cold from the gradient preset's knobs
        assert "converged at iteration 39" in text
        await pilot.press("escape")
        await pilot.press("question_mark")
        assert type(app.screen).__name__ == "HelpScreen"
        await pilot.press("escape")
        assert type(app.screen).__name__ == "Screen"
        await pilot.press("q")
    assert app.return_code == 0


async def test_oscillating_and_stuck_statuses_shown() -> None:
    app = make_app("toes")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f")
        assert app.view.status.kind == "oscillating"
        await pilot.press("8")  # stopping
        await pilot.press("space")
        assert app.view.status.kind == "stuck"
        consistent(app)


KEYS = ["space", "space", "space", "b", "f", "m", "r", "p", "p", "plus", "minus", "c", "escape", "question_mark",
        "up", "down", "left", "right", "shift+left", "shift+right", "comma", "full_stop", "g", "t",
        "1", "2", "3", "4", "5", "6", "7", "8", "9", "0", "a", "s", "y", "n"]
ENTRIES = st.one_of(st.text(max_size=8), st.floats(allow_nan=True).map(repr),
                    st.sampled_from(["1e-17", "1e300", "-1e308", "1e-200", "0", "-0.0", "1e999", "5e-324"]))
ACTIONS = st.one_of(st.sampled_from(KEYS), st.tuples(st.just("enter"), ENTRIES))


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(actions=st.lists(ACTIONS, min_size=1, max_size=30))
async def test_fuzz_keys_and_entries_keep_screen_equal_to_engine(actions: list) -> None:  # type: ignore[type-arg]
    """Random keys and typed entries (any knob, any text) never raise; the screen always matches the engine."""
    app = make_app("gradient")
    here = os.getcwd()
    folder = tempfile.mkdtemp()  # `s` saves a screenshot to the current folder: not the repository's
    os.chdir(folder)
    try:
        await _fuzz(app, actions)
    finally:
        os.chdir(here)
        shutil.rmtree(folder, ignore_errors=True)


async def _fuzz(app: KnobApp, actions: list) -> None:  # type: ignore[type-arg]
    async with app.run_test(size=(80, 24)) as pilot:
        for action in actions:
            if isinstance(action, tuple):
                if type(app.screen).__name__ != "Screen":
                    await pilot.press("escape")
                await pilot.press("enter")
                app.query_one(KnobPanel).query_one("Input").value = action[1]
                await pilot.press("enter", "escape")
            else:
                await pilot.press(action)
        if app.stage.playing:
            await pilot.press("p")
        while type(app.screen).__name__ != "Screen":
            await pilot.press("escape")
        await pilot.pause()
        consistent(app)


async def palette_lists(pilot, words: str) -> None:  # type: ignore[no-untyped-def]
    """Wait until the command palette lists a command with `words` (its search runs in the background)."""
    from textual.widgets import OptionList
    for _ in range(500):
        lists = pilot.app.screen.query(OptionList)
        if lists and any(words in str(lists.first().get_option_at_index(i).prompt)
                         for i in range(lists.first().option_count)):
            return
        await pilot.pause(0.01)
    raise AssertionError(f"the palette never listed {words!r}")


async def test_command_palette_loads_a_preset_and_a_method() -> None:
    """ctrl+p lists presets and methods; choosing one loads it."""
    app = make_app("gradient")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+p")
        await pilot.press(*"preset: toes")
        await palette_lists(pilot, "toes")
        await pilot.press("enter")
        await pilot.pause()
        assert app.preset == "toes" and app.session.method == "hot-cold"
        await pilot.press("ctrl+p")
        await pilot.press(*"method: gradient")
        await palette_lists(pilot, "gradient")
        await pilot.press("enter")
        await pilot.pause()
        assert app.session.method == "gradient"
        consistent(app)


@pytest.mark.parametrize("preset,knobs", [
    ("gradient", {"alpha": 1e-17}),  # 1 - alpha*input^2 rounds to 1
    ("gradient", {"input": 1e-200}),  # input^2 underflows to 0
    ("hot-cold", {"weight": 1e10, "step_amount": 1e-300}),  # distance / step overflows
    ("gradient", {"weight": -1e308, "input": 1e308}),
])
async def test_extreme_knobs_never_crash_the_screen(preset: str, knobs: dict[str, float]) -> None:
    app = make_app(preset, **knobs)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("space", "f", "g", "g", "m", "space", "c", "escape")
        assert app.view.status.kind != "oscillating" or app.session.method == "hot-cold"
        consistent(app)


async def test_arrow_keys_while_typing_do_not_move_the_edit() -> None:
    app = make_app("gradient")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter")
        app.query_one(KnobPanel).query_one("Input").value = "5"
        await pilot.press("down", "enter")
        assert app.session.knobs.weight == 5.0 and app.session.knobs.input == 0.5


async def test_switching_method_twice_after_converging_keeps_converged() -> None:
    app = make_app("gradient")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f", "m", "m")
        assert app.view.status.text == "converged at iteration 39"
        consistent(app)


async def test_hidden_knobs_are_not_shown_or_selected() -> None:
    app = KnobApp(__import__("appkit").start_at("gradient"), hidden=frozenset({"weight", "alpha"}))
    async with app.run_test(size=SIZE) as pilot:
        assert KNOB_NAMES[app.stage.selected] == "input"
        seen = set()
        for _ in range(6):
            await pilot.press("down")
            seen.add(KNOB_NAMES[app.stage.selected])
        assert seen == {"input", "goal", "step_amount"}
        rows = str(app.query_one("KnobRows").make_renderable())
        assert "weight" not in rows and "alpha" not in rows and "goal" in rows


async def test_log_follows_the_newest_line_unless_scrolled_back() -> None:
    app = make_app("hot-cold")
    async with app.run_test(size=SIZE) as pilot:
        for _ in range(30):
            await pilot.press("space")
        await pilot.pause()
        log = app.query_one(IterationLog)
        height = log.scrollable_content_region.height
        shown = [log.render_line(y).text for y in range(height)]
        assert shown[-1].lstrip().startswith("30")
        log.scroll_to(y=log.max_scroll_y - 10, animate=False, immediate=True)
        await pilot.pause()
        assert not log.at_newest
        before = [log.render_line(y).text for y in range(height)]
        await pilot.press("space")
        await pilot.pause()
        assert [log.render_line(y).text for y in range(height)] == before  # stays where the reader is
        log.scroll_end(animate=False, immediate=True)
        await pilot.pause()
        assert log.at_newest
        assert log.render_line(height - 1).text.lstrip().startswith("31")


async def test_following_again_replaces_the_log_of_a_follower_who_played_alone() -> None:
    """The state a follower receives rebuilds its log when its own history no longer matches."""
    presenter = Session(get_preset("gradient").knobs, "gradient")
    presenter.run(3)
    presenter.set_knobs(alpha=0.1)
    presenter.run(1)
    app = make_app("gradient")
    async with app.run_test(size=SIZE) as pilot:
        for _ in range(8):
            await pilot.press("space")  # played alone to iteration 8 with alpha 1.0
        assert app.become(Scene(presenter.recipe(), "gradient")) is None
        await pilot.pause()
        assert app.session.iteration == 4
        consistent(app)
        log = app.query_one(IterationLog)
        assert [line.split(" ", 1)[1] for line in log.lines] == [book_line(r) for r in presenter.records()]


async def test_a_reset_while_scrolled_back_shows_the_new_lines() -> None:
    app = make_app("hot-cold")
    async with app.run_test(size=SIZE) as pilot:
        for _ in range(40):
            await pilot.press("space")
        log = app.query_one(IterationLog)
        log.scroll_to(y=log.max_scroll_y - 20, animate=False, immediate=True)
        await pilot.pause()
        await pilot.press("r", "space", "space", "space")
        await pilot.pause()
        height = log.scrollable_content_region.height
        assert log.render_line(height - 1).text.lstrip().startswith("3")
        consistent(app)


def test_a_followers_key_bar_offers_only_what_a_follower_may_press() -> None:
    from knobtui.tui.keys import KEYS, bar_entries
    shared = {word for _, word, _ in bar_entries({"follower", "shared"})}
    assert shared == {"alone", "quit"}  # a shared view: the server takes d and q (and answers), no more
    following = {word for _, word, _ in bar_entries({"follower"})}
    assert "step" not in following and {"alone", "quit", "help", "view"} <= following
    ok = {k.bar for k in KEYS if k.follower_ok and k.bar and k.when in ("", "follower")}
    assert following == ok
    assert "ask room" in {word for _, word, _ in bar_entries({"presenter"})}
    assert "ask room" not in {word for _, word, _ in bar_entries(set())}
