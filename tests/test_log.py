"""Pilot tests of the iteration log: columns under the book's names, every digit on screen, scrolling by its methods.

What is on screen is read from the log's own strips (`render_line(y).text`) and held to the engine's records.
"""

from __future__ import annotations

import re

import pytest
from textual.app import App, ComposeResult

from knobtui.learning import Record, Session, get_preset
from knobtui.tui.themes import THEME_DEFAULTS
from knobtui.tui.widgets import IterationLog
from knobtui.tui.widgets.iteration_log import FLOOR, LABELS

from appkit import make_app

ORDER = {
    "gradient": ("iteration", "error", "prediction", "new_weight", "delta", "weight_delta"),
    "hot-cold": ("iteration", "error", "prediction", "new_weight", "up_error", "down_error"),
}
"""The columns by priority: the pane drops them from the end."""
SIGNED = {"prediction", "new_weight", "delta", "weight_delta"}
"""Columns that can be negative: they keep one place for the minus sign (and one space less before them)."""
FIELD_OF_LABEL = {label: field for field, label in LABELS.items()}
MARKS = "↑↓^v"


def shown(log: IterationLog) -> list[str]:
    """The log's rows as drawn, header first."""
    return [log.render_line(y).text for y in range(log.scrollable_content_region.height)]


async def act(pilot, *actions: str) -> None:  # type: ignore[no-untyped-def]
    """The keys' actions ("step" is space's, "switch_method" m's), taken as a fast typist's keys are: one frame
    drawn after them all rather than one after each (the log under test is the same), then a pause."""
    for action in actions:
        await pilot.app.run_action(action)
    await pilot.pause()


async def steps(pilot, n: int) -> None:  # type: ignore[no-untyped-def]
    """n iterations: space's action n times."""
    await act(pilot, *["step"] * n)


def tokens(text: str) -> list[tuple[int, str]]:
    """The words of a row with where each starts."""
    return [(m.start(), m.group()) for m in re.finditer(r"\S+", text)]


def expected_columns(session: Session, room: int) -> tuple[str, ...]:
    """The columns the rule keeps: each as wide as its widest value held (sign place included), its name
    or FLOOR, whichever is widest; the most, by priority, whose widths and gaps fit in `room`."""
    order = ORDER[session.method]
    records = list(session.records())
    used = max(len("iteration"), len(str(records[-1].iteration))) + 1  # and the trend mark
    kept = ["iteration"]
    for name in order[1:]:
        place = int(name in SIGNED)
        widest = max(len(repr(getattr(r, name))) + (place if getattr(r, name) >= 0 else 0) for r in records)
        width = max(FLOOR + place, len(name) + place, widest)
        gap = 1 if name in SIGNED else 2
        if len(kept) > 1 and used + gap + width > room:
            break
        used += gap + width
        kept.append(name)
    return tuple(kept)


def check_row(text: str, header: list[tuple[int, str]], session: Session) -> int:
    """Every number on the row is the engine's value for the column it stands under, with all its digits.

    A number of the other method stands after its label and is held to the field the label names.
    Returns the row's iteration.
    """
    toks = tokens(text)
    iteration = int(toks[0][1].rstrip(MARKS))
    rec: Record = session.record(iteration)
    columns = dict(header[1:])  # start of a header name -> the name
    checked = 0
    k = 1
    while k < len(toks):
        start, tok = toks[k]
        if tok in FIELD_OF_LABEL and tok not in columns.values():
            field = FIELD_OF_LABEL[tok]
            assert field not in {name for _, name in header}, f"{tok} labels a column the header names: {text!r}"
            assert start in columns, f"label {tok} is not at a column's start: {text!r}"
            k += 1
            start, tok = toks[k]
            assert tok == repr(getattr(rec, field)), (field, text)
        else:
            name = columns.get(start + 1 if tok.startswith("-") else start)
            assert name is not None, f"{tok} is not under a header name: {text!r}"
            assert tok == repr(getattr(rec, name)), (name, tok, text)
            assert float(tok) == getattr(rec, name)
        checked += 1
        k += 1
    assert checked == len(header) - 1, f"a column is missing or extra on {text!r}"
    return iteration


