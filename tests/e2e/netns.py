"""A server on a network of its own: a fresh network namespace with a pair of virtual interfaces, one at ADDRESS.

The join lines and the presenter's rule need a real address that is not loopback. The machine's own
are not for tests to aim at, so the server runs in a namespace the test makes (`unshare --net`), where
ADDRESS is a local address of a virtual interface; clients join that namespace (`setns`) from a thread
of their own, or with `nsenter`. Nothing leaves the namespace.
"""

from __future__ import annotations

import asyncio
import ctypes
import os
import shutil
import subprocess
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import pytest

from harness import Server

ADDRESS = "198.51.100.7"  # TEST-NET-2: documentation's, and only ever inside the namespace
CLONE_NEWNET = 0x40000000
SETUP = (f"ip link set lo up && ip link add k0 type veth peer name k1 && ip addr add {ADDRESS}/24 dev k0 && "
         "ip link set k0 up && ip link set k1 up && exec \"$@\"")
T = TypeVar("T")


def namespaces_work() -> bool:
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return False
    return subprocess.run(["unshare", "--net", "true"], capture_output=True).returncode == 0


needs_netns = pytest.mark.skipif(not namespaces_work(), reason="needs network namespaces (unshare --net, as root)")


def netns_server(tmp: Path, *args: str, env: dict[str, str] | None = None) -> Server:
    """`knobtui serve` in a network namespace of its own, where ADDRESS is a local interface's address."""
    return Server(tmp, *args, env=env, prefix=("unshare", "--net", "--", "sh", "-c", SETUP, "sh"))


def in_netns(pid: int, work: Callable[[], Awaitable[T]]) -> T:
    """Run `work()` on an event loop of its own, in a thread inside `pid`'s network namespace (the thread
    alone moves: setns changes the calling thread's namespace, and what it starts inherits it)."""
    result: list[T] = []
    error: list[BaseException] = []

    def run() -> None:
        libc = ctypes.CDLL(None, use_errno=True)
        fd = os.open(f"/proc/{pid}/ns/net", os.O_RDONLY)
        try:
            if libc.setns(fd, CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "setns")
        finally:
            os.close(fd)
        try:
            result.append(asyncio.run(work()))  # type: ignore[arg-type]
        except BaseException as exc:  # noqa: BLE001  (handed to the caller)
            error.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if error:
        raise error[0]
    return result[0]


def nsenter(pid: int, *argv: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    """A command run in `pid`'s network namespace."""
    return subprocess.run(["nsenter", "-t", str(pid), "-n", *argv], capture_output=True, text=True, timeout=timeout)
