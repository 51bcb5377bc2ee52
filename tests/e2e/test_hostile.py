"""`knobtui serve` against a hostile visitor, and for a real audience: every attack tried once, for real.

Each test starts the server as its own process on 127.0.0.1 and attacks it with asyncssh, OpenSSH or
PuTTY's plink as a visitor would; the numbers in the names are the items of the issue that asked for
them. No test asserts on time: each waits (bounded) for something it can see.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import random
import re
import resource
import shutil
import socket
import struct
import subprocess
import sys
import termios
from pathlib import Path

import asyncssh
import pytest

from harness import Server, Tmux, Visitor
from knobtui.wire import RELAY, Hello, Refused

needs_openssh = pytest.mark.skipif(shutil.which("ssh") is None or shutil.which("tmux") is None,
                                   reason="needs OpenSSH's client and tmux (.ci/run installs both)")
needs_plink = pytest.mark.skipif(shutil.which("plink") is None or shutil.which("tmux") is None,
                                 reason="needs PuTTY's plink (Debian putty-tools; .ci/run installs it) and tmux")
OPENSSH = ["ssh", "-tt", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
           "-o", "LogLevel=ERROR"]


@pytest.fixture
def server(tmp_path: Path):  # type: ignore[no-untyped-def]
    s = Server(tmp_path)
    yield s
    s.stop()


def presenting(tmp_path: Path, key: asyncssh.SSHKey, *args: str, env: dict[str, str] | None = None) -> Server:
    keys = tmp_path / "presenter_keys"
    keys.write_bytes(key.export_public_key())
    return Server(tmp_path, "--presenter-key", str(keys), *args, env=env)


def pty_size(pid: int) -> tuple[int, int]:
    """The (cols, rows) of a simulator's terminal, read from its own pty."""
    fd = os.open(f"/proc/{pid}/fd/0", os.O_RDONLY | os.O_NOCTTY)
    try:
        rows, cols, _, _ = struct.unpack("HHHH", fcntl.ioctl(fd, termios.TIOCGWINSZ, b"\0" * 8))
    finally:
        os.close(fd)
    return cols, rows


def iteration(v: Visitor) -> int:
    m = re.search(r"iteration (\d+) ", v.text())
    return int(m.group(1)) if m else -1


async def wait_gone(v: Visitor, text: str | re.Pattern[str], timeout: float = 30.0) -> None:
    """Wait until the visitor's screen no longer holds `text` (or matches a pattern)."""
    def there() -> bool:
        return bool(text.search(v.text())) if isinstance(text, re.Pattern) else text in v.text()
    for _ in range(int(timeout / 0.05)):
        if not there():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{text!r} never went away; the screen was:\n{v.text()}")


# ---- a single visitor cannot exhaust the machine ----------------------------------------------------

async def test_1_terminal_size_is_capped_at_the_start_and_on_every_resize(server: Server) -> None:
    v = await Visitor.open(server.port, 100, 30, asked=(10000, 10000))
    try:
        await v.wait_for("Knobs")  # a terminal that says it is bigger than it is shows the screen's top left
        pid = server.pid_of("asked=10000x10000")
        assert pty_size(pid) == (500, 200)
        v.proc.change_terminal_size(20000, 9000)
        v.proc.change_terminal_size(120, 40)  # a sane size is kept as it is
        v.proc.change_terminal_size(640, 480)
        for _ in range(200):
            if pty_size(pid) == (500, 200):
                break
            await asyncio.sleep(0.05)
        assert pty_size(pid) == (500, 200)
    finally:
        v.close()


async def test_2_exports_and_history_have_a_quota_over_serve(tmp_path: Path) -> None:
    """A visitor cannot fill the server's disk (20 files a session) nor its memory (200,000 iterations)."""
    srv = Server(tmp_path, "--alpha", "1e-9")  # learning so slowly that it never converges here
    v = await Visitor.open(srv.port, 120, 40)
    try:
        await v.wait_for("iteration 0 ")
        v.press(b"e" * 21)
        await v.wait_for("no files left (this session may write 20)")
        v.press(b"fff")  # fast-forward: 100,000 iterations a press
        await v.wait_for("the limit here is 200,000 iterations")
        assert v.proc.exit_status is None
    finally:
        v.close()
        srv.stop()


