"""One room on three `knobtui serve` nodes joined by a real redis-server (its own port and folder), with
real SSH clients: the presenter on one node, followers on the others; a room question answered on all
three; and each fault for real: a node killed, Redis stopped and started again (empty), the
presenter's node killed and the presenter logging in on another."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import asyncssh
import pytest

from harness import BOOK_LINE_1, Server, Visitor
from rediskit import RedisServer

pytestmark = pytest.mark.skipif(__import__("shutil").which("redis-server") is None, reason="needs redis-server")

UP, DOWN = b"\x1b[A", b"\x1b[B"
DOWN_LINE = "the room's link is down, retrying"


class Room:
    """A redis-server and `knobtui serve` nodes on it, each node in a process group of its own (so a
    node, with its simulators, can be killed the way a machine dies)."""

    def __init__(self, tmp: Path, key: asyncssh.SSHKey, *, password: str | None = None) -> None:
        self.tmp = tmp
        self.redis = RedisServer(tmp / "redis", password=password)
        self.keys = tmp / "presenter_keys"
        self.keys.write_bytes(key.export_public_key())
        self.key = key
        self.nodes: list[Server] = []
        self.visitors: list[Visitor] = []

    def node(self, *args: str, env: dict[str, str] | None = None) -> Server:
        """A node on the room's bus (the same host key for all: one tmp folder)."""
        srv = Server(self.tmp, "--presenter-key", str(self.keys), "--rate-limit", "1000", "--bus", self.redis.url,
                     "--room", "lecture-1", *args, env=env, preexec_fn=os.setsid)
        self.nodes.append(srv)
        assert srv.log_has("bus: joined room 'lecture-1'", 20), "\n".join(srv.lines)
        return srv

    async def visitor(self, node: Server, cols: int = 100, rows: int = 30, username: str = "student") -> Visitor:
        v = await Visitor.open(node.port, cols, rows, username=username)
        self.visitors.append(v)
        return v

    async def presenter(self, node: Server) -> Visitor:
        v = await Visitor.open(node.port, 100, 30, username="teacher", client_keys=[self.key])
        self.visitors.append(v)
        return v

    async def lecture(self, *seats: tuple[int, int, int, str]) -> tuple[list[Server], Visitor, list[Visitor]]:
        """Three nodes, the presenter on the first, and a follower per seat (node, columns, rows, name),
        once the presenter counts them all."""
        nodes = [self.node(), self.node(), self.node()]
        teacher = await self.presenter(nodes[0])
        followers = [await self.visitor(nodes[n], cols, rows, name) for n, cols, rows, name in seats]
        await teacher.wait_for(f"presenting to {len(seats)} follower{'s' if len(seats) != 1 else ''}")
        return nodes, teacher, followers

    @staticmethod
    def kill(node: Server) -> None:
        """The node dies at once, its simulators with it (a machine switched off)."""
        os.killpg(node.proc.pid, signal.SIGKILL)
        node.proc.wait(10)

    def close(self) -> None:
        try:
            for v in self.visitors:
                v.close()
        finally:  # whatever a client does on its way out, no node and no Redis is left behind
            self._stop_nodes()

    def _stop_nodes(self) -> None:
        try:
            for node in self.nodes:
                node.stop()
                try:
                    os.killpg(node.proc.pid, signal.SIGKILL)  # anything the node left
                except ProcessLookupError:
                    pass
        finally:
            self.redis.stop()


@pytest.fixture
async def room(tmp_path: Path, presenter_key: asyncssh.SSHKey) -> AsyncIterator[Room]:
    r = Room(tmp_path, presenter_key)
    yield r
    r.close()


def iteration(v: Visitor) -> int:
    m = re.search(r"iteration (\d+) ", v.text())
    return int(m.group(1)) if m else -1


async def step_to(teacher: Visitor, n: int) -> None:
    """Press space until the presenter's own screen shows iteration n (one press per iteration)."""
    await teacher.wait_for(re.compile(r"iteration \d+ "))
    while iteration(teacher) < n:
        before = iteration(teacher)
        teacher.press(b" ")
        await teacher.wait_for(f"iteration {before + 1} ")


def bars(v: Visitor) -> dict[str, int]:
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"[↑↓] (up|down) +[█░]+ +(\d+)", v.text())}


