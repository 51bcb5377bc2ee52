"""Fixtures the end-to-end tests share."""

from __future__ import annotations

import asyncssh
import pytest


@pytest.fixture
def presenter_key() -> asyncssh.SSHKey:
    """A fresh ed25519 key that a test's server lists as the presenter's."""
    return asyncssh.generate_private_key("ssh-ed25519")