async def test_3_one_simulator_per_connection_and_a_limit_per_address(tmp_path: Path) -> None:
    srv = Server(tmp_path, "--max-per-address", "2")
    visitors: list[Visitor] = []
    try:
        first = await Visitor.open(srv.port, 80, 24)
        visitors.append(first)
        await first.wait_for("iteration 0 ")
        second_channel = await first.conn.create_process(term_type="xterm-256color", term_size=(80, 24),
                                                         encoding=None)
        out = await asyncio.wait_for(second_channel.stdout.read(), 30)
        assert b"One simulator per connection" in out
        assert len(srv.children()) == 1
        second = await Visitor.open(srv.port, 80, 24)
        visitors.append(second)
        await second.wait_for("iteration 0 ")
        third = await Visitor.open(srv.port, 80, 24)
        visitors.append(third)
        await third.wait_for("2 simulators are already running for your address")
        assert await third.exit_status() == 1
        assert len(srv.children()) == 2
    finally:
        for v in visitors:
            v.close()
        srv.stop()


async def test_4_a_login_without_a_session_is_closed_and_descriptor_exhaustion_is_logged_once(
        tmp_path: Path) -> None:
    """`ssh -N` (logged in, no session) is closed at the login timeout; at the descriptor limit the log
    gets a line, not a traceback per refused accept, and the server serves again once descriptors free."""
    def few_descriptors() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))

    srv = Server(tmp_path, "--login-timeout", "2", "--rate-limit", "1000", preexec_fn=few_descriptors)
    try:
        quiet = await asyncssh.connect("127.0.0.1", srv.port, username="x", known_hosts=None, client_keys=None,
                                       agent_path=None, config=[])
        await asyncio.wait_for(quiet.wait_closed(), 30)  # the server hung up: no session was opened
        assert srv.log_has("no session within 2 s of logging in")
        sockets = []
        for _ in range(100):  # more than the server has descriptors
            s = socket.create_connection(("127.0.0.1", srv.port))
            sockets.append(s)
        assert srv.log_has("out of system resource", timeout=15)
        for s in sockets:
            s.close()
        v = await Visitor.open(srv.port, 80, 24)  # and it still serves
        await v.wait_for("iteration 0 ")
        v.close()
        exhausted = [line for line in srv.lines if "out of system resource" in line]
        assert 1 <= len(exhausted) <= 3, exhausted
        assert not any("Traceback" in line for line in srv.lines)
    finally:
        srv.stop()


class Guesser(asyncssh.SSHClient):
    """Answers every presenter-password prompt of its connection with another wrong guess, counting them."""

    def __init__(self) -> None:
        super().__init__()
        self.prompts = 0

    def kbdint_auth_requested(self) -> str:
        return ""

    def kbdint_challenge_received(self, name, instructions, lang, prompts):  # type: ignore[no-untyped-def]
        self.prompts += 1
        return [f"guess{self.prompts}"] if prompts else []


async def test_5_presenter_password_guesses_are_limited_logged_and_locked_out(tmp_path: Path) -> None:
    srv = Server(tmp_path, "--rate-limit", "1000", env={"KNOBTUI_PRESENTER_PASSWORD": "chalk"})
    try:
        guessers: list[Guesser] = []

        def guesser() -> Guesser:
            guessers.append(Guesser())
            return guessers[-1]

        async def guess() -> None:
            with pytest.raises((asyncssh.PermissionDenied, asyncssh.DisconnectError, ConnectionError)):
                await asyncssh.connect("127.0.0.1", srv.port, username="teacher", known_hosts=None,
                                       client_keys=None, agent_path=None, config=[], client_factory=guesser,
                                       preferred_auth="keyboard-interactive")

        await asyncio.gather(*(guess() for _ in range(5)))  # up to 15 wrong guesses from one address: locked out
        assert len(guessers) == 5
        prompts = [g.prompts for g in guessers]
        assert all(1 <= n <= 3 for n in prompts), prompts  # each connection is closed after 3 wrong guesses
        assert srv.log_has("wrong presenter password from 127.0.0.1 user='teacher'")
        assert srv.log_has("presenter login locked for 127.0.0.1")
        with pytest.raises(asyncssh.PermissionDenied):  # even the right password waits out the lock
            await asyncssh.connect("127.0.0.1", srv.port, username="teacher", password="chalk", known_hosts=None,
                                   client_keys=None, agent_path=None, config=[], preferred_auth="password")
        follower = await Visitor.open(srv.port, 80, 24, username="student")  # the room is not locked out
        await follower.wait_for("following the presenter")
        follower.close()
    finally:
        srv.stop()


