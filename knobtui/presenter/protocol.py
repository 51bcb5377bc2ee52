"""How a simulator finds the relay (LinkConfig), from the environment `knobtui serve` gives it.

The messages themselves, the names the server and its simulators share and the limits are knobtui/wire.py's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ..wire import RELAY_ENV, ROLE_ENV, TOKEN_ENV, VOTER_ENV


@dataclass(frozen=True)
class LinkConfig:
    """How a simulator reaches the relay: the socket, its role, a presenter's token."""

    path: str
    role: str = "follower"
    token: str = ""
    voter: str = ""  # a follower who may answer the room's questions (a shared view's renderer may not)

    @property
    def presenter(self) -> bool:
        return self.role == "presenter"

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> LinkConfig | None:
        path = env.get(RELAY_ENV)
        if not path:
            return None
        return cls(path, env.get(ROLE_ENV, "follower"), env.get(TOKEN_ENV, ""), env.get(VOTER_ENV, ""))

    def env(self) -> dict[str, str]:
        out = {RELAY_ENV: self.path, ROLE_ENV: self.role}
        if self.token:
            out[TOKEN_ENV] = self.token
        if self.voter:
            out[VOTER_ENV] = self.voter
        return out

