"""How an iteration is written down: the book's text lines, CSV, JSON lines and a one-line summary.

Shared by `knobtui run` and the simulator's export. Floats are written with Python's repr digits, so
the text matches the book and CSV/JSONL read back to the same floats.
"""

from __future__ import annotations

import csv
import io
import json
import os
import secrets
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from .learning.analysis import error_at

if TYPE_CHECKING:
    from .learning import Knobs, Method, Record, Session

FORMATS = ("text", "book", "csv", "jsonl", "summary")
BASE_COLUMNS = ("iteration", "method", "weight", "prediction", "error", "new_weight")
METHOD_COLUMNS: dict[str, tuple[str, ...]] = {
    "gradient": ("delta", "weight_delta"),
    "hot-cold": ("up_error", "down_error"),
}
KNOB_COLUMNS = ("input", "goal", "alpha", "step_amount")


def columns(methods: Iterable[Method], with_knobs: bool = False) -> tuple[str, ...]:
    """The columns for records of these methods, in a fixed order (knob columns for exports)."""
    present = set(methods)
    cols = list(BASE_COLUMNS)
    for method in ("gradient", "hot-cold"):
        if method in present:
            cols.extend(METHOD_COLUMNS[method])
    if with_knobs:
        cols.extend(KNOB_COLUMNS)
    return tuple(cols)


def book_line(rec: Record) -> str:
    """The book's line for one iteration: `Error: ... Prediction: ...`, then the new weight and the rule's numbers."""
    line = f"Error: {rec.error!r} Prediction: {rec.prediction!r} Weight: {rec.new_weight!r}"
    if rec.method == "gradient":
        return f"{line} Delta: {rec.delta!r} Weight Delta: {rec.weight_delta!r}"
    return f"{line} Up Error: {rec.up_error!r} Down Error: {rec.down_error!r}"


def as_dict(rec: Record, cols: tuple[str, ...], knobs: dict[str, float] | None = None) -> dict[str, object]:
    """The record's values for `cols` (None where a column does not apply)."""
    out: dict[str, object] = {}
    for col in cols:
        if col in KNOB_COLUMNS:
            out[col] = knobs[col] if knobs is not None else None
        else:
            out[col] = getattr(rec, col)
    return out


def book_lines(rec: Record, shape: str, knobs: Knobs) -> list[str]:
    """What the chapter's own print statements print for one iteration, character for character."""
    if shape == "comparison":  # error, error a step up, error a tenth of a step down (the book's lr = 0.01)
        return [repr(rec.error), repr(rec.up_error),
                repr(error_at(knobs, rec.weight - knobs.step_amount / 10))]
    if shape == "error-prediction-weight":
        return [f"Error: {rec.error!r} Prediction: {rec.prediction!r} Weight: {rec.new_weight!r}"]
    if shape == "four-steps":
        return ["-----", f"Weight:{rec.weight!r}", f"Error:{rec.error!r} Prediction:{rec.prediction!r}",
                f"Delta:{rec.delta!r} Weight Delta:{rec.weight_delta!r}"]
    if shape == "calculation":
        return [f"Prediction: {rec.prediction!r}", f"Pure error: {rec.delta!r}",
                f"Direction and Amount: {rec.weight_delta!r}"]
    return [f"Error: {rec.error!r} Prediction: {rec.prediction!r}"]


def write_book(records: Iterable[Record], out: TextIO, shape: str, knobs_of: object) -> int:
    """The book's own output for these records in the preset's print shape (see learning/presets.py)."""
    n = 0
    for rec in records:
        knobs = knobs_of(rec)  # type: ignore[operator]
        out.write("\n".join(book_lines(rec, shape, knobs)) + "\n")
        n += 1
    return n


def write_text(records: Iterable[Record], out: TextIO) -> int:
    n = 0
    write = out.write
    for rec in records:
        write(book_line(rec) + "\n")
        n += 1
    return n