async def counted(teacher: Visitor, answered: int, of: int, up: int, down: int) -> None:
    await teacher.wait_for(f"{answered} of {of} answered")
    deadline = asyncio.get_running_loop().time() + 30
    while bars(teacher) != {"up": up, "down": down}:
        assert asyncio.get_running_loop().time() < deadline, f"counts {bars(teacher)}; the screen:\n{teacher.text()}"
        await asyncio.sleep(0.05)


async def test_three_nodes_followers_see_every_state_in_order(room: Room) -> None:
    _, teacher, (on_b, on_c, on_a) = await room.lecture((1, 80, 24, "bo"), (2, 120, 40, "cy"), (0, 100, 30, "al"))
    for s in (on_a, on_b, on_c):
        await s.wait_for("following the presenter")
    seen: dict[int, list[int]] = {0: [], 1: []}

    async def watch() -> None:  # what the followers on B and C show, read as often as the loop allows
        while True:
            for i, s in enumerate((on_b, on_c)):
                n = iteration(s)
                if not seen[i] or seen[i][-1] != n:
                    seen[i].append(n)
            await asyncio.sleep(0.002)

    watcher = asyncio.ensure_future(watch())
    try:
        teacher.press(b" ")
        for s in (on_a, on_b, on_c):
            await s.wait_for(BOOK_LINE_1)
        for n in range(2, 16):  # presses as fast as the presenter's screen takes them
            teacher.press(b" ")
            await teacher.wait_for(f"iteration {n} ")
        for s in (on_a, on_b, on_c):
            await s.wait_for("iteration 15 ")
            await s.wait_for(re.compile(r"\b15\S?\s+0\.0000\d+|\b15\S?\s+\d\.\d+e-0\d"))
    finally:
        watcher.cancel()
    for i, s in enumerate((on_b, on_c)):  # the last look, after each showed 15 (the watcher may not have run since)
        if seen[i][-1] != iteration(s):
            seen[i].append(iteration(s))
    for i in (0, 1):  # never an older state over a newer one (a slow screen may skip some, never go back)
        assert seen[i] == sorted(seen[i]) and seen[i][-1] == 15, seen[i]
    # The room's stream holds every state once, numbered in the order the presenter made them.
    rows = room.redis.cli("XRANGE", "knobtui:{lecture-1}:stream", "-", "+").splitlines()
    numbers = [int(rows[i + 1]) for i in range(len(rows) - 1) if rows[i] == "v"]
    assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers)
    iterations = [int(m) for m in re.findall(r'"iteration":(\d+)', "\n".join(rows))]
    assert iterations[-15:] == list(range(1, 16))
    teacher.press(b"6")  # a preset: every node's followers get it
    for s in (on_b, on_c):
        await s.wait_for("preset divergence")


async def test_a_question_answered_on_three_nodes_counts_each_follower_once(room: Room) -> None:
    nodes = [room.node(), room.node(), room.node()]
    teacher = await room.presenter(nodes[0])
    students = [await room.visitor(nodes[n % 3], 80, 24, username=f"student{n}") for n in range(9)]
    await teacher.wait_for("presenting to 9 followers")
    for s in students:
        await s.wait_for("following the presenter")
    teacher.press(b"a")
    await teacher.wait_for("0 of 9 answered")
    for s in students:
        await s.wait_for("Press a key to answer")
    choices = [UP, DOWN, UP, UP, DOWN, UP, DOWN, UP, UP]  # 6 up, 3 down, across the three nodes
    for s, key in zip(students, choices):
        s.press(key)
    students[4].press(UP + DOWN)  # a changed mind on node B, back again: one answer, down
    await counted(teacher, 9, 9, 6, 3)
    for s, key in zip(students, choices):
        await s.wait_for(f"Your answer: {'up' if key == UP else 'down'}")
    # A follower of node C (student2, up) leaves and comes back through node B: the same voter there.
    students[2].close()
    back = await room.visitor(nodes[1], 80, 24, username="student2")
    await back.wait_for("Your answer: up")
    back.press(DOWN)  # changes their mind on the other node: still counted once
    await counted(teacher, 9, 9, 5, 4)
    answers = room.redis.cli("HLEN", f"knobtui:{{lecture-1}}:answers:{_quiz_id(room)}").strip()
    assert answers == "9"  # one per voter in Redis too
    teacher.press(b" ")  # reveal (the answer is up here), then one step
    await teacher.wait_for("5 of 9 right")
    await back.wait_for("You said down: not right.")
    await students[0].wait_for("You said up: right.")
    await students[4].wait_for("You said down: not right.")


