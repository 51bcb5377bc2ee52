"""The book's scenarios, by name, with the knobs each one starts from."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from .knobs import Knobs, Method


@dataclass(frozen=True, slots=True)
class Preset:
    """A scenario of chapter 4: where the knobs start, how many iterations the book prints, and its point."""

    name: str
    method: Method
    knobs: Knobs
    book_steps: int
    shows: str
    book_print: BookPrint = "error-prediction"  # what the book's own code prints (`knobtui run --format book`)


BookPrint = Literal["comparison", "error-prediction", "error-prediction-weight", "four-steps", "calculation"]
"""The shapes of the chapter's print statements:

- comparison: the first hot-and-cold comparison, three numbers: the error, the error a step up, the error a
  step down (the book's code steps down by a tenth of the step it steps up by: lr = 0.01, a slip we reproduce)
- error-prediction: `Error: ... Prediction: ...`, before each update
- error-prediction-weight: the same and ` Weight: ...`, the weight after the update
- four-steps: `-----`, `Weight:...`, `Error:... Prediction:...`, `Delta:... Weight Delta:...` (no spaces)
- calculation: `Prediction: ...`, `Pure error: ...`, `Direction and Amount: ...`, one calculation
"""


BOOK_PRINT_METHODS: dict[BookPrint, tuple[Method, ...]] = {
    "comparison": ("hot-cold",), "error-prediction": ("hot-cold", "gradient"),
    "error-prediction-weight": ("hot-cold", "gradient"), "four-steps": ("gradient",), "calculation": ("gradient",),
}
"""The methods whose numbers each print shape uses (the comparison prints hot and cold's probes)."""


def book_print_for(preset: Preset, method: Method) -> BookPrint:
    """The preset's print shape when it fits `method`; else the book's loop line, `Error: ... Prediction: ...`."""
    return preset.book_print if method in BOOK_PRINT_METHODS[preset.book_print] else "error-prediction"


def _p(name: str, method: Method, weight: float, input: float, goal: float, alpha: float,
       step_amount: float, book_steps: int, shows: str, book_print: BookPrint = "error-prediction") -> Preset:
    return Preset(name, method, Knobs(weight, input, goal, alpha, step_amount), book_steps, shows, book_print)


PRESETS: dict[str, Preset] = {p.name: p for p in (
    _p("toes", "hot-cold", 0.1, 8.5, 1.0, 0.1, 0.1, 1,
       "the first comparison: a step of 0.1 up and down (the book's code steps down 0.01: --format book)",
       "comparison"),
    _p("hot-cold", "hot-cold", 0.5, 0.5, 0.8, 1.0, 0.001, 1101, "1101 iterations to the goal"),
    _p("gradient", "gradient", 0.5, 0.5, 0.8, 1.0, 0.001, 20, "direction and amount"),
    _p("from-zero", "gradient", 0.0, 0.5, 0.8, 1.0, 0.001, 10, "learning is reducing error", "error-prediction-weight"),
    _p("watch-four", "gradient", 0.0, 1.1, 0.8, 1.0, 0.001, 4, "overshoot and come back", "four-steps"),
    _p("divergence", "gradient", 0.5, 2.0, 0.8, 1.0, 0.001, 20, "error x9 per step"),
    _p("alpha", "gradient", 0.5, 2.0, 0.8, 0.1, 0.001, 20, "alpha tames it"),
    _p("stopping", "gradient", 0.5, 0.0, 0.8, 1.0, 0.001, 1, "input 0: nothing to learn", "calculation"),
    _p("negative", "gradient", 0.5, -100.0, 0.8, 0.00005, 0.001, 1, "negative reversal", "calculation"),
    _p("scaling", "gradient", 0.5, 50000.0, 0.8, 1.0, 0.001, 1, "a huge input, a huge update", "calculation"),
)}

DEFAULT_PRESET = "gradient"


def get_preset(name: str) -> Preset:
    """The preset called `name`, or a ValueError that names it and lists the names."""
    try:
        return PRESETS[name]
    except KeyError:
        raise ValueError(f"preset: {name!r} is not one of {', '.join(PRESETS)}") from None


@dataclass(frozen=True, slots=True)
class Start:
    """Where a session starts: the preset's name, its knobs with explicit options applied, and the method."""

    preset: str
    knobs: Knobs
    method: Method
