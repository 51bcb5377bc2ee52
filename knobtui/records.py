"""How an iteration is written down: the book's text lines, CSV, JSON lines and a one-line summary.

Shared by `knobtui run` and the simulator's export. Floats are written with Python's repr digits, so
the text matches the book and CSV/JSONL read back to the same floats.
"""

from __future__ import annotations

import csv
import json
import os
import secrets
from collections.abc import Callable, Iterable, Iterator
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


def book_text(records: Iterable[Record], shape: str, knobs_of: Callable[[Record], Knobs]) -> Iterator[str]:
    """The book's own output for these records in the preset's print shape, a record at a time."""
    for rec in records:
        knobs = knobs_of(rec)
        yield "\n".join(book_lines(rec, shape, knobs)) + "\n"


def text_lines(records: Iterable[Record]) -> Iterator[str]:
    for rec in records:
        yield book_line(rec) + "\n"


class _LastLine:
    """A file for csv.writer that keeps only the line written last (writerow writes a row in one call)."""

    line = ""

    def write(self, text: str) -> int:
        self.line = text
        return len(text)


def csv_lines(records: Iterable[Record], cols: tuple[str, ...], knobs_of: object = None) -> Iterator[str]:
    """CSV with a header row; empty cells where a column does not apply. `knobs_of(rec)` gives knob values."""
    sink = _LastLine()
    writer = csv.writer(sink, lineterminator="\n")
    writer.writerow(cols)
    yield sink.line
    for rec in records:
        knobs = knobs_of(rec) if callable(knobs_of) else None
        row = as_dict(rec, cols, knobs)
        writer.writerow(["" if v is None else v for v in row.values()])
        yield sink.line


def jsonl_lines(records: Iterable[Record], cols: tuple[str, ...], knobs_of: object = None) -> Iterator[str]:
    """One JSON object per line, only the columns that apply to each record's method."""
    for rec in records:
        knobs = knobs_of(rec) if callable(knobs_of) else None
        row = {k: v for k, v in as_dict(rec, cols, knobs).items() if v is not None}
        yield json.dumps(row, allow_nan=False) + "\n"


def summary_line(session: Session) -> str:
    """One line: iterations, the last error and prediction, the weight now, and the status."""
    n = session.iteration
    head = f"{n} iteration{'s' if n != 1 else ''} of {session.method}"
    if n == 0:
        return f"{head}: weight {session.weight!r}, {session.status.text}"
    last = session.record(n)
    return (f"{head}: last error {last.error!r} (prediction {last.prediction!r}), "
            f"final weight {session.weight!r}, {session.status.text}")


def record_lines(fmt: str, session: Session, start: int = 1, with_knobs: bool = False,
                 book_print: str = "error-prediction", records: Iterable[Record] | None = None) -> Iterator[str]:
    """The session's records from `start` in `fmt`, as lines (each ending in a newline), made one at a time
    so a long history is never held as text. `book_print` is the shape the book's code prints in for
    `book` (the preset's). `records`, when given, are written instead of the session's from `start`: a
    stream that takes the iterations while it is read (`knobtui run`). ValueError names an unknown
    format before anything is made."""
    if fmt not in FORMATS:
        raise ValueError(f"format: {fmt!r} is not one of {', '.join(FORMATS)}")
    return _record_lines(fmt, session, start, with_knobs, book_print, records)


def _record_lines(fmt: str, session: Session, start: int, with_knobs: bool, book_print: str,
                  records: Iterable[Record] | None) -> Iterator[str]:
    if fmt == "summary":
        for _ in records or ():
            pass  # the summary is of the whole run
        yield summary_line(session) + "\n"
        return
    records = session.records(start) if records is None else records
    if fmt == "text":
        yield from text_lines(records)
        return
    if fmt == "book":
        yield from book_text(records, book_print, lambda rec: session.knobs_at(rec.iteration))
        return
    yield from _table_lines(fmt, session, records, with_knobs)


def _table_lines(fmt: str, session: Session, records: Iterable[Record], with_knobs: bool) -> Iterator[str]:
    """CSV or JSON lines of `records` of `session`, with the columns of every method the session used."""
    cols = columns({seg.method for seg in session.segments if seg.steps}
                   or {session.method}, with_knobs)
    knobs_of = (lambda rec: session.knobs_at(rec.iteration).as_dict()) if with_knobs else None
    if fmt == "csv":
        return csv_lines(records, cols, knobs_of)
    return jsonl_lines(records, cols, knobs_of)