def _quiz_id(room: Room) -> str:
    out = room.redis.cli("HGET", "knobtui:{lecture-1}:quiz", "b")
    return re.search(r'"id":(\d+)', out).group(1)  # type: ignore[union-attr]


async def test_a_node_killed_mid_lecture(room: Room) -> None:
    (a, b, c), teacher, (on_b, on_c) = await room.lecture((1, 80, 24, "bea"), (2, 80, 24, "cem"))
    await step_to(teacher, 3)
    for s in (on_b, on_c):  # each screen arrives in its own time
        await s.wait_for("iteration 3 ")
    room.kill(c)  # node C dies with its simulators
    await asyncio.wait_for(on_c.proc.wait_closed(), 20)  # its follower's connection is gone
    await step_to(teacher, 5)
    await on_b.wait_for("iteration 5 ")  # the other node's follower goes on
    assert "following the presenter" in on_b.text()
    again = await room.visitor(b, 80, 24, username="cem")  # cem reconnects: the balancer sends them to B
    await again.wait_for("iteration 5 ")
    await again.wait_for("following the presenter")
    assert iteration(again) == iteration(on_b) == 5
    d = room.node()  # a node started mid-lecture (C's replacement): the room's state at once
    on_d = await room.visitor(d, 80, 24, username="dan")
    await on_d.wait_for("iteration 5 ")
    teacher.press(b" ")
    for s in (on_b, again, on_d):
        await s.wait_for("iteration 6 ")


async def test_redis_stopped_and_restarted_empty(room: Room) -> None:
    (a, b, c), teacher, (on_a, on_b, on_c) = await room.lecture((0, 80, 24, "al"), (1, 80, 24, "bo"),
                                                                (2, 100, 30, "cy"))
    await step_to(teacher, 2)
    for s in (on_a, on_b, on_c):
        await s.wait_for("iteration 2 ")
    room.redis.stop()
    for s in (on_a, on_b, on_c):
        await s.wait_for(DOWN_LINE)  # every follower is told, and keeps its screen
    await teacher.wait_for(DOWN_LINE)
    await step_to(teacher, 4)  # the presenter goes on while Redis is away: their node's followers follow
    await on_a.wait_for("iteration 4 ")
    for s in (on_b, on_c):
        assert "iteration 2 " in s.text() and DOWN_LINE in s.text()  # the last state, kept
    assert all(n.log_has("bus: the room's link is down, retrying") for n in (a, b, c))
    room.redis.start()  # empty: a Redis with no persistence forgets everything
    for s in (on_b, on_c):
        await s.wait_for("iteration 4 ", timeout=40)  # caught up: what node A kept was sent
        await s.wait_for("following the presenter")
    assert a.log_has("bus: the room's link is back")
    teacher.press(b" ")
    for s in (on_a, on_b, on_c):
        await s.wait_for("iteration 5 ")
    late = await room.visitor(c, 80, 24)  # a late joiner after the restart: the latest state at once
    await late.wait_for("iteration 5 ")


async def test_a_node_started_while_redis_is_unreachable_serves_and_joins_when_it_comes(room: Room) -> None:
    room.redis.stop()
    lonely = Server(room.tmp, "--presenter-key", str(room.keys), "--bus", room.redis.url, "--room", "lecture-1",
                    preexec_fn=os.setsid)
    room.nodes.append(lonely)
    assert lonely.log_has("bus: the room's link is down, retrying", 20)
    assert lonely.log_has("bus: Redis is not reachable yet; serving this node's followers and retrying", 20)
    student = await room.visitor(lonely, 80, 24)
    await student.wait_for(DOWN_LINE)  # served, and told
    teacher = await room.presenter(lonely)
    await step_to(teacher, 1)
    await student.wait_for(BOOK_LINE_1)  # the presenter on the same node: followed even so
    room.redis.start()
    await student.wait_for("following the presenter", 40)
    other = room.node()  # a second node now: it gets what the first kept while Redis was away
    late = await room.visitor(other, 80, 24)
    await late.wait_for(BOOK_LINE_1)


