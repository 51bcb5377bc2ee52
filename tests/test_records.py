"""The writers of `knobtui run` and the export: lines made straight from the weight history say, digit for
digit, what each iteration's Record says (the book's line, the csv module, json.dumps)."""

from __future__ import annotations

import csv
import io
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from knobtui.learning import Knobs, Record, Session
from knobtui.records import KNOB_COLUMNS, book_line, record_lines


def _oracle(fmt: str, session: Session, start: int, with_knobs: bool, cols: list[str]) -> str:
    """What each record, written by the standard library, says: the reference the fast lines must equal."""
    recs: list[Record] = list(session.records(start))
    if fmt == "text":
        return "".join(book_line(r) + "\n" for r in recs)
    rows = []
    for r in recs:
        knobs = session.knobs_at(r.iteration).as_dict()
        rows.append({c: (knobs[c] if with_knobs else None) if c in KNOB_COLUMNS else getattr(r, c) for c in cols})
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(cols)
        for row in rows:
            writer.writerow(["" if v is None else v for v in row.values()])
        return out.getvalue()
    return "".join(json.dumps({k: v for k, v in row.items() if v is not None}, allow_nan=False) + "\n"
                   for row in rows)


def _same(made: str, want: str) -> None:
    """Equal, or the first line that differs (pytest's diff of two long texts takes minutes)."""
    a, b = made.splitlines(), want.splitlines()
    first = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
    if made != want:
        pytest.fail(f"line {first + 1} of {len(a)} (wanted {len(b)}): "
                    f"{a[first] if first < len(a) else None!r} != {b[first] if first < len(b) else None!r}")


def _mixed_session() -> Session:
    """Both methods, knob changes between stretches, and an overflow at the end."""
    s = Session(Knobs(weight=0.5, input=0.5, goal=0.8, alpha=0.1, step_amount=0.001), "gradient")
    s.run(700)
    s.set_method("hot-cold")
    s.run(650)
    s.set_knobs(step_amount=0.0001, goal=-3.25)
    s.run(40)
    s.set_method("gradient")
    s.set_knobs(alpha=12.0, input=3.0)
    s.run(1000)  # diverges into an overflow: every number written is still finite
    return s


def _cols(session: Session, with_knobs: bool) -> list[str]:
    header = next(iter(record_lines("csv", session, with_knobs=with_knobs)))
    return header.rstrip("\n").split(",")


def test_fast_lines_equal_the_records_in_every_format() -> None:
    session = _mixed_session()
    assert session.halt is not None and {seg.method for seg in session.segments} == {"gradient", "hot-cold"}
    for with_knobs in (False, True):
        cols = _cols(session, with_knobs)
        assert set(KNOB_COLUMNS) <= set(cols) if with_knobs else not set(KNOB_COLUMNS) & set(cols)
        for fmt in ("text", "csv", "jsonl"):
            for start in (1, 700, 701, 1389):
                made = "".join(record_lines(fmt, session, start=start, with_knobs=with_knobs))
                want = _oracle(fmt, session, start, with_knobs, cols)
                _same(made, want)


def test_spans_taken_while_reading_write_what_the_session_took() -> None:
    """`knobtui run` hands the writer spans of iterations as it takes them; the lines are those of the spans."""
    session = Session(Knobs(weight=0.5, input=0.5, goal=0.8, alpha=0.1, step_amount=0.000001), "hot-cold")

    def taking():
        for n in (3, 1000, 1, 2047):
            before = session.iteration
            session.run(n)
            yield before + 1, session.iteration

    made = "".join(record_lines("jsonl", session, taken=taking()))
    _same(made, _oracle("jsonl", session, 1, False, _cols(session, False)))
    assert made.count("\n") == 3051


@settings(max_examples=40, deadline=None)
@given(weight=st.floats(-1e6, 1e6), x=st.floats(-1e3, 1e3), goal=st.floats(-1e6, 1e6),
       alpha=st.floats(0, 10), step=st.floats(1e-12, 1e3), method=st.sampled_from(["gradient", "hot-cold"]),
       steps=st.integers(0, 60))
def test_fast_lines_equal_the_records_for_any_knobs(weight: float, x: float, goal: float, alpha: float,
                                                      step: float, method: str, steps: int) -> None:
    session = Session(Knobs(weight=weight, input=x, goal=goal, alpha=alpha, step_amount=step), method)  # type: ignore[arg-type]
    session.run(steps)
    for fmt in ("text", "csv", "jsonl"):
        made = "".join(record_lines(fmt, session, with_knobs=True))
        _same(made, _oracle(fmt, session, 1, True, _cols(session, True)))
