"""Where the server's event loop spends a presenter's key: a probe for bench/bench_hall_autoplay.py.

    KPROBE=/tmp/kp/out PYTHONPATH=bench/loopprobe python bench/bench_hall_autoplay.py --followers 300 ...
    python bench/loopprobe/segments.py /tmp/kp/out

Loaded by every Python started with this folder on PYTHONPATH; it acts only in `knobtui serve`, and only
with KPROBE set. It writes, to KPROBE.<pid>, one line per event-loop callback that ran over 0.5 ms (when it
began, how long, what), per garbage collection, and per presenter key in (Visit.keys, an escape sequence),
presenter output out (Visit._send) and Room.hold. The bench writes each press and when its frame showed to
KPROBE.bench; segments.py lines them up: key to the server, the server's own part, the way back out. Timestamps
are perf_counter, the system's monotonic clock, so they compare across processes. A probe, not a
measurement: it costs the server a little, alone and with a hall alike."""

import os
import sys

if len(sys.argv) > 2 and "serve" in sys.argv[1:3] and os.environ.get("KPROBE"):
    import asyncio.events
    import gc
    import time

    _out = open(os.environ["KPROBE"] + f".{os.getpid()}", "w", buffering=1)
    _run = asyncio.events.Handle._run
    _patched = []

    def _name(cb: object) -> str:
        owner = getattr(cb, "__self__", None)
        if isinstance(owner, asyncio.Task):
            return "task:" + owner.get_coro().__qualname__
        return getattr(cb, "__qualname__", None) or repr(cb)

    def _wrap(cls: type, name: str, tag: str, when=lambda self, *a: True) -> None:
        f = getattr(cls, name)

        def timed(self, *a, **k):
            t = time.perf_counter()
            r = f(self, *a, **k)
            if when(self, *a):
                _out.write(f"{t:.6f} {(time.perf_counter() - t) * 1000:.3f} {tag}\n")
            return r
        setattr(cls, name, timed)

    def _patch() -> None:  # once the server runs (its modules are imported by then)
        _patched.append(True)
        from knobtui.serve import room, visit
        _wrap(visit.Visit, "keys", "KEY", lambda self, data: self.presenter and data[:2] == b"\x1b[")
        _wrap(visit.Visit, "_send", "SEND", lambda self, data: self.presenter)
        _wrap(room.Room, "hold", "HOLD")

    def _timed_run(self) -> None:
        if not _patched:
            _patch()
        cb = self._callback
        t = time.perf_counter()
        _run(self)
        d = time.perf_counter() - t
        if d > 0.0005:
            _out.write(f"{t:.6f} {d * 1000:.2f} {_name(cb)[:100]}\n")

    asyncio.events.Handle._run = _timed_run
    _gc_start: list[float] = [0.0]

    def _gc(phase: str, info: dict) -> None:
        if phase == "start":
            _gc_start[0] = time.perf_counter()
        else:
            _out.write(f"{_gc_start[0]:.6f} {(time.perf_counter() - _gc_start[0]) * 1000:.2f} GC{info['generation']}\n")

    gc.callbacks.append(_gc)
