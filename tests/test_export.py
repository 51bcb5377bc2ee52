"""Export: what e and E write reads back to the engine's history exactly; nothing is ever overwritten."""

from __future__ import annotations

import csv
import json
import tracemalloc
from pathlib import Path

import pytest

from appkit import make_app, start_at
from knobtui.records import KNOB_COLUMNS, estimate_export_bytes, export_lines, export_session, write_new_file
from knobtui.tui.app import KnobApp
from knobtui.tui.limits import SERVED, Limits, human_bytes


def _float(cell: str) -> float | None:
    return float(cell) if cell != "" else None


async def test_export_csv_and_jsonl_round_trip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    app = make_app("gradient")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("space", "space", "space", "m", "space", "space", "down", "right", "space")
        await pilot.press("e", "E")
        await pilot.pause()
        records = list(app.session.records())
        knobs = [app.session.knobs_at(r.iteration) for r in records]
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == ["knobtui-gradient-001.csv", "knobtui-gradient-001.jsonl"]
    rows = list(csv.DictReader((tmp_path / "knobtui-gradient-001.csv").open()))
    assert len(rows) == len(records) == 6
    for row, rec, k in zip(rows, records, knobs):
        assert int(row["iteration"]) == rec.iteration and row["method"] == rec.method
        for col in ("weight", "prediction", "error", "new_weight", "delta", "weight_delta", "up_error", "down_error"):
            assert _float(row[col]) == getattr(rec, col)
        for col in KNOB_COLUMNS:
            assert float(row[col]) == getattr(k, col)
    lines = (tmp_path / "knobtui-gradient-001.jsonl").read_text().splitlines()
    for line, rec in zip(lines, records, strict=True):
        obj = json.loads(line)
        for col in ("weight", "prediction", "error", "new_weight"):
            assert obj[col] == getattr(rec, col)
        assert obj["method"] == rec.method


async def test_export_never_clobbers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "knobtui-toes-001.csv").write_text("mine\n")
    app = make_app("toes")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("space", "e", "e", "s")
        await pilot.pause()
    assert (tmp_path / "knobtui-toes-001.csv").read_text() == "mine\n"
    assert (tmp_path / "knobtui-toes-002.csv").exists() and (tmp_path / "knobtui-toes-003.csv").exists()
    svg = (tmp_path / "knobtui-toes-001.svg").read_text()
    assert svg.startswith("<svg") and "Knobs" in svg
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary files left


def test_write_new_file_counts_up(tmp_path: Path) -> None:
    names = [write_new_file(tmp_path, "x", "txt", str(i)).name for i in range(3)]
    assert names == ["x-001.txt", "x-002.txt", "x-003.txt"]
    assert (tmp_path / "x-002.txt").read_text() == "1"


# ---- long histories and served quotas ------------------------------------------------------------------

def _long_app(iterations: int, limits: Limits | None = None) -> KnobApp:
    """hot and cold with a step too small to converge, already `iterations` in."""
    app = KnobApp(start_at("hot-cold", step_amount=1e-9), limits=limits)
    app.session.fast_forward(iterations)
    return app


def _exact_size(session, fmt: str) -> int:  # type: ignore[no-untyped-def]
    return sum(len(line.encode()) for line in export_lines(session, fmt))


def _files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_export_streams_a_line_at_a_time(tmp_path: Path) -> None:
    """A long export never holds its text: memory stays far below the file's size."""
    session = _long_app(40_000).session
    tracemalloc.start()
    try:
        path, size = export_session(session, "csv", tmp_path, "long")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert size == path.stat().st_size == _exact_size(session, "csv") > 5_000_000
    assert peak < 1_000_000
    assert path.read_text() == "".join(export_lines(session, "csv"))


def test_the_estimate_is_close_to_the_size() -> None:
    session = _long_app(30_000).session
    session.set_method("gradient")
    session.run(500)
    for fmt in ("csv", "jsonl"):
        exact = _exact_size(session, fmt)
        assert abs(estimate_export_bytes(session, fmt) - exact) < exact / 50


