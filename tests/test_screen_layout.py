"""The screen a class sees: the curve's room at every size, numbers that never lie, keys for everything."""

from __future__ import annotations

import math
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from appkit import make_app, start_at
from knobtui.learning import Knobs, Session
from knobtui.learning.analysis import bowl_range, nice_ticks
from knobtui.lessons import load_lesson
from knobtui.tui.app import SPEEDS, KnobApp
from knobtui.tui.layout import plan
from knobtui.tui.numbers import digits_shown, fit
from knobtui.tui.widgets.arithmetic import arithmetic_lines
from knobtui.learning.view import make_view

NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?:e[+-]\d+)?")
SIZES = [(60, 20), (80, 24), (100, 30), (120, 40), (160, 50)]


def screen_lines(app: KnobApp, selector: str) -> list[str]:
    widget = app.query_one(selector)
    return [widget.render_line(y).text for y in range(widget.size.height)]


def canvas_rows(app: KnobApp) -> int:
    """Rows of the plot between its legend row and its x axis: the curve's canvas."""
    lines = screen_lines(app, "#plot")
    axis = next(n for n, line in enumerate(lines) if "└" in line or "+--" in line)
    return axis - 1


def close_enough(shown: str, value: float) -> bool:
    """`shown` is `value` rounded to the significant digits it carries (never another number)."""
    digits = digits_shown(shown)
    return float(f"{value:.{digits}g}") == float(shown) or float(shown) == value


class TestPlan:
    """tui/layout.py shares the rows: the curve first."""

    @pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
    def test_minimums(self, size: tuple[int, int]) -> None:
        p = plan(*size)
        assert p.arithmetic >= 3 and p.log >= 3
        if size[1] >= 24:
            assert p.canvas >= 8
        if size[1] >= 30:
            assert p.canvas >= 14
            assert p.arithmetic >= 5

    def test_lesson_still_fits(self) -> None:
        p = plan(80, 24, "A note that wraps over two lines at eighty columns, as most lesson notes do here.")
        assert not p.too_small and p.lesson == 3 and p.canvas >= 6 and p.arithmetic >= 3


class TestTheCurve:
    """The whole bowl, a steady range, round ticks."""

    def test_bowl_is_centred_on_the_goal_weight(self) -> None:
        lo, hi = bowl_range(1.6, [0.5, 0.775])
        assert lo < 0.5 and hi > 1.6 + (1.6 - 0.5)
        assert math.isclose((lo + hi) / 2, 1.6)

    def test_range_holds_still_then_widens(self) -> None:
        kept = bowl_range(1.6, [0.5])
        assert bowl_range(1.6, [0.5, 1.2, 1.5], kept) == kept
        wider = bowl_range(1.6, [0.5, 3.5], kept)
        assert wider[1] >= 3.5 and wider != kept
        huge = bowl_range(1.6, [1e150], kept)
        assert bowl_range(1.6, [0.5], huge) == kept  # another run: fitted anew, not stuck at the old width

    def test_nice_ticks(self) -> None:
        assert nice_ticks(0.335, 2.865, 6) == [0.5, 1.0, 1.5, 2.0, 2.5]
        assert nice_ticks(1, 0, 5) == []

    @pytest.mark.parametrize("size,least", [((80, 24), 8), ((100, 30), 14), ((120, 40), 14)],
                             ids=["80x24", "100x30", "120x40"])
    async def test_canvas_rows(self, size: tuple[int, int], least: int) -> None:
        app = make_app("gradient")
        async with app.run_test(size=size) as pilot:
            await pilot.press("space", "space")
            await pilot.pause()
            assert canvas_rows(app) >= least

    async def test_legend_names_the_marks(self) -> None:
        app = make_app("gradient")
        async with app.run_test(size=(160, 50)) as pilot:
            await pilot.press("space", "space")
            await pilot.pause()
            lines = screen_lines(app, "#plot")
            legend = next(line for line in lines if "error" in line)
            for word in ("weight now", "slope", "goal weight 1.6", "next weight", "trail"):
                assert word in legend
            assert any(line.rstrip(" │").endswith("weight") for line in lines[-4:])

    async def test_ascii_marks_differ_from_ticks(self) -> None:
        app = KnobApp(start_at("gradient"), ascii=True)
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.press("space", "space", "space")
            await pilot.pause()
            text = "\n".join(screen_lines(app, "#plot"))
            assert all(ord(c) < 128 for c in text)
            legend = text.splitlines()[0]
            assert "@ " in legend and "o trail" in legend and "x next" in legend