# ---- a real lecture keeps its audience ---------------------------------------------------------------

async def test_6_a_passive_follower_is_not_idle_while_the_presenter_works(
        tmp_path: Path, presenter_key: asyncssh.SSHKey) -> None:
    srv = presenting(tmp_path, presenter_key, "--idle-timeout", "2")
    try:
        teacher = await Visitor.open(srv.port, 80, 24, username="teacher", client_keys=[presenter_key])
        student = await Visitor.open(srv.port, 80, 24)
        loner = await Visitor.open(srv.port, 80, 24)  # plays alone, then types nothing: the clock of this test
        await teacher.wait_for("presenting to 2 followers")
        loner.press(b"d")
        await loner.wait_for("playing alone")
        n = 0
        while loner.proc.exit_status is None:  # the presenter teaches until the idle timeout has ended the loner
            n += 1
            assert n <= 1000, "the loner, idle, was never closed"
            teacher.press(b" ")
            await student.wait_for(f"iteration {n} ")  # the student never types
        assert await loner.exit_status() == 0 and srv.log_has("(idle for 2 s)")
        assert student.proc.exit_status is None and "goodbye" not in student.text()
        teacher.press(b" ")
        await student.wait_for(f"iteration {n + 1} ")  # still following
        assert await student.exit_status(30) == 0  # once the presenter stops, the idle timeout applies
        for v in (teacher, student, loner):
            v.close()
    finally:
        srv.stop()


@needs_openssh
def test_7_plain_openssh_presenter_with_a_password_and_followers_with_no_key(tmp_path: Path) -> None:
    srv = Server(tmp_path, env={"KNOBTUI_PRESENTER_PASSWORD": "chalk"})
    teacher, student = Tmux(tmp_path / "t"), Tmux(tmp_path / "s", 80, 24)
    (tmp_path / "t").mkdir()
    (tmp_path / "s").mkdir()
    try:
        teacher.start([*OPENSSH, "-p", str(srv.port), "teacher@127.0.0.1"])
        teacher.wait_for("Presenter password (Enter to follow):", timeout=30)
        teacher.keys("chalk", "Enter")
        teacher.wait_for("presenting", timeout=30)
        student.start([*OPENSSH, "-o", "BatchMode=yes", "-p", str(srv.port), "student@127.0.0.1"])
        student.wait_for("following the presenter", timeout=30)  # no key pressed to get here
        teacher.keys("Space")
        student.wait_for_row(1, "0.30250000000000005", "0.25")
    finally:
        teacher.close()
        student.close()
        srv.stop()
    assert srv.log_has("user='teacher'") and any("role=presenter" in line for line in srv.lines)


@needs_plink
def test_7_putty_plink_followers_land_in_the_simulator_with_no_extra_key(
        tmp_path: Path, presenter_key: asyncssh.SSHKey) -> None:
    srv = presenting(tmp_path, presenter_key)
    fingerprint = asyncssh.read_private_key(str(srv.key)).get_fingerprint("sha256")
    term = Tmux(tmp_path, 80, 24)
    try:
        term.start(["plink", "-ssh", "-batch", "-t", "-P", str(srv.port), "-hostkey", fingerprint,
                    "student@127.0.0.1"])
        screen = term.wait_for("following the presenter", timeout=30)
        assert "Press Return" not in screen
    finally:
        term.close()
        srv.stop()


