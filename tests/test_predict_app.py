"""Predict mode alone, driven by keys: the question before a single step (the answer kept off the screen),
the verdict and the tally after it, a typed new weight, a skip, and the steps that never ask."""

from __future__ import annotations

import math

from appkit import make_app

from knobtui.learning.narrator import HIDDEN
from knobtui.tui.screens.question import QuestionScreen

SIZE = (100, 30)


async def test_a_wrong_choice_says_why_and_counts() -> None:
    app = make_app("gradient")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("a", "space")
        assert isinstance(app.screen, QuestionScreen) and app.session.iteration == 0
        assert app.view is not None and app.view.next_weight is HIDDEN and app.view.next_move is HIDDEN
        await pilot.press("down")
        await pilot.pause()
        assert app.session.iteration == 1
        assert app.stage.note == ("not down: weight_delta -0.275 < 0, and the weight moves against it: it goes up", "warning")
        assert app.predicting.tally.asked == 1 and app.predicting.tally.right == 0


async def test_a_typed_new_weight_is_judged_and_a_bad_one_is_named_and_kept() -> None:
    app = make_app("gradient")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("a", "space", "w")
        screen = app.screen
        assert isinstance(screen, QuestionScreen) and screen.typing
        await pilot.press("up")  # typing: the arrows do not answer
        assert app.screen is screen
        await pilot.press(*"0.7x", "enter")
        assert app.screen is screen and app.session.iteration == 0
        assert "weight: '0.7x' is not a number" in str(screen.query_one(".problem").render())
        await pilot.press("backspace", "7", "enter")
        await pilot.pause()
        assert app.session.iteration == 1
        assert app.stage.note == ("the new weight is 0.775; you said 0.77: off by 0.005 (within 1%)", "information")
        assert app.predicting.tally.right == 1


async def test_escape_skips_and_fast_forward_never_asks() -> None:
    app = make_app("gradient")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("a", "space", "escape")
        await pilot.pause()
        assert app.session.iteration == 0 and app.stage.note[0] == "Predict: skipped (space asks again)"
        assert app.view is not None and app.view.next is not None and app.view.next.new_weight == 0.775
        await pilot.press("f")
        await pilot.pause()
        assert not isinstance(app.screen, QuestionScreen) and app.session.iteration > 1