class TestNumbersNeverLie:
    """Shortened by significant digits with the exponent kept, never cut."""

    def test_fit(self) -> None:
        assert fit(-1.1598659093614693e+154, 13) == "-1.15987e+154"
        assert fit(-6.250000000000006e-05, 12) == "-6.25e-05"
        assert fit(0.5, 3) == "0.5"

    @settings(max_examples=300, deadline=None)
    @given(st.one_of(st.floats(allow_nan=False, allow_infinity=False),
                     st.floats(min_value=1e-300, max_value=1e300), st.floats(min_value=-1e300, max_value=-1e-300)),
           st.integers(min_value=8, max_value=30))
    def test_fit_parses_back(self, x: float, width: int) -> None:
        shown = fit(x, width)
        assert len(shown) <= max(width, 8)
        assert close_enough(shown, x)

    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(st.floats(min_value=-1e300, max_value=1e300, allow_nan=False),
           st.floats(min_value=-1e3, max_value=1e3, allow_nan=False),
           st.integers(min_value=3, max_value=7), st.integers(min_value=56, max_value=110))
    def test_arithmetic_rows_parse_back(self, weight: float, input: float, rows: int, width: int) -> None:
        """Every number in the arithmetic is one of the iteration's numbers, to the digits shown."""
        s = Session(Knobs(weight=weight, input=input, goal=0.8, alpha=0.01), "gradient")
        view = make_view(s, "custom")
        if view.next is None:
            return
        rec, k = view.next, view.knobs
        truth = [k.weight, k.input, k.goal, k.alpha, rec.prediction, rec.error, rec.delta, rec.weight_delta,
                 rec.new_weight, view.slope, 2.0, 0.0, 0.001, 0.002]
        if view.sensitivity is not None:
            sens = view.sensitivity
            truth += [sens.change, sens.ratio, sens.slope]
        lines = arithmetic_lines(view, rows, width)
        assert len(lines) <= rows
        for head, body in lines:
            assert len(head.ljust(8) + body) <= max(width, 48)
            for token in NUMBER.findall(body):
                assert any(close_enough(token, t) for t in truth), (token, body)
        assert NUMBER.findall(lines[-1 if rows < 6 else 4][1])[-1]  # the new weight is on screen

    @pytest.mark.parametrize("size", [(60, 20), (80, 24), (120, 40)], ids=lambda s: f"{s[0]}x{s[1]}")
    async def test_huge_numbers_on_screen(self, size: tuple[int, int]) -> None:
        """Divergence to overflow: the knob weight keeps its exponent; the status keeps whole parts."""
        app = make_app("divergence")
        async with app.run_test(size=size) as pilot:
            await pilot.press("f")
            await pilot.pause()
            knobs = "\n".join(screen_lines(app, "KnobRows"))
            assert fit(app.session.weight, 30).split("e")[1] in knobs  # the exponent is there
            status = screen_lines(app, "#status")[0]
            for token in NUMBER.findall(status):
                float(token)
            assert not re.search(r"[\d.e+-]…", status)  # a message may give way, never inside a number

    @pytest.mark.parametrize("size", [(60, 20), (80, 24)], ids=lambda s: f"{s[0]}x{s[1]}")
    @pytest.mark.parametrize("lesson", [False, True])
    async def test_new_weight_visible(self, size: tuple[int, int], lesson: bool) -> None:
        """The smallest sizes, with and without a lesson: the arithmetic ends with the new weight."""
        if lesson and size[1] < 24:
            return
        app = KnobApp(start_at("watch-four"), lesson=load_lesson("chapter4") if lesson else None)
        async with app.run_test(size=size) as pilot:
            await pilot.press("space")
            await pilot.pause()
            lines = [line for line in screen_lines(app, "#arithmetic") if line.strip()]
            rec = app.view.next
            if rec is None:
                return
            if app.view.hidden:  # the lesson's first steps keep the outcome back: its place shows ?
                assert any(line.rstrip().endswith("= ?") for line in lines), lines
                return
            last_numbers = [float(t) for line in lines for t in NUMBER.findall(line)]
            assert any(close_enough(repr(rec.new_weight)[:3], n) or math.isclose(n, rec.new_weight, rel_tol=1e-3)
                       for n in last_numbers[-1:])