async def test_the_presenters_node_dies_and_they_log_in_on_another(room: Room) -> None:
    (a, b, c), teacher, (on_b, on_c) = await room.lecture((1, 80, 24, "bo"), (2, 80, 24, "cy"))
    teacher.press(b"6")  # the divergence preset, then three steps
    await on_c.wait_for("preset divergence")
    await step_to(teacher, 3)
    for s in (on_b, on_c):  # both have it before the node goes (each screen arrives in its own time)
        await s.wait_for("iteration 3 ")
    room.kill(a)
    teacher.close()
    assert "iteration 3 " in on_b.text() and "iteration 3 " in on_c.text()  # the room keeps the state
    teacher = await room.presenter(b)  # logs in again on another node: their simulator starts from the room's
    await teacher.wait_for("presenting to 2 followers")
    await teacher.wait_for("iteration 3 ")
    assert "diverging" in teacher.text() and "preset divergence" in teacher.text()
    teacher.press(b" ")
    for s in (on_b, on_c, teacher):
        await s.wait_for("iteration 4 ")
    assert "preset divergence" in on_c.text()


async def test_bus_entries_that_do_not_decode_or_are_old_are_refused_and_logged(room: Room) -> None:
    a, b = room.node(), room.node()
    teacher = await room.presenter(a)
    on_b = await room.visitor(b, 80, 24)
    await step_to(teacher, 2)
    await on_b.wait_for("iteration 2 ")
    stream = "knobtui:{lecture-1}:stream"
    good = re.search(r"\{\"t\":\"state\".*", room.redis.cli("HGET", "knobtui:{lecture-1}:state", "b")).group(0)  # type: ignore[union-attr]
    older = good.replace('"iteration":2', '"iteration":1')
    bad = [
        ("p", "2", "v", "999001", "k", "state", "n", "x", "b", "{not json"),  # not JSON
        ("p", "2", "v", "999000", "k", "state"),  # fields missing: does not decode
        ("p", "1", "v", "999002", "k", "state", "n", "x", "b", older),  # another (older) protocol
        ("p", "2", "v", "1", "k", "state", "n", "x", "b", older),  # numbered before what was seen
        ("p", "2", "v", "999003", "k", "state", "n", "x", "b", '{"t":"state","v":2,"scene":{"recipe":7}}'),  # no scene
        ("p", "2", "v", "999004", "k", "quiz", "n", "x", "b", '{"t":"question","v":2,"quiz":{"id":-1}}'),  # no question
        ("p", "2", "v", "999006", "k", "state", "n", "x", "b", '{"t":"state","v":1,"scene":{}}'),  # an old message
        ("p", "2", "v", "999005", "k", "shell", "n", "x", "b", "{}"),  # no such kind
    ]
    for fields in bad:
        room.redis.cli("XADD", stream, "*", *fields)
    assert b.log_has("bus: refused entry", 10)
    for text in ("does not decode", "its state was refused: not a JSON object", "bus protocol '1'", "is not past",
                 "its state was refused: 'state'", "its quiz was refused", "wire version 1", "no such kind 'shell'"):
        assert b.log_has(text, 10) and a.log_has(text, 10), text
    assert "iteration 2 " in on_b.text()  # nothing was applied
    teacher.press(b" ")  # the room goes on: numbers past the refused ones still count
    await on_b.wait_for("iteration 3 ")


async def test_the_bus_password_is_used_and_the_presenters_never_reaches_the_bus(
        tmp_path: Path, presenter_key: asyncssh.SSHKey) -> None:
    room = Room(tmp_path, presenter_key, password="bus-secret-7")
    monitor: subprocess.Popen[str] | None = None
    try:
        # The password travels in the URL (KNOBTUI_BUS) to the client; Redis refuses anyone without it.
        assert "NOAUTH" in subprocess.run(["redis-cli", "-p", str(room.redis.port), "GET", "x"],
                                          capture_output=True, text=True).stdout
        monitor = subprocess.Popen(["redis-cli", "-p", str(room.redis.port), "--no-auth-warning", "-a",
                                    "bus-secret-7", "MONITOR"], stdout=subprocess.PIPE, text=True)
        env = {"KNOBTUI_PRESENTER_PASSWORD": "chalk-and-talk-42", "KNOBTUI_BUS": room.redis.url}
        nodes = []
        for _ in range(2):
            srv = Server(tmp_path, "--presenter-key", str(room.keys), "--room", "lecture-1", env=env,
                         preexec_fn=os.setsid)
            room.nodes.append(srv)
            assert srv.log_has("bus: joined room 'lecture-1' on redis://:***@127.0.0.1", 20), srv.lines
            nodes.append(srv)
        assert not any("bus-secret-7" in line for n in nodes for line in n.lines)  # not in the log either
        conn = await asyncssh.connect("127.0.0.1", nodes[0].port, username="teacher", password="chalk-and-talk-42",
                                      known_hosts=None, client_keys=None, agent_path=None, config=[],
                                      preferred_auth="password")
        proc = await conn.create_process(term_type="xterm-256color", term_size=(100, 30), encoding=None)
        teacher = Visitor(conn, proc, 100, 30)
        room.visitors.append(teacher)
        student = await room.visitor(nodes[1], 80, 24)
        await teacher.wait_for("presenting to 1 follower")
        teacher.press(b" ")
        await student.wait_for(BOOK_LINE_1)
    finally:
        room.close()
        if monitor is not None:
            monitor.terminate()
    seen = monitor.communicate(timeout=10)[0] if monitor is not None else ""
    assert "EVALSHA" in seen and "iteration" in seen  # the monitor saw the room's writes
    assert "chalk-and-talk-42" not in seen  # every command Redis received, read back: no presenter password


