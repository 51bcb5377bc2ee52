"""Unit tests of knobtui/learning/knobs.py: knob validation and parse_number."""

from __future__ import annotations

import pytest

from knobtui.learning import KNOB_NAMES, KnobError, Knobs, parse_number


# ---------------------------------------------------------------------------------------------
# Knobs and parse_number
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("knob", KNOB_NAMES)
@pytest.mark.parametrize("text,value_shown,why", [
    ("abc", "'abc'", "is not a number"),
    ("", "''", "is empty"),
    ("   ", "''", "is empty"),
    ("nan", "nan", "is not a number (nan)"),
    ("inf", "inf", "is infinite"),
    ("-inf", "-inf", "is infinite"),
    ("1e999", "1e999", "overflows"),
    ("-1e999", "-1e999", "overflows"),
])
def test_parse_number_refuses(knob: str, text: str, value_shown: str, why: str) -> None:
    with pytest.raises(KnobError) as info:
        parse_number(knob, text)
    msg = str(info.value)
    label = knob.replace("_", " ")
    assert msg.startswith(f"{label}: {value_shown} "), msg
    assert why in msg
    assert info.value.knob == knob
    assert "\n" not in msg


@pytest.mark.parametrize("text", ["0", "-0.1", "-5", "0.0", "-1e-300"])
def test_parse_number_step_amount_must_be_positive(text: str) -> None:
    with pytest.raises(KnobError) as info:
        parse_number("step_amount", text)
    msg = str(info.value)
    assert msg.startswith("step amount: ")
    assert "must be greater than 0" in msg
    assert text.strip() in msg  # names the value as typed


@pytest.mark.parametrize("text,value", [("0.5", 0.5), (" .5 ", 0.5), ("-100", -100.0), ("1e-300", 1e-300),
                                        ("1.7e308", 1.7e308), ("0", 0.0)])
def test_parse_number_accepts(text: str, value: float) -> None:
    assert parse_number("weight", text) == value
    assert isinstance(parse_number("input", text), float)


def test_step_amount_zero_and_negative_accepted_elsewhere() -> None:
    assert parse_number("alpha", "0") == 0.0
    assert parse_number("alpha", "-0.1") == -0.1
    assert parse_number("step_amount", "1e-300") == 1e-300


@pytest.mark.parametrize("knob", KNOB_NAMES)
@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf"), True, "0.5", None, 10 ** 400])
def test_knobs_constructor_checks(knob: str, bad: object) -> None:
    with pytest.raises(KnobError) as info:
        Knobs(**{knob: bad})
    assert str(info.value).startswith(knob.replace("_", " ") + ": ")


@pytest.mark.parametrize("bad", [0, 0.0, -0.0, -0.1, -1e300])
def test_knobs_step_amount_positive(bad: float) -> None:
    with pytest.raises(KnobError, match="step amount: .* must be greater than 0"):
        Knobs(step_amount=bad)


def test_knobs_defaults_and_with_values() -> None:
    k = Knobs()
    assert k.as_dict() == {"weight": 0.5, "input": 0.5, "goal": 0.8, "alpha": 1.0, "step_amount": 0.001}
    k2 = k.with_values(weight=2, alpha=0.1)
    assert (k2.weight, k2.alpha) == (2.0, 0.1) and isinstance(k2.weight, float)
    assert k.weight == 0.5  # frozen: a copy
    with pytest.raises(KnobError):
        k.with_values(step_amount=0)
    with pytest.raises(KnobError, match="speed"):
        k.with_values(speed=1.0)
    from dataclasses import FrozenInstanceError
    with pytest.raises(FrozenInstanceError):
        k.weight = 3.0  # type: ignore[misc]
