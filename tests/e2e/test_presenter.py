"""Presenter mode over real SSH on 127.0.0.1: a presenter drives, followers follow at their own sizes."""

from __future__ import annotations

import asyncio
import re
import socket
from pathlib import Path

import asyncssh
import pytest

from harness import BOOK_LINE_1, AudienceClient, Server, Visitor
from knobtui.wire import RELAY, Hello


async def open_presenter(srv: Server, key: asyncssh.SSHKey, cols: int = 100, rows: int = 30) -> Visitor:
    return await Visitor.open(srv.port, cols, rows, username="teacher", client_keys=[key])


def iteration(v: Visitor) -> int:
    m = re.search(r"iteration (\d+) ", v.text())
    return int(m.group(1)) if m else -1


async def test_followers_show_the_presenters_numbers_at_their_own_sizes(
        presenting: Server, presenter_key: asyncssh.SSHKey) -> None:
    teacher = await open_presenter(presenting, presenter_key)
    students = [await Visitor.open(presenting.port, c, r) for c, r in ((80, 24), (120, 40), (100, 30))]
    try:
        await teacher.wait_for("presenting to 3 followers")
        for s in students:
            await s.wait_for("following the presenter")
        teacher.press(b" ")
        await teacher.wait_for(BOOK_LINE_1)
        for s in students:
            await s.wait_for(BOOK_LINE_1)
        teacher.press(b"  ")
        for s in students + [teacher]:
            await s.wait_for(re.compile(r"\b3\S?\s+0\.095712890625\s+0\.49062500000000003\b"))
            await s.wait_for("iteration 3 ")
        teacher.press(b"6")  # a preset: the divergence lesson
        for s in students:
            await s.wait_for("preset divergence")
        teacher.press(b"b")  # and steps back too
        for s in students:
            assert s.screen.columns in (80, 120, 100)
        assert presenting.log_has("role=presenter") and presenting.log_has("role=follower")
    finally:
        for v in [teacher, *students]:
            v.close()


async def test_a_detached_follower_is_unaffected_and_can_follow_again(
        presenting: Server, presenter_key: asyncssh.SSHKey) -> None:
    teacher = await open_presenter(presenting, presenter_key)
    alone = await Visitor.open(presenting.port, 100, 30)
    other = await Visitor.open(presenting.port, 80, 24)
    try:
        await teacher.wait_for("presenting to 2 followers")
        await alone.wait_for("following the presenter")
        alone.press(b" ")  # keys that change the state do nothing while following
        alone.press(b"d")  # (read after the space)
        await alone.wait_for("playing alone")
        alone.press(b"m")  # hot and cold
        await alone.wait_for("hot and cold")  # every key before m has been read
        assert iteration(alone) == 0  # the space pressed while following did nothing
        alone.press(b"   ")  # three iterations of its own
        await alone.wait_for("iteration 3 ")
        teacher.press(b"f")  # the presenter fast-forwards to convergence
        await other.wait_for("converged at iteration 39")  # the relay has sent it to every follower
        alone.press(b" ")
        await alone.wait_for("iteration 4 ")  # its own next iteration: the presenter's state was not taken
        assert "hot and cold" in alone.text() and "converged at iteration 39" not in alone.text()
        alone.press(b"F")
        await alone.wait_for("converged at iteration 39")
        await alone.wait_for("following the presenter")
    finally:
        for v in (teacher, alone, other):
            v.close()


