"""Shared helpers: build the simulator at a preset, as `knobtui --preset NAME` would."""

from __future__ import annotations

from knobtui.learning import Start
from knobtui.learning import get_preset


def start_at(preset: str = "gradient", method: str | None = None, **knobs: float) -> Start:
    p = get_preset(preset)
    return Start(p.name, p.knobs.with_values(**knobs), method or p.method)  # type: ignore[arg-type]


def make_app(preset: str = "gradient", method: str | None = None, **knobs: float):  # type: ignore[no-untyped-def]
    from knobtui.tui.app import KnobApp

    return KnobApp(start_at(preset, method, **knobs))
