"""What one simulator may hold and write: nothing is limited locally; a visitor of `knobtui serve` is.

Measured before these limits: fast-forwarding a served session to 2.5 million iterations and pressing E
wrote a 741 MB file with 1.5 GB resident; three presses of e wrote 431 MB.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ..wire import SERVED_ENV


def is_served(environ: Mapping[str, str]) -> bool:
    """True in a simulator `knobtui serve` started for a visitor."""
    return environ.get(SERVED_ENV) == "1"


@dataclass(frozen=True, slots=True)
class Limits:
    """Ceilings for one session; None is no ceiling."""

    max_history: int | None = None
    """Iterations one run may hold (8 bytes each, and every export writes them all)."""
    export_files: int | None = None
    """Files the session may write (exports and screenshots)."""
    export_bytes: int | None = None
    """Bytes those files may add up to."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Limits:
        """The served limits in a visitor's simulator, none otherwise."""
        return SERVED if is_served(environ) else NONE

    def history_room(self, iteration: int) -> int | None:
        """How many more iterations the run may take from `iteration` (None: no ceiling)."""
        return None if self.max_history is None else max(0, self.max_history - iteration)

    def history_full(self) -> str:
        """What the status line says when the run is at the ceiling (whole at 80 columns, beside the
        iteration and the status)."""
        return f"the limit here is {self.max_history:,} iterations; r resets"


NONE = Limits()
SERVED = Limits(max_history=200_000, export_files=20, export_bytes=20_000_000)
"""A visitor's: 1.6 MB of history, and 20 files of at most 20 MB together."""


class FileQuota:
    """What a session has written so far against its limits: files and bytes (main thread only)."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.files = 0
        self.bytes = 0

    @property
    def bytes_left(self) -> int | None:
        """Bytes still allowed (None: no ceiling)."""
        cap = self.limits.export_bytes
        return None if cap is None else max(0, cap - self.bytes)

    def refusal(self, size: int | None = None, about: bool = False) -> str | None:
        """Why one more file (of `size` bytes, if known; `about` if estimated) is refused, naming what is
        left; None if it fits. Short: it has to fit an 80-column status line beside the iteration."""
        lim = self.limits
        if lim.export_files is not None and self.files >= lim.export_files:
            return f"no files left (this session may write {lim.export_files})"
        left = self.bytes_left
        if left == 0:
            return f"no room left (this session may write {human_bytes(lim.export_bytes or 0)})"
        if left is not None and size is not None and size > left:
            return f"{'about ' if about else ''}{human_bytes(size)} is more than the {human_bytes(left)} left"
        return None

    def too_big(self) -> str:
        """Why a file that outgrew what was left while being written was refused."""
        return f"it is more than the {human_bytes(self.bytes_left or 0)} left"

    def left(self) -> str:
        """What is left, in words ('12 files and 3.2 MB left'), or empty without limits."""
        lim = self.limits
        parts = []
        if lim.export_files is not None:
            n = max(0, lim.export_files - self.files)
            parts.append(f"{n} file{'s' if n != 1 else ''}")
        if lim.export_bytes is not None:
            parts.append(human_bytes(self.bytes_left or 0))
        return f"{' and '.join(parts)} left" if parts else ""

    def spend(self, size: int) -> None:
        self.files += 1
        self.bytes += size


def human_bytes(n: int) -> str:
    """A size for people, in decimal units: 512 bytes, 48 kB, 3.2 MB, 741 MB."""
    if n < 1000:
        return f"{n} byte{'s' if n != 1 else ''}"
    for unit, size in (("kB", 1e3), ("MB", 1e6), ("GB", 1e9)):
        value = n / size
        if round(value) < 1000 or unit == "GB":  # 999,999 bytes are 1.0 MB, not 1000 kB
            return f"{value:.1f} {unit}" if round(value, 1) < 10 else f"{value:.0f} {unit}"
    raise AssertionError("unreachable")


__all__ = ["FileQuota", "Limits", "NONE", "SERVED", "human_bytes", "is_served"]