@pytest.mark.parametrize(("args", "env", "says"), [
    (["--bus", "ftp://127.0.0.1:1/0"], {}, "the bus is redis://HOST:PORT/DB, rediss:// (TLS)"),
    (["--bus", "redis://:hunter2@127.0.0.1:99999/0"], {}, "redis://:***@127.0.0.1:99999/0 does not parse"),
    ([], {"KNOBTUI_BUS": "redis://127.0.0.1:6379/0"}, "every node of a room needs the presenter's key"),
    (["--bus", "redis://127.0.0.1:6379/0", "--presenter-key", "{keys}", "--room", "a b"], {}, "is not a room name"),
])
def test_bus_options_are_checked_before_serving(tmp_path: Path, presenter_key: asyncssh.SSHKey, args: list[str],
                                                env: dict[str, str], says: str) -> None:
    keys = tmp_path / "presenter_keys"
    keys.write_bytes(presenter_key.export_public_key())
    out = subprocess.run([sys.executable, "-m", "knobtui", "serve", "--port", "0",
                          *[a.replace("{keys}", str(keys)) for a in args]],
                         capture_output=True, text=True, timeout=60, env={**os.environ, **env})
    assert out.returncode == 2 and says in out.stderr, out.stderr
    assert "hunter2" not in out.stderr


@pytest.mark.skipif(__import__("shutil").which("haproxy") is None, reason="needs HAProxy")
async def test_nodes_behind_a_tcp_balancer_share_one_host_key(room: Room, tmp_path: Path) -> None:
    """docs/scaling.md's HAProxy configuration (deploy/haproxy.cfg) in front of two nodes: every
    connection, wherever it lands, checks the one host key; the presenter comes in the same way."""
    from rediskit import free_port
    a, b = room.node(), room.node()
    port = free_port()
    config = (Path(__file__).parents[2] / "deploy" / "haproxy.cfg").read_text()
    config = config.replace("bind :2222", f"bind 127.0.0.1:{port}").replace("balance leastconn", "balance roundrobin")
    config = config.replace("server a node-a:2222", f"server a 127.0.0.1:{a.port}")
    config = config.replace("server b node-b:2222", f"server b 127.0.0.1:{b.port}")
    config = "\n".join(line for line in config.splitlines() if "node-c" not in line) + "\n"
    (tmp_path / "haproxy.cfg").write_text(config)
    balancer = subprocess.Popen(["haproxy", "-db", "-f", str(tmp_path / "haproxy.cfg")], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
    host_key = asyncssh.read_private_key(str(a.key))
    known = asyncssh.import_known_hosts(f"[127.0.0.1]:{port} {host_key.export_public_key().decode()}")
    try:
        async def through(username: str, keys: list[asyncssh.SSHKey] | None = None) -> Visitor:
            from harness import AudienceClient
            for _ in range(100):  # the balancer starts listening
                try:
                    conn = await asyncssh.connect("127.0.0.1", port, username=username, known_hosts=known,
                                                  client_keys=keys, agent_path=None, config=[],
                                                  client_factory=AudienceClient)
                    break
                except OSError:
                    await asyncio.sleep(0.1)
            proc = await conn.create_process(term_type="xterm-256color", term_size=(80, 24), encoding=None)
            v = Visitor(conn, proc, 80, 24)
            room.visitors.append(v)
            return v

        teacher = await through("teacher", [room.key])
        students = [await through(f"student{n}") for n in range(3)]
        await teacher.wait_for("presenting to 3 followers")
        teacher.press(b" ")
        for s in students:
            await s.wait_for(BOOK_LINE_1)
        assert a.log_has("role=follower") and b.log_has("role=follower")  # both nodes took followers
    finally:
        balancer.terminate()
        balancer.wait(10)
