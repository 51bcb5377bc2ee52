"""Snapshot tests of the simulator at 80x24, 100x30, 120x40 and 160x50 (SVGs in tests/__snapshots__, each
looked at as a PNG before it was accepted)."""

from __future__ import annotations

import pytest

from appkit import make_app
from knobtui.learning import PRESETS

SIZES = [(80, 24), (120, 40)]
ALL_SIZES = [(80, 24), (100, 30), (120, 40), (160, 50)]


async def _settle(pilot) -> None:  # type: ignore[no-untyped-def]
    await pilot.pause()
    await pilot.wait_for_scheduled_animations()
    await pilot.pause()


class TestFirstScreens:
    """Each preset's first screen."""

    @pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
    @pytest.mark.parametrize("preset", list(PRESETS))
    def test_preset_first_screen(self, snap_compare, preset: str, size: tuple[int, int]) -> None:
        """The preset's knobs, the arithmetic of iteration 1, the curve, an empty log."""
        assert snap_compare(make_app(preset), terminal_size=size, run_before=_settle)

    @pytest.mark.parametrize("size", [(100, 30), (160, 50)], ids=lambda s: f"{s[0]}x{s[1]}")
    @pytest.mark.parametrize("preset", ["hot-cold", "gradient", "divergence"])
    def test_projector_and_large(self, snap_compare, preset: str, size: tuple[int, int]) -> None:
        """A projector with a large font (100x30) and a large terminal (160x50): the curve takes the room."""
        assert snap_compare(make_app(preset), terminal_size=size, run_before=_settle)


