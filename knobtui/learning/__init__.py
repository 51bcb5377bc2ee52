"""The math of chapter 4: pure Python, no Textual, no I/O."""

from .analysis import Stability, curve, error_at, goal_weight, predicted_iterations, slope, stability
from .knobs import (KNOB_LABELS, KNOB_NAMES, METHOD_NAMES, METHODS, KnobError, Knobs, Method, check_method,
                    check_tolerance, knob_name, parse_number, parse_tolerance)
from .presets import DEFAULT_PRESET, PRESETS, Preset, Start, get_preset
from .scene import Scene
from .rules import NonFinite, Record, gradient_step, hot_cold_step
from .session import DEFAULT_TOLERANCE, FastForward, Halt, Session, Status

__all__ = [
    "DEFAULT_PRESET", "DEFAULT_TOLERANCE", "FastForward", "Halt", "KNOB_LABELS", "KNOB_NAMES",
    "KnobError", "Knobs", "METHODS", "METHOD_NAMES", "Method", "NonFinite", "PRESETS", "Preset",
    "Record", "Scene", "Session", "Stability", "Start", "Status", "check_method", "check_tolerance", "curve", "error_at", "get_preset",
    "goal_weight", "gradient_step", "hot_cold_step", "knob_name", "parse_number", "parse_tolerance", "predicted_iterations", "slope",
    "stability",
]
