"""The lessons shipped with knobtui, and reading a lesson file: the I/O the pure learning package leaves out."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from ..learning.lesson import Lesson, LessonError, parse_lesson


def load_lesson(name_or_path: str) -> Lesson:
    """A lesson by path, or by the name of one shipped with knobtui (e.g. chapter4)."""
    path = Path(name_or_path)
    if path.suffix != ".toml" and not path.exists():
        try:
            text = resources.files("knobtui.lessons").joinpath(f"{name_or_path}.toml").read_text(encoding="utf-8")
        except (FileNotFoundError, ModuleNotFoundError):
            raise LessonError(f"lesson: {name_or_path!r} is neither a file nor a shipped lesson "
                              f"({', '.join(shipped_lessons())})") from None
        return parse_lesson(text, f"{name_or_path}.toml")
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise LessonError(f"lesson: cannot read {str(path)!r}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise LessonError(f"lesson: {str(path)!r} is not UTF-8 text") from None
    return parse_lesson(text, str(path))


def shipped_lessons() -> list[str]:
    try:
        return sorted(p.name[:-5] for p in resources.files("knobtui.lessons").iterdir() if p.name.endswith(".toml"))
    except ModuleNotFoundError:
        return []


__all__ = ["load_lesson", "shipped_lessons"]