class TestStates:
    """Learning states the chapter teaches."""

    @pytest.mark.parametrize("size", ALL_SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
    def test_after_steps(self, snap_compare, size: tuple[int, int]) -> None:
        """Five gradient steps: trail, tangent, ghost, five book lines in the log."""
        assert snap_compare(make_app("gradient"), press=["space"] * 5, terminal_size=size, run_before=_settle)

    @pytest.mark.parametrize("size", ALL_SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
    def test_converged(self, snap_compare, size: tuple[int, int]) -> None:
        """Hot and cold fast-forwarded: converged at iteration 1101."""
        assert snap_compare(make_app("hot-cold"), press=["f"], terminal_size=size, run_before=_settle)

    @pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
    def test_oscillating(self, snap_compare, size: tuple[int, int]) -> None:
        """The toes preset: a step too big bounces across the goal."""
        assert snap_compare(make_app("toes"), press=["space"] * 4, terminal_size=size, run_before=_settle)

    @pytest.mark.parametrize("size", ALL_SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
    def test_diverged_to_overflow(self, snap_compare, size: tuple[int, int]) -> None:
        """Divergence fast-forwarded to the overflow: the log view, the halt, every number finite."""
        assert snap_compare(make_app("divergence"), press=["f"], terminal_size=size, run_before=_settle)

    @pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
    def test_error_per_iteration_view(self, snap_compare, size: tuple[int, int]) -> None:
        """g: error per iteration on a log scale."""
        assert snap_compare(make_app("alpha"), press=["space"] * 12 + ["g"], terminal_size=size, run_before=_settle)

    def test_refused_entry(self, snap_compare) -> None:
        """A refused knob entry: the message beside the knob, the old value kept."""
        async def type_bad(pilot) -> None:  # type: ignore[no-untyped-def]
            await pilot.press("enter")
            pilot.app.query_one("#knob-editor").value = "abc"
            await pilot.press("enter")
            await _settle(pilot)
        assert snap_compare(make_app("gradient"), terminal_size=(80, 24), run_before=type_bad)


class TestScreens:
    """Compare and help."""

    @pytest.mark.parametrize("size", ALL_SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
    def test_compare(self, snap_compare, size: tuple[int, int]) -> None:
        """c: both methods from the gradient preset's knobs, with the iterations each needs."""
        assert snap_compare(make_app("gradient"), press=["c"], terminal_size=size, run_before=_settle)

    @pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
    def test_compare_hot_cold_wins(self, snap_compare, size: tuple[int, int]) -> None:
        """c with a step_amount of 0.1: hot and cold needs fewer iterations, and compare says so and why."""
        assert snap_compare(make_app("gradient", step_amount=0.1), press=["c"], terminal_size=size,
                            run_before=_settle)

    @pytest.mark.parametrize("size", ALL_SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
    def test_help(self, snap_compare, size: tuple[int, int]) -> None:
        """?: the chapter in our words, then the keys."""
        assert snap_compare(make_app("gradient"), press=["question_mark"], terminal_size=size, run_before=_settle)

    @pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
    def test_help_end(self, snap_compare, size: tuple[int, int]) -> None:
        """? then End: help scrolled to its last row by keys alone."""
        assert snap_compare(make_app("gradient"), press=["question_mark", "end"], terminal_size=size,
                            run_before=_settle)

    def test_undo_after_a_stray_preset(self, snap_compare) -> None:
        """Five steps, a stray preset key, then u: the run and its log are back."""
        assert snap_compare(make_app("gradient"), press=["space"] * 5 + ["6", "u"], terminal_size=(80, 24),
                            run_before=_settle)

    def test_log_scrolled_to_the_start(self, snap_compare) -> None:
        """Fast-forward, then Home: the log shows iteration 1 under its column header."""
        assert snap_compare(make_app("gradient"), press=["f", "home"], terminal_size=(80, 24), run_before=_settle)


class TestAnyTerminal:
    """ASCII mode, hidden knobs and the smallest sizes."""

    @pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
    def test_ascii(self, snap_compare, size: tuple[int, int]) -> None:
        """--ascii: plain borders, markers and frame; rising error marked ^ without colour."""
        from knobtui.tui.app import KnobApp
        from appkit import start_at
        app = KnobApp(start_at("divergence"), ascii=True)
        assert snap_compare(app, press=["space"] * 3, terminal_size=size, run_before=_settle)

    @pytest.mark.parametrize("screen", ["question_mark", "c"], ids=["help", "compare"])
    def test_ascii_screens(self, snap_compare, screen: str) -> None:
        """--ascii: help and compare are plain ASCII too."""
        from knobtui.tui.app import KnobApp
        from appkit import start_at
        app = KnobApp(start_at("gradient"), ascii=True)
        assert snap_compare(app, press=[screen], terminal_size=(80, 24), run_before=_settle)

    def test_hidden_knobs(self, snap_compare) -> None:
        """--hide input,alpha: a lesson shows only the knobs it needs."""
        from knobtui.tui.app import KnobApp
        from appkit import start_at
        app = KnobApp(start_at("gradient"), hidden=frozenset({"input", "alpha"}))
        assert snap_compare(app, press=["space"], terminal_size=(80, 24), run_before=_settle)

    def test_smallest_size(self, snap_compare) -> None:
        """60x20, the smallest layout that still shows everything."""
        assert snap_compare(make_app("watch-four"), press=["space"] * 2, terminal_size=(60, 20), run_before=_settle)

    def test_too_small(self, snap_compare) -> None:
        """Below 60x20: a notice to enlarge, not a broken layout."""
        assert snap_compare(make_app("gradient"), terminal_size=(50, 16), run_before=_settle)


class TestPredict:
    """Predict mode alone: the question before a step (the new weight and the curve's next point kept
    back), and the verdict after it."""

    @pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
    def test_question(self, snap_compare, size: tuple[int, int]) -> None:
        assert snap_compare(make_app("gradient"), press=["space", "a", "space"], terminal_size=size,
                            run_before=_settle)

    @pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
    def test_reveal(self, snap_compare, size: tuple[int, int]) -> None:
        assert snap_compare(make_app("gradient"), press=["space", "a", "space", "down"], terminal_size=size,
                            run_before=_settle)

    @pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
    def test_typed_weight_refused(self, snap_compare, size: tuple[int, int]) -> None:
        """w types the new weight instead; a typo is named under it and kept for mending."""
        assert snap_compare(make_app("gradient"), press=["space", "a", "space", "w", "0", "full_stop", "7", "x",
                                                         "enter"], terminal_size=size, run_before=_settle)


def _presenter():  # type: ignore[no-untyped-def]
    """A presenter's simulator (its relay is not there: the room's messages are handed to it below)."""
    from knobtui.presenter.protocol import LinkConfig
    from knobtui.tui.app import KnobApp
    from appkit import start_at
    return KnobApp(start_at("gradient"), link=LinkConfig("/nonexistent/relay.sock", "presenter", "token"))


def _room_answered(up: int, down: int, room: int):  # type: ignore[no-untyped-def]
    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        from knobtui.wire import Followers, Tally
        await _settle(pilot)
        app = pilot.app
        app.presenting.on_message(Followers(n=room))
        await pilot.press("a")
        quiz = app.room_quiz.quiz
        app.presenting.on_message(Tally(id=quiz.id, counts={"up": up, "down": down}, answered=up + down))
        await _settle(pilot)
    return run_before


def _follower_asked(press: tuple[str, ...] = (), reveal: bool = False):  # type: ignore[no-untyped-def]
    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        from knobtui.learning import Session, get_preset
        from knobtui.learning.predict import ask, position
        from knobtui.wire import Ask, Ballot, Reveal, RoomQuestion
        await _settle(pilot)
        app = pilot.app
        session = Session(get_preset("gradient").knobs, "gradient")
        question = ask(session, "direction")
        quiz = RoomQuestion.ask(7, question, position(session))
        app.presenting.on_message(Ask(quiz))
        await _settle(pilot)
        for key in press:
            await pilot.press(key)
        if app.room_quiz.mine is not None:  # the relay confirms it counted (no relay here: handed over)
            app.presenting.on_message(Ballot(id=7, value=app.room_quiz.mine))
        if reveal:
            app.presenting.on_message(Reveal(quiz.reveal(question)))
        await _settle(pilot)
    return run_before


def _follower():  # type: ignore[no-untyped-def]
    from knobtui.presenter.protocol import LinkConfig
    from knobtui.tui.app import KnobApp
    from appkit import start_at
    return KnobApp(start_at("gradient"), link=LinkConfig("/nonexistent/relay.sock", "follower", voter="v"))


class TestRoom:
    """A question for the room: the presenter's bars while the room answers and after the close (one step
    taken, the right answer marked), and a follower's question and reveal."""

    @pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
    def test_bars(self, snap_compare, size: tuple[int, int]) -> None:
        assert snap_compare(_presenter(), terminal_size=size, run_before=_room_answered(12, 5, 20))

    @pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
    def test_bars_revealed(self, snap_compare, size: tuple[int, int]) -> None:
        assert snap_compare(_presenter(), press=["space"], terminal_size=size,
                            run_before=_room_answered(12, 5, 20))

    @pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
    def test_follower_answered(self, snap_compare, size: tuple[int, int]) -> None:
        assert snap_compare(_follower(), terminal_size=size, run_before=_follower_asked(("down",)))

    @pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
    def test_follower_revealed(self, snap_compare, size: tuple[int, int]) -> None:
        assert snap_compare(_follower(), terminal_size=size, run_before=_follower_asked(("down",), reveal=True))


def _joined(followers: int):  # type: ignore[no-untyped-def]
    """The presenter's join screen (j) for a server at a classroom address, with `followers` in the room."""
    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]
        from knobtui.wire import Followers, JoinInfo
        await _settle(pilot)
        app = pilot.app
        app.presenting.join = JoinInfo(("ssh -p 2222 yourname@192.168.1.23",), ("http://192.168.1.23:8095/",),
                                       "SHA256:TazSVwZvle7JrI7S6I1qD18AX5NqgkC6WG7KWhWA8EQ")
        app.presenting.on_message(Followers(n=followers))
        await pilot.press("j")
        await _settle(pilot)
    return run_before


def _ascii_presenter():  # type: ignore[no-untyped-def]
    from knobtui.presenter.protocol import LinkConfig
    from knobtui.tui.app import KnobApp
    from appkit import start_at
    return KnobApp(start_at("gradient"), ascii=True, link=LinkConfig("/nonexistent/relay.sock", "presenter", "token"))


class TestJoin:
    """The join screen for the projector: the URL's QR code in half blocks (in ASCII, ## rows, when there is
    room; at 80x24 it gives way to a note), the address three rows tall, both ways in, the room's count."""

    @pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
    def test_join(self, snap_compare, size: tuple[int, int]) -> None:
        assert snap_compare(_presenter(), terminal_size=size, run_before=_joined(23))

    @pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
    def test_join_ascii(self, snap_compare, size: tuple[int, int]) -> None:
        assert snap_compare(_ascii_presenter(), terminal_size=size, run_before=_joined(1))
