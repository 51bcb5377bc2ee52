"""`knobtui serve` for real: the server as its own process on 127.0.0.1, real SSH clients (asyncssh, OpenSSH)."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import asyncssh
import pytest

from harness import BOOK_LINE_1, Server, Tmux, Visitor

@pytest.fixture
def server(tmp_path: Path):  # type: ignore[no-untyped-def]
    s = Server(tmp_path)
    yield s
    s.stop()


async def test_screen_steps_resize_and_q(server: Server) -> None:
    """The screen appears, space steps with the book's numbers, a resize reaches the app, q ends with status 0."""
    v = await Visitor.open(server.port, 100, 30)
    try:
        await v.wait_for("iteration 0 ")
        v.press(b" ")
        await v.wait_for(BOOK_LINE_1)
        v.press(b" ")
        await v.wait_for(re.compile(r"\b2\S?\s+0\.17015625000000004\s+0\.3875\b"))
        assert "2 * input * delta" not in v.text()  # 30 rows: the arithmetic without its WHY rows
        v.resize(120, 40)
        await v.wait_for("2 * input * delta")  # 40 rows: the WHY rows too, so the app saw the resize
        v.press(b"q")
        assert await v.exit_status() == 0
    finally:
        v.close()
    await server.wait_no_children()
    assert server.log_has("connect 127.0.0.1 user='anyone' term=xterm-256color size=100x30")
    assert server.log_has("size=120x40") and server.log_has("status=0")


async def test_commands_and_subsystems_are_refused_and_run_nothing(server: Server, tmp_path: Path) -> None:
    marker = tmp_path / "touched"
    async with asyncssh.connect("127.0.0.1", server.port, username="x", known_hosts=None, client_keys=None,
                                agent_path=None, config=[]) as conn:
        with pytest.raises(asyncssh.ChannelOpenError):
            await conn.run(f"touch {marker}", check=False)
        with pytest.raises(asyncssh.ChannelOpenError):
            await conn.create_process(subsystem="sftp")
        with pytest.raises(asyncssh.ChannelOpenError):
            await conn.open_connection("127.0.0.1", 22)
    assert not marker.exists()
    assert server.children() == []
    assert server.log_has("refused a command") and server.log_has("refused subsystem 'sftp'")
    assert server.log_has("refused port forwarding")


async def test_a_session_without_a_pty_gets_one_line_and_status_1(server: Server) -> None:
    async with asyncssh.connect("127.0.0.1", server.port, username="x", known_hosts=None, client_keys=None,
                                agent_path=None, config=[]) as conn:
        proc = await conn.create_process(encoding=None)
        out = await proc.stdout.read()
        await proc.wait_closed()
    assert out.decode().count("\n") == 1 and "ssh -t" in out.decode()
    assert proc.exit_status == 1
    assert server.children() == []


async def test_twenty_concurrent_sessions(server: Server) -> None:
    """20 visitors at once, each with their own simulator stepping on its own."""
    visitors = await asyncio.gather(*(Visitor.open(server.port, 80, 24) for _ in range(20)))
    try:
        await asyncio.gather(*(v.wait_for("iteration 0 ", timeout=120) for v in visitors))
        assert len(server.children()) == 20
        for i, v in enumerate(visitors):
            v.press(b" " * (1 + i % 3))
        await asyncio.gather(*(v.wait_for(f"iteration {1 + i % 3} ", timeout=60)
                               for i, v in enumerate(visitors)))
        for v in visitors:
            v.press(b"q")
        statuses = await asyncio.gather(*(v.exit_status(60) for v in visitors))
        assert statuses == [0] * 20
    finally:
        for v in visitors:
            v.close()
    await server.wait_no_children(20)


async def test_abrupt_disconnects_leave_no_process_behind(server: Server) -> None:
    visitors = [await Visitor.open(server.port, 80, 24) for _ in range(3)]
    await asyncio.gather(*(v.wait_for("iteration 0 ") for v in visitors))
    pids = [pid for pid, _ in server.children()]
    assert len(pids) == 3
    for v in visitors:
        v.conn.abort()  # no q, no goodbye: the connection just drops
    await server.wait_no_children()
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)  # gone and reaped (a zombie would still accept signal 0)


async def test_max_sessions_is_enforced(tmp_path: Path) -> None:
    srv = Server(tmp_path, "--max-sessions", "2")
    try:
        first = [await Visitor.open(srv.port, 80, 24) for _ in range(2)]
        await asyncio.gather(*(v.wait_for("iteration 0 ") for v in first))
        third = await Visitor.open(srv.port, 80, 24)
        await third.wait_for("knobtui is full (2 simulators running)")
        assert await third.exit_status() == 1
        third.close()
        first[0].press(b"q")
        assert await first[0].exit_status() == 0
        again = await Visitor.open(srv.port, 80, 24)  # a place is free again
        await again.wait_for("iteration 0 ")
        for v in (first[1], again):
            v.press(b"q")
            assert await v.exit_status() == 0
            v.close()
    finally:
        srv.stop()