def write_records(fmt: str, session: Session, out: TextIO, start: int = 1, with_knobs: bool = False,
                  book_print: str = "error-prediction", records: Iterable[Record] | None = None) -> None:
    """Write the session's records from `start` (or `records`) in `fmt` (see record_lines)."""
    write = out.write
    for line in record_lines(fmt, session, start, with_knobs, book_print, records):
        write(line)


class TooBig(Exception):
    """A file would pass its size limit; nothing was written."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"more than {limit} bytes")
        self.limit = limit


class Stopped(Exception):
    """Writing was asked to stop (the app is closing); nothing was written."""


CHUNK = 1 << 16
"""Lines are gathered into writes of about this many characters."""


def write_new_file(directory: str | os.PathLike[str], stem: str, suffix: str, text: str) -> Path:
    """Write `text` to a new file `stem-NNN.suffix` in `directory`, atomically, never replacing a file
    (see stream_new_file)."""
    return stream_new_file(directory, stem, suffix, [text])[0]


def stream_new_file(directory: str | os.PathLike[str], stem: str, suffix: str, lines: Iterable[str],
                    max_bytes: int | None = None, stop: Callable[[], bool] | None = None) -> tuple[Path, int]:
    """Write `lines` (made one at a time, so a long export never sits in memory whole) to a new file
    `stem-NNN.suffix` in `directory`, atomically, never replacing a file; the file's path and its size
    in bytes.

    The text goes to a temporary file first, which is then hard-linked to the first free name (a link
    fails rather than replace an existing file), so a reader never sees half a file and nothing is
    clobbered, even by another knobtui exporting at the same moment. The file gets the user's usual
    permissions (0666 less the umask), like any file a shell command writes.

    Past `max_bytes` it raises TooBig, and Stopped when `stop()` turns true; either way no file is left
    behind.
    """
    folder = Path(directory)
    fd, tmp = _new_temporary(folder, stem)
    try:
        size = 0
        with os.fdopen(fd, "wb") as out:
            for chunk in _chunks(lines):
                if stop is not None and stop():
                    raise Stopped()
                data = chunk.encode("utf-8")
                size += len(data)
                if max_bytes is not None and size > max_bytes:
                    raise TooBig(max_bytes)
                out.write(data)
            out.flush()
            os.fsync(out.fileno())
        for n in range(1, 100_000):
            target = folder / f"{stem}-{n:03d}.{suffix}"
            try:
                os.link(tmp, target)
            except FileExistsError:
                continue
            return target, size
        raise FileExistsError(f"no free name for {stem}-NNN.{suffix} in {folder}")
    finally:
        try:
            os.unlink(tmp)
        except OSError:
            pass


def _chunks(lines: Iterable[str]) -> Iterator[str]:
    """Lines joined into pieces of about CHUNK characters (one write, one stop check, each)."""
    batch: list[str] = []
    n = 0
    for line in lines:
        batch.append(line)
        n += len(line)
        if n >= CHUNK:
            yield "".join(batch)
            batch, n = [], 0
    if batch:
        yield "".join(batch)


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


EXPORT_FORMATS = ("csv", "jsonl")


def export_lines(session: Session, fmt: str) -> Iterator[str]:
    """The session's every iteration, with the knobs each was taken under, as CSV or JSON lines."""
    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"format: {fmt!r} is not one of {', '.join(EXPORT_FORMATS)}")
    return record_lines(fmt, session, with_knobs=True)


def export_session(session: Session, fmt: str, directory: str | os.PathLike[str], stem: str,
                   max_bytes: int | None = None, stop: Callable[[], bool] | None = None) -> tuple[Path, int]:
    """The session's every iteration, with its knobs, as a new CSV or JSONL file: its path and size.
    Streamed (see stream_new_file), so it may run in a thread on a copy of the session."""
    return stream_new_file(directory, stem, fmt, export_lines(session, fmt), max_bytes, stop)


def estimate_export_bytes(session: Session, fmt: str, samples: int = 200) -> int:
    """About how many bytes export_session would write: the lines of `samples` iterations spread evenly
    over the history, scaled up. Cheap at any length; for the message while a long export is written."""
    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"format: {fmt!r} is not one of {', '.join(EXPORT_FORMATS)}")
    n = session.iteration
    picks = sorted({1 + (n - 1) * k // max(1, samples - 1) for k in range(min(samples, n))})
    lines = _table_lines(fmt, session, (session.record(i) for i in picks), with_knobs=True)
    header = len(next(lines).encode()) if fmt == "csv" else 0
    sample = sum(len(line.encode()) for line in lines)
    return header + (round(sample * n / len(picks)) if picks else 0)