async def test_the_header_names_the_columns() -> None:
    """Row 0 names the columns with the book's variable names, then come the rows from iteration 1."""
    app = make_app("gradient")
    async with app.run_test(size=(160, 50)) as pilot:
        await steps(pilot, 3)
        log = app.query_one(IterationLog)
        rows = shown(log)
        assert rows[0].split() == list(ORDER["gradient"]) == list(log.columns)
        assert [r.split()[0].rstrip(MARKS) for r in rows[1:4]] == ["1", "2", "3"]
        assert rows[4].strip() == ""  # three rows, at the top, under the names


@pytest.mark.parametrize("width", [80, 100, 120, 160])
@pytest.mark.parametrize("preset", ["gradient", "divergence", "negative", "hot-cold"])
async def test_no_number_is_cut_and_columns_drop_by_priority(width: int, preset: str) -> None:
    """At any width every number shown is the engine's, all digits; the columns that do not fit go last-first."""
    app = make_app(preset)
    async with app.run_test(size=(width, 50)) as pilot:
        await steps(pilot, 7)
        log = app.query_one(IterationLog)
        rows = shown(log)
        header = tokens(rows[0])
        names = [name for _, name in header]
        order = ORDER[app.session.method]
        assert tuple(names) == order[: len(names)] == log.columns
        assert len(names) >= 2
        seen = [check_row(row, header, app.session) for row in rows[1:] if row.strip()]
        assert seen == list(range(1, 8))  # every row held is on screen
        assert tuple(names) == expected_columns(app.session, log.scrollable_content_region.width)
        if width == 160:
            assert len(names) == len(order)


async def test_narrower_panes_keep_a_prefix_of_the_columns() -> None:
    """Fewer columns at 80 than at 160, and always the higher-priority ones."""
    seen = {}
    for width in (80, 100, 120, 160):
        app = make_app("gradient")
        async with app.run_test(size=(width, 50)) as pilot:
            await steps(pilot, 5)
            seen[width] = app.query_one(IterationLog).columns
    assert seen[80] == ORDER["gradient"][: len(seen[80])]
    assert len(seen[80]) < len(seen[160]) == 6
    assert len(seen[80]) <= len(seen[100]) <= len(seen[120]) <= len(seen[160])


async def test_hot_cold_columns() -> None:
    """Hot and cold names its own numbers: up_error and down_error."""
    app = make_app("hot-cold")
    async with app.run_test(size=(160, 50)) as pilot:
        await steps(pilot, 4)
        log = app.query_one(IterationLog)
        rows = shown(log)
        header = tokens(rows[0])
        assert [name for _, name in header] == list(ORDER["hot-cold"])
        assert [check_row(row, header, app.session) for row in rows[1:5]] == [1, 2, 3, 4]


@pytest.mark.parametrize(("preset", "mark", "component"), [
    ("divergence", "↑", "iteration-log--rising"), ("gradient", "↓", "iteration-log--falling")])
async def test_rows_keep_their_trend_mark_and_colour(preset: str, mark: str, component: str) -> None:
    """A row whose error rose (fell) from the row before has the mark and the colour that say so."""
    app = make_app(preset)
    async with app.run_test(size=(160, 50)) as pilot:
        await steps(pilot, 3)
        log = app.query_one(IterationLog)
        assert [row.split()[0] for row in shown(log)[1:4]] == ["1", f"2{mark}", f"3{mark}"]
        colour = log.get_component_rich_style(component).color
        assert colour is not None
        numbers = [seg for seg in log.render_line(2) if seg.text.strip() and seg.text.strip() != "2"]
        assert numbers and all(seg.style is not None and seg.style.color == colour for seg in numbers)


