"""Fixtures the end-to-end tests share."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import asyncssh
import pytest

from harness import Server


@pytest.fixture
def presenter_key() -> asyncssh.SSHKey:
    """A fresh ed25519 key that a test's server lists as the presenter's."""
    return asyncssh.generate_private_key("ssh-ed25519")



def presenter_server(tmp_path: Path, key: asyncssh.SSHKey, *args: str) -> Server:
    """`knobtui serve` with `key` as the presenter's (and room for a class from one address)."""
    keys = tmp_path / "presenter_keys"
    keys.write_bytes(key.export_public_key())
    return Server(tmp_path, "--presenter-key", str(keys), "--rate-limit", "100", *args)


@pytest.fixture
def presenting(tmp_path: Path, presenter_key: asyncssh.SSHKey) -> Iterator[Server]:
    """A server with a presenter key, stopped after the test."""
    srv = presenter_server(tmp_path, presenter_key)
    yield srv
    srv.stop()
