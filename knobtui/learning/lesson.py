"""Lessons: a presenter's script of steps (load a preset, set knobs, hide or show knobs, step, a note).

A lesson is a TOML file:

    title = "Chapter 4"

    [[step]]
    note = "Hot and cold: try a step up and a step down, keep the colder."
    preset = "hot-cold"        # load a preset (its knobs and method)
    method = "gradient"        # switch the update rule
    set = { weight = 0.5 }     # set knobs
    hide = ["alpha"]           # hide knobs the lesson does not need yet
    show = ["alpha"]           # show them again
    steps = 3                  # take this many iterations
    fast_forward = true        # run until converged (or stuck, oscillating, overflowing)
    ask = "direction"          # the next space asks first: "direction", "error" or "overshoot"
    outcome = false            # keep the next step's outcome off the screen (a step before learning is taught)

Everything is checked when the file is read: a mistake is reported with the file, the line and what
is wrong, and nothing starts half-configured. Reaching step k replays steps 1..k from the start, so
going back (N) is exact.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import PurePath

from .knobs import KNOB_NAMES, METHODS, KnobError, Knobs, Method, check_value, knob_name
from .presets import DEFAULT_PRESET, PRESETS, get_preset
from .scene import Scene
from .session import DEFAULT_TOLERANCE, Session

STEP_KEYS = {"note", "preset", "method", "set", "hide", "show", "steps", "fast_forward", "ask", "outcome"}
ASK_KINDS = ("direction", "error", "overshoot")
"""What a step may ask before the next single step (learning/predict.py)."""
MAX_STEPS_PER_LESSON_STEP = 1_000_000


class LessonError(ValueError):
    """A lesson file that cannot run: the message names the file, the line and what is wrong."""


@dataclass(frozen=True, slots=True)
class LessonStep:
    note: str = ""
    preset: str | None = None
    method: Method | None = None
    set: tuple[tuple[str, float], ...] = ()
    hide: tuple[str, ...] = ()
    show: tuple[str, ...] = ()
    steps: int = 0
    fast_forward: bool = False
    line: int = 0
    ask: str | None = None  # the question the next single step asks first (one of ASK_KINDS)
    outcome: bool = True  # the next step's outcome is on screen (false: kept back, like a question's answer)

    @property
    def hides_outcome(self) -> bool:
        """The next step's outcome is kept off the screen at this step: it asks about it, or says so."""
        return self.ask is not None or not self.outcome


@dataclass(frozen=True, slots=True)
class Lesson:
    title: str
    steps: tuple[LessonStep, ...]
    source: str = ""

    def heading(self, index: int, sep: str = "\u00b7") -> str:
        """'title · step k of n' for step `index` (0-based)."""
        return f"{self.title} {sep} step {index + 1} of {len(self.steps)}"


@dataclass
class LessonState:
    """Where the lesson stands after its step `index` (0-based): the session, preset, hidden knobs and note."""

    index: int
    session: Session
    preset: str
    hidden: frozenset[str]
    note: str



def _step_lines(text: str) -> list[int]:
    """The 1-based line of each `[[step]]` header, in order."""
    return [i + 1 for i, line in enumerate(text.splitlines()) if re.match(r"\s*\[\[\s*step\s*\]\]", line)]


def _key_line(text: str, after: int, key: str) -> int:
    """The line of `key = ...` in the table that starts at line `after` (or `after` itself)."""
    lines = text.splitlines()
    for i in range(max(after - 1, 0), len(lines)):
        if i > after - 1 and re.match(r"\s*\[", lines[i]):
            break
        if re.match(rf"\s*{re.escape(key)}\s*=", lines[i]):
            return i + 1
    return after