class TestMessagesAndKeys:
    """One message at a time in the status line; the key bar; undo; autoplay stops."""

    async def test_messages_replace_each_other(self) -> None:
        app = make_app("gradient")
        async with app.run_test(size=(80, 24)) as pilot:
            for _ in range(14):
                await pilot.press("plus")
            await pilot.pause()
            assert not app.query("Toast")
            status = screen_lines(app, "#status")[0]
            assert f"autoplay {SPEEDS[-1]}/s" in status or "autoplay" not in status

    async def test_key_bar_at_80(self) -> None:
        app = KnobApp(start_at("gradient"), lesson=load_lesson("chapter4"))
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            bar = screen_lines(app, "#keys")[0]
            for key in ("space", "↑↓←→", "enter", "g", "n/N", "?"):
                assert key in bar

    async def test_undo_brings_the_run_back(self) -> None:
        app = make_app("gradient")
        async with app.run_test(size=(100, 30)) as pilot:
            for _ in range(7):  # a run to take back: space's action seven times
                await app.run_action("step")
            await pilot.pause()
            before = app.session.recipe()
            await pilot.press("0", ".", "2", "5")  # typed without Enter: three presets and a coarse nudge
            await pilot.press("u", "u", "u", "u")
            await pilot.pause()
            assert app.session.recipe() == before and app.preset == "gradient"
            assert app.query_one("#log").last_iteration == 7

    async def test_autoplay_stops_at_convergence(self) -> None:
        app = make_app("gradient")
        async with app.run_test(size=(80, 24)) as pilot:
            app.autoplay.speed = len(SPEEDS) - 1
            await pilot.press("p")
            while app.stage.playing:
                await pilot.pause(0.05)
            assert app.session.iteration == app.session.converged_at
            assert "converged" in screen_lines(app, "#status")[0]

    async def test_autoplay_stops_when_oscillating(self) -> None:
        app = make_app("toes")
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("p")
            while app.stage.playing:
                await pilot.pause(0.05)
            assert app.session.status.kind == "oscillating"


class TestThemes:
    """A theme switched at runtime draws exactly what starting with it draws."""

    @pytest.mark.parametrize("theme", ["chalkboard", "paper", "high-contrast", "amber"])
    async def test_runtime_switch_equals_fresh_start(self, theme: str) -> None:
        fresh = KnobApp(start_at("gradient"), theme=theme)
        async with fresh.run_test(size=(80, 24)) as pilot:
            await pilot.press("space")
            await pilot.pause()
            await pilot.pause()
            want = fresh.export_screenshot()
        switched = KnobApp(start_at("gradient"))
        async with switched.run_test(size=(80, 24)) as pilot:
            await pilot.press("space")
            await pilot.pause()
            switched.theme = theme
            await pilot.pause()
            await pilot.pause()
            assert switched.export_screenshot() == want

    def test_only_themes_with_our_colours(self) -> None:
        app = make_app("gradient")
        assert set(app.available_themes) <= {"textual-dark", "textual-ansi", "chalkboard", "paper",
                                             "high-contrast", "amber"}

    def test_a_lost_theme_falls_back(self) -> None:
        app = KnobApp(start_at("gradient"), theme="no-such-theme")
        assert app.theme == "textual-dark"


def test_readme_and_help_list_every_key_of_the_key_table() -> None:
    """One key table: the README's table and help's are both made from it."""
    from pathlib import Path
    from knobtui.tui.keys import help_rows
    from knobtui.tui.screens.help import HELP
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    table = readme.split("## Keys", 1)[1].split("\n\n", 2)[1]
    rows = [line.split("|")[1:3] for line in table.splitlines()[2:]]
    assert [(k.replace("`", "").strip(), d.strip()) for k, d in rows] == \
        [(k.replace(" / ", " / ") if k != "1-9, 0" else "1-9, 0", d) for k, d in help_rows()]
    for key, does in help_rows():
        assert f"| {key} | {does} |" in HELP


@settings(max_examples=300, deadline=None)
@given(st.floats(min_value=-1e99, max_value=1e99, allow_nan=False), st.floats(min_value=1e-6, max_value=1e99),
       st.integers(min_value=2, max_value=8))
def test_tick_labels_are_their_values(lo: float, span: float, most: int) -> None:
    """Every tick label reads back as its tick, to the precision its spacing needs (never 50 shown as 5)."""
    from knobtui.learning.analysis import tick_label
    ticks = nice_ticks(lo, lo + span, most)
    if len(ticks) < 2:
        return
    step = ticks[1] - ticks[0]
    if step <= abs(lo) * 1e-12:  # a span below the floats' resolution at lo: no plot gets there
        return
    for t in ticks:
        shown = float(tick_label(t, step))
        assert abs(shown - t) <= abs(step) * 0.01, (t, tick_label(t, step))