async def test_a_mixed_method_log_labels_the_other_methods_numbers() -> None:
    """After m the header names the newest row's method; the other method's rows label their own numbers."""
    app = make_app("gradient")
    async with app.run_test(size=(160, 50)) as pilot:
        await act(pilot, "step", "step", "step", "switch_method", "step", "step")
        log = app.query_one(IterationLog)
        rows = shown(log)
        header = tokens(rows[0])
        assert [name for _, name in header] == list(ORDER["hot-cold"])
        assert [check_row(row, header, app.session) for row in rows[1:6]] == [1, 2, 3, 4, 5]
        assert rows[1].split()[4:8] == ["delta", repr(app.session.record(1).delta),
                                        LABELS["weight_delta"], repr(app.session.record(1).weight_delta)]
        assert "delta" not in rows[4]
        await act(pilot, "switch_method", "step")
        rows = shown(log)
        header = tokens(rows[0])
        assert [name for _, name in header] == list(ORDER["gradient"])
        assert [check_row(row, header, app.session) for row in rows[1:7]] == [1, 2, 3, 4, 5, 6]
        assert rows[4].split()[4:8] == [LABELS["up_error"], repr(app.session.record(4).up_error),
                                        LABELS["down_error"], repr(app.session.record(4).down_error)]


async def test_a_mixed_log_never_cuts_a_labelled_number() -> None:
    """At 80 to 120 columns the method columns of a mixed log go whole, or stay whole with their labels."""
    for width in (80, 100, 120):
        app = make_app("gradient")
        async with app.run_test(size=(width, 50)) as pilot:
            await act(pilot, "step", "step", "switch_method", "step", "step", "switch_method", "step")
            rows = shown(app.query_one(IterationLog))
            header = tokens(rows[0])
            assert [check_row(row, header, app.session) for row in rows[1:6]] == [1, 2, 3, 4, 5]


async def test_scrolling_reaches_iteration_1_with_nothing_blank_above() -> None:
    """to_start shows iteration 1 right under the header; the scrollable height is the rows plus the header."""
    app = make_app("hot-cold")
    async with app.run_test(size=(100, 30)) as pilot:
        await steps(pilot, 40)
        log = app.query_one(IterationLog)
        height = log.scrollable_content_region.height
        assert log.virtual_size.height == len(log.lines) + 1 == 41
        assert log.max_scroll_y == 41 - height
        assert log.first_iteration == 1 and log.last_iteration == 40
        log.to_start()
        await pilot.pause()
        rows = shown(log)
        assert rows[0].split()[0] == "iteration"
        assert rows[1].split()[0] == "1"
        log.page(-1)  # nothing above iteration 1 to scroll to
        log.scroll_to(y=-10, animate=False, immediate=True)
        await pilot.pause()
        assert shown(log) == rows
        pages = []
        while not log.is_vertical_scroll_end:
            log.page(1)
            await pilot.pause()
            pages.append(int(shown(log)[1].split()[0].rstrip(MARKS)))
        assert pages and pages[-1] == 41 - (height - 1)
        assert shown(log)[-1].split()[0].rstrip(MARKS) == "40"


async def test_the_app_keys_scroll_the_log() -> None:
    """Home, PageDown, PageUp and End move the log as its methods do; a step after End shows the new row."""
    app = make_app("gradient")
    async with app.run_test(size=(100, 30)) as pilot:
        await steps(pilot, 25)
        log = app.query_one(IterationLog)
        page = log.scrollable_content_region.height - 1
        await pilot.press("home")
        await pilot.pause()
        assert shown(log)[1].split()[0] == "1"
        await pilot.press("pagedown")
        await pilot.pause()
        assert shown(log)[1].split()[0].rstrip(MARKS) == str(1 + page)
        await pilot.press("space", "pageup")
        await pilot.pause()
        assert shown(log)[1].split()[0] == "1"
        await pilot.press("end", "space")
        await pilot.pause()
        assert shown(log)[-1].split()[0].rstrip(MARKS) == "27"


async def test_a_reader_scrolled_back_stays_and_following_resumes_at_the_end() -> None:
    """New rows do not move a reader who paged back; paging to the end (or to_end) follows again."""
    app = make_app("gradient")
    async with app.run_test(size=(100, 30)) as pilot:
        await steps(pilot, 20)
        log = app.query_one(IterationLog)
        log.page(-1)
        await pilot.pause()
        before = shown(log)
        await pilot.press("space", "space")
        await pilot.pause()
        assert shown(log) == before
        log.page(1)
        log.page(1)
        await pilot.pause()
        await pilot.press("space")
        await pilot.pause()
        assert shown(log)[-1].split()[0].rstrip(MARKS) == "23"
        log.to_start()
        await pilot.pause()
        log.to_end()
        await pilot.pause()
        await pilot.press("space")
        await pilot.pause()
        assert shown(log)[-1].split()[0].rstrip(MARKS) == "24"