def write_csv(records: Iterable[Record], out: TextIO, cols: tuple[str, ...],
              knobs_of: object = None) -> int:
    """CSV with a header row; empty cells where a column does not apply. `knobs_of(rec)` gives knob values."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(cols)
    n = 0
    for rec in records:
        knobs = knobs_of(rec) if callable(knobs_of) else None
        row = as_dict(rec, cols, knobs)
        writer.writerow(["" if v is None else v for v in row.values()])
        n += 1
    return n


def write_jsonl(records: Iterable[Record], out: TextIO, cols: tuple[str, ...],
                knobs_of: object = None) -> int:
    """One JSON object per line, only the columns that apply to each record's method."""
    n = 0
    write = out.write
    for rec in records:
        knobs = knobs_of(rec) if callable(knobs_of) else None
        row = {k: v for k, v in as_dict(rec, cols, knobs).items() if v is not None}
        write(json.dumps(row, allow_nan=False) + "\n")
        n += 1
    return n


def summary_line(session: Session) -> str:
    """One line: iterations, the last error and prediction, the weight now, and the status."""
    n = session.iteration
    head = f"{n} iteration{'s' if n != 1 else ''} of {session.method}"
    if n == 0:
        return f"{head}: weight {session.weight!r}, {session.status.text}"
    last = session.record(n)
    return (f"{head}: last error {last.error!r} (prediction {last.prediction!r}), "
            f"final weight {session.weight!r}, {session.status.text}")


def write_records(fmt: str, session: Session, out: TextIO, start: int = 1, with_knobs: bool = False,
                  book_print: str = "error-prediction") -> int:
    """Write the session's records from `start` in `fmt`; returns how many records (or 1 for summary).
    `book_print` is the shape the book's code prints in for `book` (the preset's)."""
    if fmt == "summary":
        out.write(summary_line(session) + "\n")
        return 1
    records = session.records(start)
    if fmt == "text":
        return write_text(records, out)
    if fmt == "book":
        return write_book(records, out, book_print, lambda rec: session.knobs_at(rec.iteration))
    cols = columns({seg.method for seg in session.segments if seg.steps}
                   or {session.method}, with_knobs)
    knobs_of = (lambda rec: session.knobs_at(rec.iteration).as_dict()) if with_knobs else None
    if fmt == "csv":
        return write_csv(records, out, cols, knobs_of)
    if fmt == "jsonl":
        return write_jsonl(records, out, cols, knobs_of)
    raise ValueError(f"format: {fmt!r} is not one of {', '.join(FORMATS)}")


def write_new_file(directory: str | os.PathLike[str], stem: str, suffix: str, text: str) -> Path:
    """Write `text` to a new file `stem-NNN.suffix` in `directory`, atomically, never replacing a file.

    The text goes to a temporary file first, which is then hard-linked to the first free name (a link
    fails rather than replace an existing file), so a reader never sees half a file and nothing is
    clobbered, even by another knobtui exporting at the same moment. The file gets the user's usual
    permissions (0666 less the umask), like any file a shell command writes.
    """
    folder = Path(directory)
    fd, tmp = _new_temporary(folder, stem)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        for n in range(1, 100_000):
            target = folder / f"{stem}-{n:03d}.{suffix}"
            try:
                os.link(tmp, target)
            except FileExistsError:
                continue
            return target
        raise FileExistsError(f"no free name for {stem}-NNN.{suffix} in {folder}")
    finally:
        try:
            os.unlink(tmp)
        except OSError:
            pass


def _new_temporary(folder: Path, stem: str) -> tuple[int, Path]:
    """Create a new hidden temporary file in `folder`, open for writing, with mode 0666 less the umask.

    Not `tempfile.mkstemp`: it creates files 0600. Asking open() for 0666 lets the kernel apply the
    umask (and a directory's default ACL), so the umask is never read, let alone changed under
    other threads.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        tmp = folder / f".{stem}-{secrets.token_hex(6)}.tmp"
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name for {stem} in {folder}")


def export_session(session: Session, fmt: str, directory: str | os.PathLike[str], stem: str) -> Path:
    """The session's every iteration, with the knobs each was taken under, as a new CSV or JSONL file."""
    if fmt not in ("csv", "jsonl"):
        raise ValueError(f"format: {fmt!r} is not one of csv, jsonl")
    buf = io.StringIO()
    write_records(fmt, session, buf, with_knobs=True)
    return write_new_file(directory, stem, fmt, buf.getvalue())
