"""Textual's Linux driver, but a byte that is not UTF-8 becomes U+FFFD instead of ending the app.

Textual 8.2.8's `LinuxDriver.run_input_thread` decodes stdin with `getincrementaldecoder("utf-8")()`,
which is strict: one stray byte (a Latin-1 terminal typing é, line noise over SSH) raises
UnicodeDecodeError in the input thread, and the app panics and exits.
"""

from __future__ import annotations

import codecs
from types import FunctionType

from textual.driver import Driver
from textual.drivers import linux_driver
from textual.drivers.linux_driver import LinuxDriver


def _replacing_decoder(encoding: str) -> type[codecs.IncrementalDecoder]:
    """`codecs.getincrementaldecoder`, but its decoders replace bad bytes (they are built with no arguments)."""
    base = codecs.getincrementaldecoder(encoding)

    class Replacing(base):  # type: ignore[valid-type, misc]  # a base chosen at run time, as codecs does
        def __init__(self, errors: str = "replace") -> None:
            super().__init__(errors)

    return Replacing


def _tolerant_input_thread() -> FunctionType | None:
    """Textual's own `run_input_thread`, run with our decoder factory in place of the module's.

    Why this way: the decoder is a local of that 50-line method, so a subclass could only change it by
    copying the method (which would drift from the pinned Textual unseen), and patching the module's
    `getincrementaldecoder` would change every LinuxDriver in the process. Here the code object is
    Textual's, unchanged; only the name it looks the decoder factory up by resolves to ours, for this
    class alone. If a Textual upgrade stops looking the factory up by that name, this returns None and
    the driver is plain LinuxDriver again: tests/test_hostile_app.py then fails, rather than this
    guessing.
    """
    original = LinuxDriver.run_input_thread
    code = original.__code__
    if "getincrementaldecoder" not in code.co_names or original.__closure__:
        return None
    names = dict(vars(linux_driver), getincrementaldecoder=_replacing_decoder)
    return FunctionType(code, names, original.__name__, original.__defaults__)


_RUN_INPUT_THREAD = _tolerant_input_thread()


class TolerantLinuxDriver(LinuxDriver):
    """LinuxDriver whose input thread decodes stdin with errors="replace"."""

    if _RUN_INPUT_THREAD is not None:
        run_input_thread = _RUN_INPUT_THREAD


__all__ = ["TolerantLinuxDriver"]


def tolerant(driver: type[Driver]) -> type[Driver]:
    """Textual's Linux driver made tolerant; any other driver (one chosen through TEXTUAL_DRIVER, or another
    platform's) left alone."""
    if driver.__name__ == "LinuxDriver" and driver.__module__ == "textual.drivers.linux_driver":
        return TolerantLinuxDriver
    return driver
