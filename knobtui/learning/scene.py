"""A scene: what a room sees at one moment, small enough to send after every key press.

The presenter's simulator sends its scene to the room, and each lesson step is kept as one. It is
the session's recipe (Session.recipe: a few hundred bytes whatever the history's length), the preset's
name, the knobs kept off the panel, and the lesson's heading and note.
"""

from __future__ import annotations

from dataclasses import dataclass

from .knobs import KNOB_NAMES

TEXT_LIMIT = 4096
"""The longest heading or note a scene carries (a lesson note is a few sentences)."""


@dataclass(frozen=True, slots=True)
class Scene:
    """What a room sees: the session (as its recipe), the preset, the hidden knobs, the lesson's words."""

    recipe: dict[str, object]
    preset: str
    hidden: frozenset[str] = frozenset()
    heading: str = ""
    note: str = ""
    outcome_hidden: bool = False  # the next step's outcome is kept back (a question is due or open)

    def as_dict(self) -> dict[str, object]:
        """The scene as plain JSON values."""
        return {"recipe": self.recipe, "preset": self.preset, "hidden": sorted(self.hidden),
                "lesson_heading": self.heading, "lesson_note": self.note, "outcome_hidden": self.outcome_hidden}

    @classmethod
    def from_dict(cls, data: object) -> Scene:
        """A scene from plain JSON values (another process's); ValueError names what is wrong.

        The recipe is checked only for its shape here; Session.follow checks what it says."""
        if not isinstance(data, dict):
            raise ValueError("scene: not an object")
        recipe, preset = data.get("recipe"), data.get("preset", "")
        hidden = data.get("hidden", [])
        heading, note = data.get("lesson_heading", ""), data.get("lesson_note", "")
        if not isinstance(recipe, dict):
            raise ValueError("scene: no recipe")
        if not isinstance(preset, str) or len(preset) > 64:
            raise ValueError("scene: the preset is not a name")
        if not isinstance(hidden, list) or not all(isinstance(h, str) for h in hidden):
            raise ValueError("scene: hidden is not a list of knob names")
        if not isinstance(heading, str) or not isinstance(note, str):
            raise ValueError("scene: the lesson heading and note must be text")
        outcome_hidden = data.get("outcome_hidden", False)
        if not isinstance(outcome_hidden, bool):
            raise ValueError("scene: outcome_hidden must be true or false")
        return cls(recipe, preset, frozenset(h for h in hidden if h in KNOB_NAMES),
                   heading[:TEXT_LIMIT], note[:TEXT_LIMIT], outcome_hidden)
