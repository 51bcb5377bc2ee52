"""How an iteration is written down: the book's text lines, CSV, JSON lines and a one-line summary.

Shared by `knobtui run` and the simulator's export. Floats are written with Python's repr digits, so
the text matches the book and CSV/JSONL read back to the same floats.
"""

from __future__ import annotations

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


Span = tuple[int, int]
"""Iterations `first..last` (inclusive) of a session: what a run took in one chunk."""


def _template(fmt: str, method: Method, cols: tuple[str, ...]) -> str:
    """A `str.format` pattern for one line of `fmt` for an iteration of `method`, over the values
    (iteration, weight, prediction, error, new_weight, the rule's two numbers, the knobs' text): `!r`,
    so every float has its repr digits (as csv and json write them)."""
    a, b = METHOD_COLUMNS[method]
    if fmt == "text":
        return ("Error: {3!r} Prediction: {2!r} Weight: {4!r} "
                + ("Delta: {5!r} Weight Delta: {6!r}" if method == "gradient" else "Up Error: {5!r} Down Error: {6!r}")
                + "\n")
    slot = {"iteration": "{0}", "method": method, "weight": "{1!r}", "prediction": "{2!r}", "error": "{3!r}",
            "new_weight": "{4!r}", a: "{5!r}", b: "{6!r}"}
    knob_cols = [c for c in cols if c in KNOB_COLUMNS]
    if fmt == "csv":
        cells = [slot.get(c, "") for c in cols if c not in KNOB_COLUMNS]
        return ",".join(cells) + ("," if knob_cols else "") + "{7}\n"
    slot["method"] = json.dumps(method)
    return "{{" + ", ".join(f"{json.dumps(c)}: {slot[c]}" for c in cols if c in slot) + "{7}}}\n"


def _knob_text(fmt: str, knobs: Knobs, cols: tuple[str, ...]) -> str:
    """The knob columns of a line, the same on every line of a stretch of unchanged knobs."""
    values = knobs.as_dict()
    names = [c for c in cols if c in KNOB_COLUMNS]
    if fmt == "csv":
        return ",".join(repr(values[c]) for c in names)
    return "".join(f", {json.dumps(c)}: {values[c]!r}" for c in names)


def span_text(fmt: str, session: Session, first: int, last: int, cols: tuple[str, ...] = ()) -> str:
    """The `text`, `csv` or `jsonl` lines of iterations `first..last` of `session`, as one string.

    Made straight from the weight history with the rules' own arithmetic (the same expressions as
    rules.gradient_step and rules.hot_cold_step, which the history was taken with, so every number is
    finite), one format pattern per line: a run writes at the speed of formatting floats, not of
    building a Record for each iteration."""
    out: list[str] = []
    add = out.append
    for seg in session.segments:
        lo, hi = max(first, seg.start + 1), min(last, seg.end)
        if lo > hi:
            continue
        k = seg.knobs
        line = _template(fmt, seg.method, cols).format
        extra = _knob_text(fmt, k, cols) if fmt != "text" else ""
        ws, base, x, goal = seg.weights, seg.start + 1, k.input, k.goal
        if seg.method == "gradient":
            for i in range(lo, hi + 1):
                w = ws[i - base]
                p = x * w
                delta = p - goal
                add(line(i, w, p, delta ** 2, ws[i - base + 1], delta, delta * x, extra))
        else:
            s = k.step_amount
            for i in range(lo, hi + 1):
                w = ws[i - base]
                p = x * w
                add(line(i, w, p, (p - goal) ** 2, ws[i - base + 1],
                         (goal - x * (w + s)) ** 2, (goal - x * (w - s)) ** 2, extra))
    return "".join(out)


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
                 book_print: str = "error-prediction", taken: Iterable[Span] | None = None) -> Iterator[str]:
    """The session's records from `start` in `fmt`, as text made a chunk at a time (each piece ends in a
    newline), so a long history is never held as text. `book_print` is the shape the book's code prints in
    for `book` (the preset's). `taken`, when given, is a stream of spans of iterations taken while it is
    read (`knobtui run`): those are written instead of the session's from `start`, each as it comes.
    ValueError names an unknown format before anything is made."""
    if fmt not in FORMATS:
        raise ValueError(f"format: {fmt!r} is not one of {', '.join(FORMATS)}")
    return _record_lines(fmt, session, start, with_knobs, book_print, taken)


def _record_lines(fmt: str, session: Session, start: int, with_knobs: bool, book_print: str,
                  taken: Iterable[Span] | None) -> Iterator[str]:
    if fmt == "summary":
        for _ in taken or ():
            pass  # the summary is of the whole run: taking it is all there is to do until it ends
        yield summary_line(session) + "\n"
        return
    spans = [(max(start, 1), session.iteration)] if taken is None else taken
    if fmt == "book":
        shape = book_print
        for first, last in spans:
            yield "".join(book_text(session.records(first, last), shape, lambda rec: session.knobs_at(rec.iteration)))
        return
    cols = _columns_of(session, with_knobs) if fmt != "text" else ()
    if fmt == "csv":
        yield ",".join(cols) + "\n"
    for first, last in spans:
        for lo in range(first, last + 1, SPAN):  # a piece at a time: an export's text is never held whole
            yield span_text(fmt, session, lo, min(lo + SPAN - 1, last), cols)


def _columns_of(session: Session, with_knobs: bool) -> tuple[str, ...]:
    """The columns of a CSV or JSONL of `session`: those of every method it used."""
    return columns({seg.method for seg in session.segments if seg.steps} or {session.method}, with_knobs)


SPAN = 512
"""Iterations made into one piece of text."""


def write_records(fmt: str, session: Session, out: TextIO, start: int = 1, with_knobs: bool = False,
                  book_print: str = "error-prediction", taken: Iterable[Span] | None = None) -> None:
    """Write the session's records from `start` (or those `taken`) in `fmt` (see record_lines)."""
    write = out.write
    for line in record_lines(fmt, session, start, with_knobs, book_print, taken):
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
    cols = _columns_of(session, with_knobs=True)
    header = len(",".join(cols)) + 1 if fmt == "csv" else 0
    sample = sum(len(span_text(fmt, session, i, i, cols).encode()) for i in picks)
    return header + (round(sample * n / len(picks)) if picks else 0)