async def test_authorized_keys_admit_a_known_key_only(tmp_path: Path) -> None:
    known = asyncssh.generate_private_key("ssh-ed25519")
    unknown = asyncssh.generate_private_key("ssh-ed25519")
    keys = tmp_path / "authorized_keys"
    keys.write_bytes(known.export_public_key())
    srv = Server(tmp_path, "--authorized-keys", str(keys))
    try:
        with pytest.raises(asyncssh.PermissionDenied):
            await Visitor.open(srv.port, client_keys=[unknown])
        with pytest.raises(asyncssh.PermissionDenied):
            await Visitor.open(srv.port)  # no key at all
        v = await Visitor.open(srv.port, client_keys=[known])
        await v.wait_for("iteration 0 ")
        v.press(b"q")
        assert await v.exit_status() == 0
        v.close()
    finally:
        srv.stop()


async def test_options_reach_every_session_and_sigterm_ends_everything(tmp_path: Path) -> None:
    srv = Server(tmp_path, "--preset", "from-zero", "--alpha", "0.5", "--ascii")
    try:
        v = await Visitor.open(srv.port, 100, 30)
        await v.wait_for("preset from-zero")
        await v.wait_for("alpha       0.5")  # the knob reached it
        await v.wait_for("+- Knobs")  # and so did --ascii
        pids = [pid for pid, _ in srv.children()]
        assert srv.stop() == 0
        assert await v.exit_status() is not None
        v.close()
        for pid in pids:
            with pytest.raises(ProcessLookupError):
                os.kill(pid, 0)
        assert srv.log_has("stopped")
    finally:
        srv.stop()


def test_host_key_is_ed25519_mode_0600_and_its_fingerprint_is_printed(server: Server) -> None:
    assert server.key.stat().st_mode & 0o777 == 0o600
    key = asyncssh.read_private_key(str(server.key))
    assert key.get_algorithm() == "ssh-ed25519"
    assert server.log_has(f"host key {key.get_fingerprint('sha256')}")
    again = Server(server.key.parent)  # a restart keeps the key, so visitors' known_hosts stay valid
    try:
        assert again.log_has(f"host key {key.get_fingerprint('sha256')}")
    finally:
        again.stop()


def test_bad_serve_options_exit_2() -> None:
    for argv in (["--port", "http"], ["--max-sessions", "0"], ["--authorized-keys", "/nonexistent/keys"],
                 ["--alpha", "nan"], ["--theme", "neon"], ["--no-ssh"], ["--web-port", "www"],
                 ["--web-port", "70000"], ["--web-port", "0", "--authorized-keys", "/nonexistent/keys"],
                 ["--port", "2300", "--web-port", "2300"]):
        r = subprocess.run([sys.executable, "-m", "knobtui", "serve", *argv], capture_output=True, text=True,
                           timeout=60)
        assert r.returncode == 2, argv
        assert r.stderr.startswith("knobtui serve: ") and r.stderr.count("\n") == 1, r.stderr


@pytest.mark.skipif(shutil.which("ssh") is None or shutil.which("tmux") is None,
                    reason="needs OpenSSH's client and tmux (.ci/run installs both)")
def test_openssh_client_end_to_end(server: Server, tmp_path: Path) -> None:
    """A person's path: OpenSSH's ssh in a real terminal, keys pressed, the book's numbers seen, q."""
    term = Tmux(tmp_path)
    try:
        term.start(["ssh", "-tt", "-p", str(server.port), "-o", "StrictHostKeyChecking=no",
                    "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", "-o", "BatchMode=yes",
                    "student@127.0.0.1"])
        term.wait_for("iteration 0 ", timeout=30)
        term.keys("Space")
        term.wait_for(BOOK_LINE_1)
        term.keys("q")
        assert term.exit_status() == 0
    finally:
        term.close()
    assert server.log_has("user='student'")


async def test_idle_sessions_are_closed(tmp_path: Path) -> None:
    srv = Server(tmp_path, "--idle-timeout", "1")
    try:
        v = await Visitor.open(srv.port, 80, 24)
        await v.wait_for("iteration 0 ")
        await asyncio.wait_for(v.proc.wait_closed(), 15)
        await srv.wait_no_children()
        assert srv.log_has("(idle for 1 s)")
        v.close()
    finally:
        srv.stop()


async def test_login_timeout_and_rate_limit(tmp_path: Path) -> None:
    srv = Server(tmp_path, "--login-timeout", "1", "--rate-limit", "3")
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", srv.port)
        said = await asyncio.wait_for(reader.read(), 25)  # its version, then it hangs up: no login within 1 s
        assert said.startswith(b"SSH-") and reader.at_eof()  # closed by the server (the default is 30 s)
        writer.close()
        # that was connection 1 from 127.0.0.1; two more are allowed this minute, the next is refused
        for _ in range(2):
            async with asyncssh.connect("127.0.0.1", srv.port, username="x", known_hosts=None, client_keys=None,
                                        agent_path=None, config=[]):
                pass
        with pytest.raises((asyncssh.DisconnectError, ConnectionError, OSError)):
            async with asyncssh.connect("127.0.0.1", srv.port, username="x", known_hosts=None, client_keys=None,
                                        agent_path=None, config=[]) as conn:
                await conn.run("true")
        assert srv.log_has("more than 3 connections in a minute from your address; the presenter can raise --rate-limit")
    finally:
        srv.stop()