async def test_a_long_export_is_written_in_a_thread_and_says_how_big(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    app = _long_app(20_000)
    notes: list[str] = []
    async with app.run_test(size=(100, 30)) as pilot:
        # every message the status line shows, once each (the stage changes for other reasons too)
        app.watch(app, "stage", lambda stage: notes.append(stage.note[0]) if stage.note[0] not in notes[-1:] else None)
        await pilot.press("E")
        await app.workers.wait_for_complete()
        await pilot.pause()
        size = _exact_size(app.session, "jsonl")
        estimate = human_bytes(estimate_export_bytes(app.session, "jsonl"))
        assert [n for n in notes if n] == [
            f"Export: writing about {estimate} (20,000 iterations) to a new file in {tmp_path}",
            f"Export: 20000 iterations written to {tmp_path / 'knobtui-hot-cold-001.jsonl'} ({human_bytes(size)})"]
        expected = "".join(export_lines(app.session, "jsonl"))
    assert (tmp_path / "knobtui-hot-cold-001.jsonl").read_text() == expected
    assert _files(tmp_path) == ["knobtui-hot-cold-001.jsonl"]


@pytest.mark.parametrize("iterations", [40, 3_000], ids=["at once", "in a thread"])
async def test_an_export_bigger_than_what_is_left_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                             iterations: int) -> None:
    """A byte over the quota is refused, no file left; exactly the quota is written, then nothing is left."""
    monkeypatch.chdir(tmp_path)
    exact = _exact_size(_long_app(iterations).session, "csv")
    app = _long_app(iterations, Limits(export_files=20, export_bytes=exact - 1))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("e")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.stage.note[0] in (f"Export: it is more than the {human_bytes(exact - 1)} left",
                               f"Export: about {human_bytes(estimate_export_bytes(app.session, 'csv'))} is more "
                               f"than the {human_bytes(exact - 1)} left")
        assert _files(tmp_path) == []  # nor a temporary file
    app = _long_app(iterations, Limits(export_files=20, export_bytes=exact))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("e")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.stage.note[0].endswith(f"({human_bytes(exact)}; 19 files and 0 bytes left)")
        await pilot.press("E")
        assert app.stage.note == (f"Export: no room left (this session may write {human_bytes(exact)})", "warning")
        await pilot.press("s")
        assert app.stage.note == (f"Screenshot: no room left (this session may write {human_bytes(exact)})", "warning")
    assert _files(tmp_path) == ["knobtui-hot-cold-001.csv"]
    assert (tmp_path / "knobtui-hot-cold-001.csv").stat().st_size == exact


async def test_a_clearly_too_big_export_is_refused_before_any_is_written(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    app = _long_app(200_000, SERVED)
    estimate = estimate_export_bytes(app.session, "jsonl")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("E")
        assert not app.workers  # nothing started
        assert app.stage.note == (f"Export: about {human_bytes(estimate)} is more than the 20 MB left", "warning")
        assert app.stage.note[0] in app.query_one("#status").render_line(0).text  # whole, beside the iteration
    assert _files(tmp_path) == []


async def test_files_are_counted_screenshots_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    app = KnobApp(start_at("toes"), limits=Limits(export_files=3, export_bytes=10_000_000))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("space", "e", "s")
        assert app.stage.note[0].startswith("Screenshot: saved ")
        await pilot.press("E")
        assert app.stage.note[0].startswith("Export: 1 iteration written to ") and "; 0 files and 9" in app.stage.note[0]
        for key in ("e", "s"):
            await pilot.press(key)
            assert app.stage.note == (f"{'Export' if key == 'e' else 'Screenshot'}: no files left (this session may "
                                "write 3)", "warning")
    assert _files(tmp_path) == ["knobtui-toes-001.csv", "knobtui-toes-001.jsonl", "knobtui-toes-001.svg"]


def test_sizes_for_people() -> None:
    assert [human_bytes(n) for n in (1, 999, 1000, 9_999, 999_999, 20_000_000, 741_000_000)] == [
        "1 byte", "999 bytes", "1.0 kB", "10 kB", "1.0 MB", "20 MB", "741 MB"]