async def test_a_stalled_follower_does_not_delay_the_presenter(
        presenting: Server, presenter_key: asyncssh.SSHKey) -> None:
    """One follower stops reading its SSH channel, one never reads the relay: the presenter's every step
    still shows on its own screen and on the follower that reads (the latency is a figure for bench/)."""
    teacher = await open_presenter(presenting, presenter_key, 80, 24)
    reading = await Visitor.open(presenting.port, 80, 24)
    stalled = await Visitor.open(presenting.port, 160, 50)
    await teacher.wait_for("presenting to 2 followers")
    await stalled.wait_for("following the presenter")

    async def steps(n: int) -> None:
        for _ in range(n):
            before = iteration(teacher)
            teacher.press(b" ")
            for _ in range(6000):  # each step reaches the presenter's screen (polled often, bounded)
                if iteration(teacher) == before + 1:
                    break
                await asyncio.sleep(0.005)
            else:
                raise AssertionError(f"iteration {before + 1} never reached the presenter:\n{teacher.text()}")

    try:
        await steps(15)
        stalled.stop_reading()  # its client stops reading: its channel, then its child, back up
        relay_path = next(line.split("relay ")[1].strip() for line in presenting.lines if "relay " in line)
        raw = socket.socket(socket.AF_UNIX)
        raw.connect(relay_path)
        raw.sendall(RELAY.encode(Hello()))  # joins, then never reads
        raw.settimeout(30)
        assert raw.recv(65536).startswith(b'{"t":"state"')  # joined: it was sent the room's state
        start = iteration(teacher)
        await steps(40)
        assert iteration(teacher) == start + 40
        await reading.wait_for(f"iteration {start + 40} ")  # the other follower kept up too
        raw.close()
    finally:
        for v in (teacher, reading, stalled):
            v.close()


async def test_a_lesson_drives_the_followers(tmp_path: Path, presenter_key: asyncssh.SSHKey) -> None:
    keys = tmp_path / "presenter_keys"
    keys.write_bytes(presenter_key.export_public_key())
    srv = Server(tmp_path, "--presenter-key", str(keys), "--lesson", "chapter4")
    try:
        teacher = await open_presenter(srv, presenter_key)
        student = await Visitor.open(srv.port, 80, 24)
        await teacher.wait_for("step 1 of 23")
        await student.wait_for("step 1 of 23")
        teacher.press(b"nnnn")
        await student.wait_for("step 5 of 23")
        await student.wait_for("converged at iteration 1101")
        student.press(b"n")  # a follower cannot drive the lesson
        teacher.press(b" ")  # a barrier both can see: the presenter's next iteration
        await student.wait_for("iteration 1102 ")
        assert "step 5 of 23" in student.text()
        for v in (teacher, student):
            v.close()
    finally:
        srv.stop()


async def test_presenter_password_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KNOBTUI_PRESENTER_PASSWORD", "chalk")
    srv = Server(tmp_path)
    try:
        async def login(password: str | None, user: str = "teacher") -> Visitor:
            conn = await asyncssh.connect("127.0.0.1", srv.port, username=user, password=password, known_hosts=None,
                                          client_keys=None, agent_path=None, config=[], client_factory=AudienceClient,
                                          preferred_auth="password" if password else "keyboard-interactive")
            proc = await conn.create_process(term_type="xterm-256color", term_size=(100, 30), encoding=None)
            return Visitor(conn, proc, 100, 30)

        with pytest.raises(asyncssh.PermissionDenied):
            await login("cheese")
        teacher = await login("chalk")
        student = await login(None, user="student")  # any other name: no password asked
        await teacher.wait_for("presenting")
        await teacher.wait_for("presenting to 1 follower")
        await student.wait_for("following the presenter")
        teacher.press(b" ")
        await student.wait_for(BOOK_LINE_1)
        for v in (teacher, student):
            v.close()
    finally:
        srv.stop()


@pytest.mark.skipif(__import__("shutil").which("ssh") is None, reason="needs OpenSSH's client")
def test_offering_the_presenters_public_key_without_its_private_half_only_follows(
        presenting: Server, presenter_key: asyncssh.SSHKey, tmp_path: Path) -> None:
    """Public keys are public: offering one (and failing to sign) as the presenter's user name is asked
    to press Enter, and then follows; it never presents."""
    from harness import Tmux
    pub = tmp_path / "presenter.pub"
    pub.write_bytes(presenter_key.export_public_key())
    term = Tmux(tmp_path)
    try:
        term.start(["ssh", "-tt", "-p", str(presenting.port), "-o", "StrictHostKeyChecking=no",
                    "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", "-o", "IdentitiesOnly=yes",
                    "-o", "IdentityAgent=none", "-i", str(pub), "teacher@127.0.0.1"])
        term.wait_for("No presenter key was accepted. Press Enter to follow:", timeout=30)
        term.keys("Enter")
        term.wait_for("following the presenter", timeout=30)
    finally:
        term.close()
    assert presenting.log_has("user='teacher'")
    assert not any("role=presenter" in line for line in presenting.lines)
