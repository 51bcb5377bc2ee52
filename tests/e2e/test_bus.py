"""The bus between a room's nodes (knobtui/serve/bus.py), in one process against a real redis-server:
each `Bus` joins a real `Relay` to Redis, as `knobtui serve --bus` does. The end-to-end faults with
real nodes and SSH clients are in test_nodes.py; here, what needs many entries or an exact look at
what a node applied."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from knobtui.learning.predict import Choice, Question
from knobtui.presenter.relay import Relay
from knobtui.wire import RELAY, Ask, BusStatus, Reveal, RoomQuestion, State
from knobtui.serve.bus import Bus, Refused, bus_url_shown, check_bus_url, decode_entry
from knobtui.serve.voters import Voters
from rediskit import RedisServer, free_port

pytestmark = pytest.mark.skipif(__import__("shutil").which("redis-server") is None, reason="needs redis-server")


def scene(i: int) -> State:
    return State(scene={"recipe": {"iteration": i}, "preset": "gradient", "hidden": [], "lesson_heading": "",
                        "lesson_note": ""})


class Node:
    """A relay and its bus; what the relay was told to apply, in order, with the entry number."""

    def __init__(self, url: str, room: str = "r") -> None:
        self.relay = Relay()
        self.lines: list[str] = []
        self.bus = Bus(url, room, self.relay, self.lines.append)
        self.applied: list[tuple[int, int]] = []  # (entry number, iteration)
        apply = self.relay.apply_state

        def recording(state: State) -> None:
            recipe = state.scene["recipe"]
            assert isinstance(recipe, dict)
            self.applied.append((self.bus.state_v, int(recipe["iteration"])))
            apply(state)
        self.relay.apply_state = recording  # type: ignore[method-assign]

    @property
    def iteration(self) -> int:
        return self.applied[-1][1] if self.applied else -1

    async def close(self) -> None:
        await self.bus.close()
        await self.relay.close()


async def until(condition, timeout: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "the condition never held"
        await asyncio.sleep(0.01)


@pytest.fixture
async def redis(tmp_path: Path) -> AsyncIterator[RedisServer]:
    r = RedisServer(tmp_path / "redis")
    yield r
    r.stop()


async def started(url: str, room: str = "r") -> Node:
    node = Node(url, room)
    assert await node.bus.start(20)
    return node


def test_entries_that_do_not_decode_are_refused_with_a_reason() -> None:
    body = b'{"t": "state", "v": 2, "scene": {"recipe": {}}}'
    good = {b"p": b"2", b"v": b"7", b"k": b"state", b"n": b"x", b"b": body}
    assert decode_entry(b"1-0", good).v == 7
    cases = {
        "does not decode": {**good, b"v": b"seven"},
        "bus protocol '1'": {**good, b"p": b"1"},
        "no such kind": {**good, b"k": b"exec"},
        "not a JSON object": {**good, b"b": b"\xff"},
        "its state was refused: 'state': scene: no recipe": {**good, b"b": body.replace(b"{}", b"[]")},
        "its state was refused: wire version 1": {**good, b"b": b'{"t": "state", "v": 1, "scene": {"recipe": {}}}'},
        "its state was refused: no message type": {**good, b"b": b'{"recipe": {}}'},  # knobtui's bodies before the wire
        "its state was refused: it holds a Count": {**good, b"b": b'{"t": "count", "v": 2, "n": 1}'},
        "its answer was refused": {**good, b"k": b"answer",
                                   b"b": b'{"t": "vote", "v": 2, "voter": "", "id": 1, "value": "up"}'},
        "its count was refused": {**good, b"k": b"count", b"b": b'{"t": "count", "v": 2, "n": -1}'},
    }
    for says, fields in cases.items():
        with pytest.raises(Refused, match=says):
            decode_entry(b"1-0", fields)
    deep = {**good, b"b": b"[" * 100_000}
    with pytest.raises(Refused):
        decode_entry(b"1-0", deep)


def test_bus_urls_are_checked_and_never_logged_with_their_password() -> None:
    assert check_bus_url("redis://127.0.0.1:6379/0") is None
    assert check_bus_url("rediss://:pw@redis.example:6380/2") is None
    assert "redis://HOST:PORT/DB" in (check_bus_url("http://127.0.0.1/") or "")
    assert bus_url_shown("rediss://user:s3cret@h:6380/0") == "rediss://user:***@h:6380/0"
    assert "s3cret" not in (check_bus_url("redis://:s3cret@h:99999/0") or "")


def test_voter_ids_keyed_by_the_rooms_secret_are_the_same_on_every_node() -> None:
    a, b, alone = Voters(), Voters(), Voters()
    a.key = b.key = lambda: "room-secret"
    one, two = object(), object()
    assert a.seat("ssh:ann@10.0.0.1", one) == b.seat("ssh:ann@10.0.0.1", two)  # another node: the same voter
    assert a.seat("ssh:ann@10.0.0.1", two) != b.seat("ssh:bob@10.0.0.1", one)  # a second seat, another name
    assert alone.seat("ssh:ann@10.0.0.1", one) != a.seat("ssh:ann@10.0.0.1", object())  # no bus: random


async def test_a_node_that_starts_late_reads_the_latest_state_once_not_the_stream(redis: RedisServer) -> None:
    a = await started(redis.url)
    try:
        for i in range(1, 301):
            a.bus.send(scene(i))
        await until(lambda: a.iteration == 300)
        late = await started(redis.url)
        try:
            assert late.applied == [(a.bus.state_v, 300)]  # the latest at once: one state applied, not 300
        finally:
            await late.close()
    finally:
        await a.close()


async def test_two_nodes_writing_at_once_apply_one_order_and_end_alike(redis: RedisServer) -> None:
    a, b, c = await started(redis.url), await started(redis.url), await started(redis.url)
    try:
        for i in range(1, 101):
            a.bus.send(scene(2 * i))  # two presenters at once, on two nodes
            b.bus.send(scene(2 * i + 1))
        await until(lambda: not a.bus._outq and not b.bus._outq)  # all 200 written
        last = int(redis.cli("HGET", "knobtui:{r}:state", "v"))
        await until(lambda: all(n.bus.state_v == last for n in (a, b, c)))
        final = redis.cli("HGET", "knobtui:{r}:state", "b")
        for n in (a, b, c):
            numbers = [v for v, _ in n.applied]
            assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers)  # never an older one
            assert f'"iteration":{n.iteration}' in final  # all three end on the room's latest
        assert [i for _, i in a.applied] == [i for _, i in c.applied]  # a writer applies what a reader does
    finally:
        for n in (a, b, c):
            await n.close()


async def test_redis_restarted_empty_gets_the_room_back_and_what_was_kept_meanwhile(redis: RedisServer) -> None:
    a, b = await started(redis.url), await started(redis.url)
    try:
        for i in range(1, 6):
            a.bus.send(scene(i))
        await until(lambda: b.iteration == 5)
        redis.stop()
        await until(lambda: not a.bus.up and not b.bus.up)
        assert any("the room's link is down, retrying" in line for line in a.lines)
        assert a.relay.latest_bus == RELAY.encode(BusStatus(up=False))  # the simulators are told
        a.bus.send(scene(6))  # the presenter goes on: applied on their node, kept for the room
        await until(lambda: a.iteration == 6)
        assert b.iteration == 5
        redis.start()  # empty
        await until(lambda: b.iteration == 6, 40)
        iterations, numbers = [i for _, i in b.applied], [v for v, _ in b.applied]
        assert iterations == sorted(iterations) and numbers == sorted(set(numbers))  # from 5 to 6, nothing older
        assert any("wrote this node's state back" in line for n in (a, b) for line in n.lines)
        assert any("the room's link is back" in line for line in b.lines)
        assert numbers[-1] > numbers[iterations.index(5)]  # numbers go on past the old ones
        a.bus.send(scene(7))
        await until(lambda: b.iteration == 7)
    finally:
        await a.close()
        await b.close()


QUESTION = Question("direction", "Will the weight go up or down?",
                    (Choice("up", "up", "up"), Choice("down", "down", "down")), "up", "because")


async def test_answers_count_once_per_voter_across_nodes_and_a_late_node_reads_them(redis: RedisServer) -> None:
    a, b = await started(redis.url), await started(redis.url)
    try:
        quiz = RoomQuestion.ask(41, QUESTION, {"iteration": 0})
        a.bus.send(Ask(quiz))
        await until(lambda: b.relay.ballot.quiz is not None)
        assert a.relay.vote("v1", 41, "up") and b.relay.vote("v2", 41, "up")
        assert b.relay.vote("v1", 41, "down")  # v1 changes their mind on the other node
        assert not b.relay.vote("v3", 41, "sideways") and not b.relay.vote("v3", 40, "up")  # not counted
        await until(lambda: a.relay.ballot.counts().counts == {"up": 1, "down": 1})
        assert a.relay.ballot.counts().answered == 2
        late = await started(redis.url)
        try:
            assert late.relay.ballot.counts().counts == {"up": 1, "down": 1}
        finally:
            await late.close()
        a.bus.send(Reveal(quiz.reveal(QUESTION)))  # revealed: later answers do not count
        await until(lambda: b.relay.ballot.quiz is not None and b.relay.ballot.quiz.revealed)
        # An answer sent before this node heard of the reveal is refused by Redis in the room's order.
        b.relay.ballot.quiz = quiz
        b.relay.vote("v4", 41, "up")
        await asyncio.sleep(0)
        await until(lambda: not b.bus._outq)
        assert redis.cli("HLEN", "knobtui:{r}:answers:41").strip() == "2"
    finally:
        await a.close()
        await b.close()


def _tls_files(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (it is its own CA) and its key."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True, timeout=60)
    return cert, key


async def test_rediss_and_a_password_in_the_url_reach_redis(tmp_path: Path) -> None:
    cert, key = _tls_files(tmp_path)
    port = free_port()
    proc = subprocess.Popen(["redis-server", "--port", "0", "--tls-port", str(port), "--bind", "127.0.0.1",
                             "--tls-cert-file", str(cert), "--tls-key-file", str(key), "--tls-ca-cert-file", str(cert),
                             "--tls-auth-clients", "no", "--requirepass", "tls-pass-9", "--save", "",
                             "--appendonly", "no", "--dir", str(tmp_path)], stdout=subprocess.DEVNULL)
    try:
        url = f"rediss://:tls-pass-9@127.0.0.1:{port}/0?ssl_ca_certs={cert}"
        await until(lambda: subprocess.run(["redis-cli", "--tls", "--cacert", str(cert), "-p", str(port),
                                            "--no-auth-warning", "-a", "tls-pass-9", "PING"],
                                           capture_output=True, text=True).stdout.strip() == "PONG")
        a, b = await started(url), await started(url)
        try:
            a.bus.send(scene(3))
            await until(lambda: b.iteration == 3)
            assert all("tls-pass-9" not in line for line in a.lines + b.lines)
        finally:
            await a.close()
            await b.close()
        wrong = Node(url.replace("tls-pass-9", "nope"))
        try:
            assert not await wrong.bus.start(3)  # a wrong password never joins
            assert any("down" in line for line in wrong.lines)
        finally:
            await wrong.close()
    finally:
        proc.terminate()
        proc.wait(10)


def test_serving_without_a_bus_never_imports_redis() -> None:
    """Without --bus the server is what it was: the redis client is not even imported."""
    code = ("import sys, asyncio; from knobtui.serve.hub import Hub, ServeOptions; from knobtui.serve import server; "
            "hub = Hub(ServeOptions(presenter_password='x')); assert hub.join_bus() is None; hub.close(); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'redis'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.strip() == "[]", out.stderr
