"""The presenter protocol: what the relay and the simulators say to each other, and the names they share.

One JSON object per line, over the relay's Unix socket:

    simulator → relay     {"role": "presenter", "token": T}  or  {"role": "follower", "voter": V?}   (hello)
    relay → presenter     {"resume": SCENE | null}   (first line: the room's scene, to carry on from)
    presenter → relay     {"state": SCENE}           (after every change)
    relay → follower      {"state": SCENE}           (only the newest: a slow follower skips to it)
    relay → presenter     {"followers": N}           (when people come and go)

SCENE is learning.scene.Scene.as_dict(). A question for the room and its answers are quiz.py's. Every line
is parsed as JSON, never matched as text.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from ..learning.scene import Scene

MAX_LINE = 16 * 1024 * 1024
"""The longest line either side reads: a recipe grows ~130 bytes per knob change made after a step."""

REJOIN_STATUS = 3
"""A follower's private simulator exits with this when `F` asks to go back to the room's shared view."""

RELAY_ENV = "KNOBTUI_RELAY"  # the relay socket's path, set by `knobtui serve` for its simulators
ROLE_ENV = "KNOBTUI_ROLE"  # "presenter" or "follower"
TOKEN_ENV = "KNOBTUI_RELAY_TOKEN"  # a presenter's one-time token
ROOM_ENV = "KNOBTUI_ROOM"  # "1": this follower's simulator is private; `F` returns to the shared view
START_DETACHED_ENV = "KNOBTUI_START_DETACHED"  # "1": start from the room's scene, playing alone (`d`)
VOTER_ENV = "KNOBTUI_VOTER"  # a follower's opaque voter id: its answers to room questions count once
JOIN_ENV = "KNOBTUI_JOIN"  # the presenter's: how learners come in (JoinInfo as JSON), for the join screen


@dataclass(frozen=True)
class JoinInfo:
    """How learners come in, as `serve` prints it and the presenter's join screen shows it."""

    ssh: tuple[str, ...] = ()  # an SSH command per reachable address
    urls: tuple[str, ...] = ()  # a browser URL per reachable address
    fingerprint: str = ""  # the SSH host key's, for learners to check
    local: bool = False  # only this machine can come in (bound to loopback)

    def to_env(self) -> str:
        return json.dumps({"ssh": list(self.ssh), "urls": list(self.urls), "fingerprint": self.fingerprint,
                           "local": self.local})

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> JoinInfo | None:
        """The join info `serve` gave this simulator, or None (none given, or not what serve writes)."""
        data = parse(env.get(JOIN_ENV, "").encode())
        if data is None:
            return None
        ssh, urls, fingerprint = data.get("ssh"), data.get("urls"), data.get("fingerprint", "")
        if not (isinstance(ssh, list) and isinstance(urls, list) and isinstance(fingerprint, str)
                and all(isinstance(x, str) for x in ssh + urls)):
            return None
        return cls(tuple(ssh), tuple(urls), fingerprint, data.get("local") is True)


def encode(message: Mapping[str, object]) -> bytes:
    """One message as one line."""
    return (json.dumps(message, separators=(",", ":")) + "\n").encode()


def parse(line: bytes) -> dict[str, object] | None:
    """One line as a message, or None for anything that is not a JSON object (nesting too deep included)."""
    try:
        message = json.loads(line)
    except (ValueError, RecursionError):
        return None
    return message if isinstance(message, dict) else None


def scene_in(message: Mapping[str, object], key: str = "state") -> Scene | None:
    """The scene a message carries under `key`, or None (absent or malformed)."""
    try:
        return Scene.from_dict(message.get(key)) if message.get(key) is not None else None
    except ValueError:
        return None


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
