"""What the engine's unit tests share: a Session started from a preset."""

from __future__ import annotations

from knobtui.learning import Session, get_preset


def preset_session(name: str, **kw) -> Session:
    p = get_preset(name)
    return Session(p.knobs, p.method, **kw)
