"""The five knobs of chapter 4 and the one place their values are checked."""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace
from typing import Literal

Method = Literal["hot-cold", "gradient"]
METHODS: tuple[Method, ...] = ("hot-cold", "gradient")
METHOD_NAMES: dict[str, str] = {"hot-cold": "hot and cold", "gradient": "gradient descent"}

KNOB_NAMES: tuple[str, ...] = ("weight", "input", "goal", "alpha", "step_amount")
KNOB_LABELS: dict[str, str] = {
    "weight": "weight",
    "input": "input",
    "goal": "goal",
    "alpha": "alpha",
    "step_amount": "step amount",
}


class KnobError(ValueError):
    """A value refused for a knob; the message names the knob and the value."""

    def __init__(self, knob: str, value: object, reason: str) -> None:
        self.knob = knob
        self.value = value
        self.reason = reason
        label = KNOB_LABELS.get(knob, knob)
        super().__init__(f"{label}: {value!s} {reason}")


def parse_number(knob: str, text: str) -> float:
    """Turn typed text into a finite float for `knob`, or raise KnobError naming what was typed."""
    raw = text.strip()
    if not raw:
        raise KnobError(knob, "''", "is empty: type a number")
    try:
        value = float(raw)
    except ValueError:
        raise KnobError(knob, repr(raw), "is not a number") from None
    if math.isnan(value):
        raise KnobError(knob, raw, "is not a number (nan): type a finite number")
    if math.isinf(value):
        if "inf" in raw.lower():
            raise KnobError(knob, raw, "is infinite: type a finite number")
        raise KnobError(knob, raw, "overflows: it is too large for a 64-bit float (the largest is about 1.797e308)")
    if knob == "step_amount" and value <= 0:
        raise KnobError(knob, raw, "must be greater than 0")
    return check_value(knob, value)


def check_value(knob: str, value: float) -> float:
    """Check one knob's value (finite; step amount above 0) and return it as a float."""
    if knob not in KNOB_NAMES:
        raise KnobError(knob, value, "is not a knob")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise KnobError(knob, repr(value), "is not a number")
    try:
        value = float(value)
    except OverflowError:
        raise KnobError(knob, value, "overflows: it is too large for a 64-bit float") from None
    if not math.isfinite(value):
        raise KnobError(knob, value, "is not a finite number")
    if knob == "step_amount" and value <= 0:
        raise KnobError(knob, repr(value), "must be greater than 0")
    return value


_METHOD_OF: dict[str, Method] = {m: m for m in METHODS}


def knob_name(text: str) -> str:
    """A knob's name as people type it ('step-amount', 'step amount', 'step') as the name it has."""
    name = text.strip().replace("-", "_").replace(" ", "_")
    return "step_amount" if name == "step" else name


def check_tolerance(value: float) -> float:
    """Return the convergence tolerance if it is a finite number >= 0, else raise ValueError naming it."""
    if not (value >= 0 and value < float("inf")):
        raise ValueError(f"tolerance: {value!r} must be a finite number >= 0")
    return float(value)


def parse_tolerance(text: str) -> float:
    """A tolerance as typed; ValueError names the text when it is not a finite number >= 0."""
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"tolerance: {text!r} is not a number") from None
    if not (value >= 0 and value < float("inf")):
        raise ValueError(f"tolerance: {text!r} must be a finite number >= 0")
    return value


def check_method(method: str) -> Method:
    """Return `method` if it is one of the two update rules, else raise ValueError naming it."""
    found = _METHOD_OF.get(method)
    if found is not None:
        return found
    raise ValueError(f"method: {method!r} is not one of {', '.join(METHODS)}")


@dataclass(frozen=True, slots=True)
class Knobs:
    """The knob panel: where the weight starts, the example, and how far each rule moves it."""

    weight: float = 0.5
    input: float = 0.5
    goal: float = 0.8
    alpha: float = 1.0
    step_amount: float = 0.001

    def __post_init__(self) -> None:
        for f in fields(self):
            object.__setattr__(self, f.name, check_value(f.name, getattr(self, f.name)))

    def with_values(self, **changes: float) -> Knobs:
        """A copy with some knobs changed; every new value is checked the same way."""
        for name in changes:
            if name not in KNOB_NAMES:
                raise KnobError(name, changes[name], "is not a knob")
        return replace(self, **changes)

    def as_dict(self) -> dict[str, float]:
        return {name: getattr(self, name) for name in KNOB_NAMES}