async def test_8_a_presenter_who_reconnects_resumes_the_room(tmp_path: Path, presenter_key: asyncssh.SSHKey) -> None:
    srv = presenting(tmp_path, presenter_key)
    try:
        teacher = await Visitor.open(srv.port, 80, 24, username="teacher", client_keys=[presenter_key])
        student = await Visitor.open(srv.port, 80, 24)
        await teacher.wait_for("presenting to 1 follower")
        teacher.press(b"     ")
        await student.wait_for("iteration 5 ")
        teacher.conn.abort()  # the presenter's laptop drops off the network
        teacher.close()
        again = await Visitor.open(srv.port, 80, 24, username="teacher", client_keys=[presenter_key])
        await again.wait_for("iteration 5 ")  # the presenter resumes where the room is
        again.press(b" ")
        await student.wait_for("iteration 6 ")
        assert "iteration 0 " not in student.text()
        again.close()
        student.close()
    finally:
        srv.stop()


def test_9_the_defaults_fit_a_lecture_hall(server: Server) -> None:
    assert server.log_has("limits: 300 simulators, 40 per address, 600 followers watching, 400 per address, "
                          "600 connections a minute per address, idle 900 s, login 30 s")


async def test_10_a_room_arriving_together_gets_its_screens(tmp_path: Path) -> None:
    """30 followers at once, all with a complete first screen (the time it takes is a bench figure)."""
    srv = Server(tmp_path, "--rate-limit", "1000", "--max-per-address", "100")
    visitors = await asyncio.gather(*(Visitor.open(srv.port, 80, 24) for _ in range(30)))
    try:
        await asyncio.gather(*(v.wait_for("iteration 0 ", timeout=120) for v in visitors))
        assert len(srv.children()) == 30
    finally:
        for v in visitors:
            v.close()
        srv.stop()


async def test_11_a_session_the_server_ends_restores_the_terminal_and_exits_0(tmp_path: Path) -> None:
    srv = Server(tmp_path, "--idle-timeout", "1")
    try:
        v = await Visitor.open(srv.port, 80, 24)
        await v.wait_for("iteration 0 ")
        assert await v.exit_status(30) == 0
        raw = bytes(v.raw)
        tail = raw[raw.rindex(b"\x1b[?1049h"):]  # what came after the simulator entered the alt screen
        for undo in (b"\x1b[?1049l", b"\x1b[?25h", b"\x1b[?1000l", b"\x1b[?1003l", b"\x1b[?1006l", b"\x1b[?2004l"):
            assert undo in tail, undo
        assert tail.index(b"goodbye") > tail.rindex(b"\x1b[?1049l")  # the goodbye lands on the main screen
        v.close()
    finally:
        srv.stop()


@needs_openssh
def test_11_shutdown_leaves_an_openssh_terminal_as_it_was(tmp_path: Path) -> None:
    srv = Server(tmp_path)
    term = Tmux(tmp_path, 80, 24)
    try:
        term.start([*OPENSSH, "-o", "BatchMode=yes", "-p", str(srv.port), "student@127.0.0.1"])
        term.wait_for("iteration 0 ", timeout=30)
        assert srv.stop() == 0
        assert term.exit_status(30) == 0
        state = term.tmux("display", "-p", "#{alternate_on} #{cursor_flag} #{mouse_any_flag}").stdout.split()
        assert state == ["0", "1", "0"]
        assert "the server is shutting down; goodbye." in term.screen()
    finally:
        term.close()


# ---- the visitor's own simulator does not crash ----------------------------------------------------

async def test_12_invalid_utf8_and_a_fast_palette_do_not_end_a_session(server: Server) -> None:
    v = await Visitor.open(server.port, 100, 30)
    try:
        await v.wait_for("iteration 0 ")
        v.press(b"\xe9")  # a Latin-1 terminal typing é
        rng = random.Random(12)
        v.press(bytes(rng.randrange(128, 256) for _ in range(64)))
        v.press(b"\x10\r\r")  # Ctrl+P, then two Enters in one packet
        # the palette opened; the Enters ran its first command (autoplay faster), or it is still open
        await v.wait_for(re.compile(r"Search for commands|autoplay \d+/s"))
        v.press(b"\x1b")  # closes the palette if it is open
        await wait_gone(v, "Search for commands")
        v.press(b" ")
        await v.wait_for(re.compile(r"iteration [1-9]"))
        assert v.proc.exit_status is None
    finally:
        v.close()


