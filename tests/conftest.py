"""Fixtures the unit tests share."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from knobtui.presenter.relay import Relay


@pytest.fixture
async def relay(tmp_path: Path) -> AsyncIterator[Relay]:
    """A real relay on a Unix socket in the test's own folder."""
    (tmp_path / "relay").mkdir()
    r = Relay(str(tmp_path / "relay"))
    await r.start()
    yield r
    await r.close()
