"""How a simulator's process starts, whichever way it is started (serve/child.py's fork and exec, or the
warm spawner's fork, spawner.py): with the signals a fresh Python has, and, for a shared view's renderer,
out of the way of the simulators people watch. No knobtui import: both sides use it before anything else."""

from __future__ import annotations

import os
import signal


def default_signals(forked: bool) -> None:
    """Every signal the server may have inherited ignored (`nohup` ignores SIGHUP) back to its default: a
    simulator's end comes as SIGHUP, then SIGTERM (serve/child.py's Child.end). `forked`: this process goes on
    as the (warm) Python it was forked from rather than exec a new one, so SIGCHLD (the spawner reaps its
    children) goes back too, and SIGINT gets Python's own handler, as a fresh Python would install it."""
    for sig in (signal.SIGHUP, signal.SIGTERM, *((signal.SIGCHLD,) if forked else ())):
        signal.signal(sig, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler if forked else signal.SIG_DFL)


def background(nice: int) -> None:
    """Yield the CPU to every other simulator (a shared view's renderer yields to the presenter's, whose
    screen is projected), when `nice` > 0:
    - the nice value;
    - the same for this process's scheduling group: with autogroup (on in Debian's and most distributions'
      kernels) every session is a group of its own and competes as a whole, so a niced process that began a
      session took as much CPU as the presenter's simulator (measured with 100 followers at autoplay: each
      renderer at nice 19 used 20-30 % of a core beside it);
    - the SCHED_IDLE policy: a simulator that wakes (the presenter's, on a key) takes the CPU from a renderer
      at once, not at the end of the renderer's time slice. An unprivileged process may lower itself to it;
      the renderers' share of the CPU between themselves is still their nice value's. (Measured with 300
      followers, it did not shorten the presenter's frame beyond what nice and autogroup did: the renderers
      still cost it 2-5 ms a key on two cores, docs/benchmarks.md.)
    Each step that the system refuses (no autogroup, not Linux) is skipped: what remains is the priority."""
    if nice <= 0:
        return
    os.nice(nice)
    try:
        with open("/proc/self/autogroup", "w") as f:
            f.write(str(nice))
    except OSError:
        pass
    try:
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    except (AttributeError, OSError):
        pass