async def test_13_typed_markup_is_shown_as_text(server: Server) -> None:
    v = await Visitor.open(server.port, 100, 30)
    try:
        await v.wait_for("iteration 0 ")
        v.press(b"\r")  # edit the weight
        await v.wait_for(re.compile(r"│  0\.5 +│"))  # the editor, holding the weight
        v.press(b"[/x][@click=app.suspend_process]ZZZ[/]\r")
        await v.wait_for("Refused: weight: '[/x][@click=app.suspend_process]")
        v.press(b"\x1b")  # close the editor, which kept the refused text for mending
        await wait_gone(v, re.compile(r"│ +\S*ZZZ\[/\] +│"))  # the editor's row, still holding the text
        v.press(b" ")
        await v.wait_for(re.compile(r"iteration [1-9]"))
        assert v.proc.exit_status is None
    finally:
        v.close()


async def test_15_a_terminal_without_escape_codes_is_refused_with_a_sentence(server: Server) -> None:
    v = await Visitor.open(server.port, 80, 24, term_type="dumb")
    try:
        await v.wait_for("needs a terminal that understands escape codes")
        assert await v.exit_status() == 1
        assert server.children() == []
    finally:
        v.close()


# ---- the operator ----------------------------------------------------------------------------------

async def test_16_client_fields_cannot_forge_or_colour_the_log(server: Server) -> None:
    forged = "xterm\n2026-01-01 00:00:00 knobtui serve: connect 6.6.6.6 \x1b[31mRED"
    v = await Visitor.open(server.port, 80, 24, term_type=forged, username="eve" + "e" * 500)
    try:
        await v.wait_for("iteration 0 ")  # not a terminal name: it gets xterm-256color
    finally:
        v.close()
    await server.wait_no_children()
    assert not any("\x1b" in line or line.startswith("2026-01-01") for line in server.lines)
    assert all("\\n2026" in line for line in server.lines if "6.6.6.6" in line)  # escaped on its own line
    assert server.log_has("user='eveeeeeeee")  # a 503-letter name, cut
    assert max(len(line) for line in server.lines) < 400


def serve_exit(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "knobtui", "serve", "--port", "0", *args], capture_output=True,
                          text=True, timeout=60, env={**os.environ, "TMPDIR": str(tmp_path)})


def test_17_unusable_host_keys_are_one_line_and_exit_2(tmp_path: Path) -> None:
    good = asyncssh.generate_private_key("ssh-ed25519")
    cases = {
        "empty": b"",
        "corrupt": b"-----BEGIN OPENSSH PRIVATE KEY-----\nnot a key\n-----END OPENSSH PRIVATE KEY-----\n",
        "public": good.export_public_key(),
        "passphrase": good.export_private_key("pkcs8-pem", passphrase="secret"),
    }
    for name, data in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        path.chmod(0o600)
        r = serve_exit(tmp_path, "--host-key", str(path))
        assert r.returncode == 2, (name, r.stderr)
        assert r.stderr.startswith("knobtui serve: ") and r.stderr.count("\n") == 1, (name, r.stderr)
        assert str(path) in r.stderr


def test_17_a_host_key_others_can_read_is_warned_about(tmp_path: Path) -> None:
    key = tmp_path / "host_key"
    key.write_bytes(asyncssh.generate_private_key("ssh-ed25519").export_private_key())
    key.chmod(0o644)
    srv = Server(tmp_path)
    try:
        assert srv.log_has("can be read by others (mode 0644)")
    finally:
        srv.stop()