def parse_lesson(text: str, source: str = "<lesson>") -> Lesson:
    """Read and check a whole lesson; LessonError names the file, line and problem."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise LessonError(f"{source}: {exc}") from None
    unknown_top = set(data) - {"title", "step"}
    if unknown_top:
        key = sorted(unknown_top)[0]
        raise LessonError(f"{source}, line {_key_line(text, 0, key)}: unknown key {key!r} "
                          f"(a lesson has a title and [[step]] tables)")
    raw_steps = data.get("step", [])
    if not isinstance(raw_steps, list) or not raw_steps:
        raise LessonError(f"{source}: a lesson needs at least one [[step]]")
    heads = _step_lines(text)
    steps = []
    for i, raw in enumerate(raw_steps):
        line = heads[i] if i < len(heads) else 0
        where = f"{source}, line {line} (step {i + 1})"
        if not isinstance(raw, dict):
            raise LessonError(f"{source}, line {_key_line(text, 0, 'step')}: step {i + 1} must be a "
                              f"[[step]] table, not {raw!r}")

        def fail(key: str, why: str) -> LessonError:
            return LessonError(f"{source}, line {_key_line(text, line, key)} (step {i + 1}): {why}")

        unknown = set(raw) - STEP_KEYS
        if unknown:
            key = sorted(unknown)[0]
            raise fail(key, f"unknown key {key!r} (one of {', '.join(sorted(STEP_KEYS))})")
        note = raw.get("note", "")
        if not isinstance(note, str):
            raise fail("note", "note must be text")
        preset = raw.get("preset")
        if preset is not None and (not isinstance(preset, str) or preset not in PRESETS):
            raise fail("preset", f"preset {preset!r} is not one of {', '.join(PRESETS)}")
        method = raw.get("method")
        if method is not None and (not isinstance(method, str) or method not in METHODS):
            raise fail("method", f"method {method!r} is not one of {', '.join(METHODS)}")
        settings = raw.get("set", {})
        if not isinstance(settings, dict):
            raise fail("set", "set must be a table, like set = { weight = 0.5 }")
        pairs = []
        for name, value in settings.items():
            knob = knob_name(name)
            if knob not in KNOB_NAMES:
                raise fail("set", f"{name!r} is not a knob ({', '.join(KNOB_NAMES)})")
            try:
                pairs.append((knob, check_value(knob, value)))
            except KnobError as exc:
                raise fail("set", str(exc)) from None
        lists = {}
        for key in ("hide", "show"):
            names = raw.get(key, [])
            if isinstance(names, str):
                names = [names]
            if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
                raise fail(key, f"{key} must be a list of knob names")
            knobs = tuple(knob_name(n) for n in names)
            bad = [n for n, k in zip(names, knobs) if k not in KNOB_NAMES]
            if bad:
                raise fail(key, f"{bad[0]!r} is not a knob ({', '.join(KNOB_NAMES)})")
            lists[key] = knobs
        n = raw.get("steps", 0)
        if isinstance(n, bool) or not isinstance(n, int) or not 0 <= n <= MAX_STEPS_PER_LESSON_STEP:
            raise fail("steps", f"steps must be a whole number from 0 to {MAX_STEPS_PER_LESSON_STEP}, not {n!r}")
        ff = raw.get("fast_forward", False)
        if not isinstance(ff, bool):
            raise fail("fast_forward", "fast_forward must be true or false")
        if not (note or preset or method or pairs or lists["hide"] or lists["show"] or n or ff or raw.get("ask")):
            raise LessonError(f"{where}: an empty step (give it a note or something to do)")
        ask = raw.get("ask")
        if ask is not None and ask not in ASK_KINDS:
            raise fail("ask", f"ask must be one of {', '.join(repr(k) for k in ASK_KINDS)}, not {ask!r}")
        outcome = raw.get("outcome", True)
        if not isinstance(outcome, bool):
            raise fail("outcome", "outcome must be true or false")
        steps.append(LessonStep(note, preset, method, tuple(pairs), lists["hide"], lists["show"], n, ff, line, ask,
                                outcome))
    title = data.get("title", PurePath(source).stem)
    if not isinstance(title, str):
        raise LessonError(f"{source}, line {_key_line(text, 0, 'title')}: title must be text")
    lesson = Lesson(title, tuple(steps), source)
    _check_runs(lesson)
    return lesson


def _check_runs(lesson: Lesson) -> None:
    """Run the whole lesson once, so a knob combination that cannot be set fails now, not mid-talk."""
    lesson_snapshots(lesson)


def lesson_snapshots(lesson: Lesson, tolerance: float = DEFAULT_TOLERANCE) -> list[Scene]:
    """Play the lesson once from the start, keeping each step's scene: n and N then cost one replay,
    not a replay of every step before it. LessonError names the step that cannot be played."""
    preset = get_preset(DEFAULT_PRESET)
    session = Session(preset.knobs, preset.method, tolerance)
    name, hidden = preset.name, frozenset[str]()
    out = []
    for k, step in enumerate(lesson.steps):
        try:
            name, hidden = _apply_step(session, step, name, hidden)
        except (KnobError, ValueError) as exc:
            raise LessonError(f"{lesson.source}, line {step.line} (step {k + 1}): {exc}") from None
        out.append(Scene(session.recipe(), name, hidden, lesson.heading(k), step.note, step.hides_outcome))
    return out


def _apply_step(session: Session, step: LessonStep, name: str, hidden: frozenset[str]) -> tuple[str, frozenset[str]]:
    if step.preset is not None:
        p = get_preset(step.preset)
        name = p.name
        session.reset(p.knobs, p.method)
    if step.method is not None:
        session.set_method(step.method)
    if step.set:
        if session.iteration == 0:  # before any step the new knobs are the start to reset to
            session.reset(session.knobs.with_values(**dict(step.set)), session.method)
        else:
            session.set_knobs(**dict(step.set))
    hidden = (hidden | set(step.hide)) - set(step.show)
    if step.steps:
        session.run(step.steps)
    if step.fast_forward:
        session.fast_forward()
    return name, frozenset(hidden)


def lesson_state(lesson: Lesson, index: int, tolerance: float = DEFAULT_TOLERANCE) -> LessonState:
    """Replay steps 0..index from the start: the state a presenter is in at lesson step `index`."""
    preset = get_preset(DEFAULT_PRESET)
    session = Session(preset.knobs, preset.method, tolerance)
    name, hidden = preset.name, frozenset[str]()
    for step in lesson.steps[: index + 1]:
        name, hidden = _apply_step(session, step, name, hidden)
    note = lesson.steps[index].note if 0 <= index < len(lesson.steps) else ""
    return LessonState(index, session, name, hidden, note)


def state_from_snapshot(index: int, snap: Scene) -> LessonState:
    """A step's scene made whole again: the session rebuilt from its recipe."""
    preset = get_preset(snap.preset)
    session = Session(preset.knobs, preset.method)
    session.follow(snap.recipe)
    return LessonState(index, session, snap.preset, snap.hidden, snap.note)


__all__ = ["Lesson", "LessonError", "LessonState", "LessonStep", "Knobs", "lesson_state", "parse_lesson"]
