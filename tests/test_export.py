"""Export: what e and E write reads back to the engine's history exactly; nothing is ever overwritten."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from appkit import make_app
from knobtui.records import KNOB_COLUMNS, write_new_file


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