def test_17_a_port_in_use_leaves_no_folder_behind_and_a_bad_keys_line_is_named(
        tmp_path: Path, presenter_key: asyncssh.SSHKey) -> None:
    keys = tmp_path / "presenter_keys"
    keys.write_bytes(presenter_key.export_public_key())
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    try:
        r = serve_exit(tmp_path, "--port", str(busy.getsockname()[1]), "--presenter-key", str(keys),
                       "--host-key", str(tmp_path / "k"))
    finally:
        busy.close()
    assert r.returncode == 1 and "cannot listen" in r.stderr
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith("knobtui-")] == []
    keys.write_text("# the presenters\n\n" + presenter_key.export_public_key().decode() + "ssh-ed25519 AAAAnotbase64\n")
    r = serve_exit(tmp_path, "--presenter-key", str(keys))
    assert r.returncode == 2 and "line 4" in r.stderr and r.stderr.count("\n") == 1, r.stderr


async def test_18_the_presenter_token_is_not_in_the_environment_and_the_relay_bounds_what_it_parses(
        tmp_path: Path, presenter_key: asyncssh.SSHKey) -> None:
    srv = presenting(tmp_path, presenter_key)
    try:
        teacher = await Visitor.open(srv.port, 80, 24, username="teacher", client_keys=[presenter_key])
        student = await Visitor.open(srv.port, 80, 24)
        await teacher.wait_for("presenting to 1 follower")
        pid = srv.pid_of("role=presenter")
        assert b"KNOBTUI_RELAY_TOKEN" not in Path(f"/proc/{pid}/environ").read_bytes()
        relay = next(line.split("relay ")[1].strip() for line in srv.lines if "relay " in line)
        loop = asyncio.get_running_loop()
        deep = socket.socket(socket.AF_UNIX)
        deep.connect(relay)
        deep.sendall(b"[" * 100000 + b"\n")  # a hello nested 100000 deep: refused, and the relay hangs up
        deep.settimeout(30)
        got = b""
        while chunk := await loop.run_in_executor(None, deep.recv, 65536):
            got += chunk
        assert got == RELAY.encode(Refused(why="not a JSON object"))
        deep.close()
        deep = socket.socket(socket.AF_UNIX)
        deep.connect(relay)
        deep.sendall(RELAY.encode(Hello()))
        deep.settimeout(30)
        teacher.press(b" ")
        await student.wait_for("iteration 1 ")
        got = b""
        while b'"iteration":1' not in got:  # a follower's connection is served the new state
            got += await loop.run_in_executor(None, deep.recv, 65536)
        deep.sendall(b'{"state": ' * 50000 + b"\n")  # and a state nested 50000 deep is refused
        teacher.press(b" ")
        await student.wait_for("iteration 2 ")  # the relay still relays
        deep.close()
        teacher.close()
        student.close()
    finally:
        srv.stop()
    assert not any("RecursionError" in line or "Traceback" in line for line in srv.lines)


async def test_18_a_presenter_token_is_good_for_one_connection(tmp_path: Path) -> None:
    """The relay itself, on a real Unix socket: a token copied from a presenter's simulator and replayed
    makes only a follower."""
    from knobtui.presenter.relay import Relay
    from knobtui.wire import Followers, Resume
    (tmp_path / "relay").mkdir()
    relay = Relay(str(tmp_path / "relay"))
    await relay.start()
    try:
        token = relay.child_env(presenter=True)["KNOBTUI_RELAY_TOKEN"]

        async def hello() -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
            reader, writer = await asyncio.open_unix_connection(relay.path)
            writer.write(RELAY.encode(Hello(role="presenter", token=token)))
            return reader, writer

        first_reader, first = await hello()
        assert RELAY.decode(await first_reader.readline()) == Resume()  # a presenter is greeted so
        assert RELAY.decode(await first_reader.readline()) == Followers(n=0)
        _, second = await hello()
        assert RELAY.decode(await first_reader.readline()) == Followers(n=1)  # the replay only follows
        assert len(relay.presenters) == 1
        for w in (first, second):
            w.close()
    finally:
        await relay.close()


async def test_19_simulators_never_import_from_the_visitors_folder(server: Server) -> None:
    v = await Visitor.open(server.port, 80, 24)
    try:
        await v.wait_for("iteration 0 ")
        pid = server.pid_of("connect 127.0.0.1")
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        assert b"-P" in argv[: argv.index(b"-m")]  # python -P: no working folder on sys.path
    finally:
        v.close()