async def test_a_resize_keeps_a_reader_on_their_row() -> None:
    """A reader who paged back is still on the same row after the terminal shrinks and grows again."""
    app = make_app("gradient")
    async with app.run_test(size=(120, 40)) as pilot:
        await steps(pilot, 30)
        log = app.query_one(IterationLog)
        log.page(-1)
        await pilot.pause()
        top = shown(log)[1].split()[0]
        assert top != "1" and shown(log)[-1].split()[0].rstrip(MARKS) != "30"
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        assert shown(log)[1].split()[0] == top
        await pilot.press("space")
        await pilot.resize_terminal(120, 40)
        await pilot.pause()
        assert shown(log)[1].split()[0] == top
        log.to_end()
        await pilot.pause()
        assert shown(log)[-1].split()[0].rstrip(MARKS) == "31"


async def test_back_while_scrolled_back_keeps_the_rows_that_are_left() -> None:
    """A step back under a reader drops the newest rows; the reader sees rows that exist, none blank."""
    app = make_app("gradient")
    async with app.run_test(size=(100, 30)) as pilot:
        await steps(pilot, 12)
        log = app.query_one(IterationLog)
        log.page(-1)
        await pilot.pause()
        await pilot.press(*["b"] * 6)
        await pilot.pause()
        rows = shown(log)
        assert all(row.strip() for row in rows)
        assert rows[-1].split()[0].rstrip(MARKS) == "6"
        assert log.virtual_size.height == 7


class _Host(App[None]):
    """The log alone, with a cap of 5 rows."""

    CSS = "IterationLog { height: 6; }"

    def get_theme_variable_defaults(self) -> dict[str, str]:
        return dict(THEME_DEFAULTS)

    def compose(self) -> ComposeResult:
        yield IterationLog(cap=5)


async def test_a_one_row_pane_shows_the_newest_row() -> None:
    """Where the log has a single row the numbers matter more than their names."""
    session = Session(get_preset("gradient").knobs, "gradient")
    session.run(4)
    app = _Host()
    async with app.run_test(size=(100, 10)) as pilot:
        log = app.query_one(IterationLog)
        log.styles.height = 3  # the border and one row
        log.extend(session.records())
        await pilot.pause()
        assert log.scrollable_content_region.height == 1
        assert log.virtual_size.height == 4
        assert shown(log)[0].split()[0].rstrip(MARKS) == "4"


async def test_at_the_cap_the_oldest_rows_go_and_a_reader_keeps_their_row() -> None:
    """Past `cap` rows the oldest leave; a reader scrolled back still sees the same iterations."""
    session = Session(get_preset("gradient").knobs, "gradient")
    session.run(12)
    app = _Host()
    async with app.run_test(size=(160, 10)) as pilot:
        log = app.query_one(IterationLog)
        log.extend(session.records(1, 5))
        await pilot.pause()
        assert (log.first_iteration, log.last_iteration) == (1, 5)
        log.to_start()
        log.scroll_to(y=1, animate=False, immediate=True)  # rows 2 to 4 under the header
        await pilot.pause()
        before = shown(log)
        assert [row.split()[0].rstrip(MARKS) for row in before[1:]] == ["2", "3", "4"]
        log.extend(session.records(6, 6), session.record(5).error)
        await pilot.pause()
        assert (log.first_iteration, log.last_iteration) == (2, 6)
        assert shown(log) == before  # row 1 left the top: the reader's rows did not move
        log.extend(session.records(7, 12), session.record(6).error)
        await pilot.pause()
        assert (log.first_iteration, log.last_iteration) == (8, 12)
        assert log.virtual_size.height == 6
        assert shown(log)[1].split()[0].rstrip(MARKS) == "8"
