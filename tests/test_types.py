"""The pure package passes a strict type check (mypy --strict), with no `type: ignore` left in it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_learning_is_strictly_typed() -> None:
    r = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-error-summary", "knobtui/learning",
                        "knobtui/presenter"],
                       cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr


def test_learning_has_no_type_ignores() -> None:
    found = [f"{p.name}:{n}" for p in (ROOT / "knobtui" / "learning").glob("*.py")
             for n, line in enumerate(p.read_text().splitlines(), 1) if "type: ignore" in line]
    assert found == []
