"""`knobtui serve` with one more gate at the end of the door's seat stage, for tests/e2e/test_door.py.

Run as `python gated_serve.py PYTHON -m knobtui serve ...` (the harness's `prefix`): the rest of the
command line is the server's. The gate is added where every door gets its gates (door.standard_gates),
before the hub is imported, so nothing in the server knows it is there.
"""

from __future__ import annotations

import sys

from knobtui.serve import door

WORDS = "knobtui: closed by the test's gate"


class ClosedForTheTest:
    """Turns everyone away at the seat stage."""

    stage = door.Stage.SEAT

    def check(self, knock: door.Knock) -> door.Refusal | None:
        return door.Refusal(WORDS, "the test's gate")


def gated(*args: object, **kwargs: object) -> list[door.Gate]:
    return [*standard(*args, **kwargs), ClosedForTheTest()]  # type: ignore[arg-type]


if __name__ == "__main__":
    standard = door.standard_gates
    door.standard_gates = gated  # type: ignore[assignment]
    from knobtui.cli import main

    argv = sys.argv[1:]
    sys.exit(main(argv[argv.index("knobtui") + 1:]))
