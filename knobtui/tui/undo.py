"""Undo (`u`): presets, resets and method switches throw a run away; `u` brings it back, history and all."""

from __future__ import annotations

from ..learning import Session

UNDO_DEPTH = 20
"""Presets, resets and method switches that `u` can take back."""


class Undo:
    """The runs thrown away, newest last, at most UNDO_DEPTH: each a copy of the session and its preset."""

    def __init__(self) -> None:
        self._kept: list[tuple[Session, str]] = []

    def keep(self, session: Session, preset: str) -> None:
        """Remember a run (a copy of its session) and its preset before a change throws it away."""
        self._kept = [*self._kept, (session.copy(), preset)][-UNDO_DEPTH:]

    def take(self) -> tuple[Session, str] | None:
        """The run thrown away last, or None when there is none."""
        return self._kept.pop() if self._kept else None


NOTHING_TO_UNDO = "nothing to undo (u takes back a preset, a reset or a method switch)"


def undone(preset: str, iteration: int) -> str:
    return f"back to preset {preset} at iteration {iteration}"
