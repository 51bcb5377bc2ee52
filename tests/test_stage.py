"""The stage (tui/stage.py): everything the screen shows as one immutable value, and the pure steps from
one stage to the next that the helpers around the app take. No screen needed."""

from __future__ import annotations

from dataclasses import FrozenInstanceError

import pytest
from hypothesis import given
from hypothesis import strategies as st

from knobtui.learning import KNOB_NAMES, Session, get_preset
from knobtui.learning.narrator import HIDDEN
from knobtui.learning.view import make_view
from knobtui.tui.stage import Stage, first_stage

knob_sets = st.frozensets(st.sampled_from(KNOB_NAMES), max_size=len(KNOB_NAMES) - 1)


def a_view():
    preset = get_preset("gradient")
    return make_view(Session(preset.knobs, preset.method), preset.name)


def test_a_stage_is_immutable() -> None:
    stage = Stage()
    with pytest.raises(FrozenInstanceError):
        stage.note = ("x", "information")  # type: ignore[misc]
    assert stage.but(playing="playing 15/s").playing == "playing 15/s" and stage.playing == ""


def test_a_message_lasts_until_the_next_key() -> None:
    said = Stage().saying("0.5 is not a number", title="Refused", severity="error", brief="refused")
    assert said.note == ("Refused: 0.5 is not a number", "error") and said.note_brief == "Refused: refused"
    assert said.quiet().note == ("", "") and said.quiet().note_brief == ""
    quiet = Stage()
    assert quiet.quiet() is quiet  # nothing to clear: the same stage, so nothing is shown again


@given(st.lists(st.tuples(st.sampled_from(["speed", "predict", "theme"]), st.sampled_from(["", "a", "b"]),
                          st.integers(0, 5)), max_size=12))
def test_extras_keep_their_place_as_a_dict_would(changes: list[tuple[str, str, int]]) -> None:
    """An extra set again keeps its place; a new one goes last; empty text removes it."""
    stage, model = Stage(), dict[str, tuple[str, int]]()
    for name, text, rank in changes:
        stage = stage.with_extra(name, text, rank)
        model = {**model, name: (text, rank)} if text else {k: v for k, v in model.items() if k != name}
        assert stage.status_extra == tuple(model.values())


@given(knob_sets, st.integers(0, len(KNOB_NAMES) - 1), st.integers(-7, 7))
def test_selection_moves_only_over_knobs_shown(hidden: frozenset[str], selected: int, change: int) -> None:
    stage = first_stage(hidden).but(selected=selected).select(change)
    assert KNOB_NAMES[stage.selected] not in hidden


@given(knob_sets, st.integers(0, len(KNOB_NAMES) - 1))
def test_a_hidden_knob_gives_up_the_selection(hidden: frozenset[str], selected: int) -> None:
    stage = Stage(selected=selected).hiding(hidden)
    assert stage.hidden == hidden and KNOB_NAMES[stage.selected] not in hidden
    if KNOB_NAMES[selected] not in hidden:
        assert stage.selected == selected  # a knob still shown stays selected


def test_the_editor_holds_the_selection() -> None:
    assert Stage(selected=2, editing=True).select(1).selected == 2


@pytest.mark.parametrize(("question", "outcome_hidden", "kept"), [
    ("", False, False), ("predict", False, True), ("room", False, True), ("", True, True)])
def test_the_next_outcome_is_kept_back_while_a_question_is_due(question: str, outcome_hidden: bool,
                                                                kept: bool) -> None:
    view = a_view()
    stage = Stage(outcome_hidden=outcome_hidden).showing(view, question)
    assert stage.keeps_back is kept and stage.question == question
    assert (stage.view.next_weight is HIDDEN) is kept
    if not kept:
        assert stage.view == view
