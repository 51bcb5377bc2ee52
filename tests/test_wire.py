"""The one wire (knobtui/wire.py): every message survives its codec (hypothesis), no bytes make a decoder raise,
and every receiver (the relay, a simulator's link and presenter mode, the spawner, the server's side of the
spawner, a room's bus) answers a garbled, unknown or old message with a clear refusal instead of a crash."""

from __future__ import annotations

import asyncio
import json
import os
import socket
from pathlib import Path
from typing import Any

import msgspec
import pytest
from appkit import start_at
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from knobtui import wire
from knobtui.learning import Scene
from knobtui.learning.knobs import KNOB_NAMES
from knobtui.learning.predict import KINDS, Choice, Question
from knobtui.presenter.link import RelayLink
from knobtui.presenter.protocol import LinkConfig
from knobtui.presenter.relay import Relay
from knobtui.serve.bus import Refused as BusRefused
from knobtui.serve.bus import decode_entry
from knobtui.serve.child import Spawner
from knobtui.spawner import answer
from knobtui.tui.app import KnobApp
from knobtui.wire import (BUS, RELAY, SPAWNER, Ask, Ballot, BusStatus, Clear, Count, Exited, Failed, Followers, Hello,
                          JoinInfo, Message, Ready, Refused, Resume, Reveal, RoomQuestion, Spawn, Spawned, State, Tally,
                          Vote)

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# ---- strategies: one per message ---------------------------------------------------------------------------
short = st.text(max_size=16)
text = st.text(max_size=60)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2 ** 53), 2 ** 53) | text
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(short, inner, max_size=3), max_leaves=8)
scenes = st.builds(Scene, recipe=st.dictionaries(short, json_values, max_size=4), preset=st.text(max_size=64),
                   hidden=st.frozensets(st.sampled_from(sorted(KNOB_NAMES))), heading=text, note=text,
                   outcome_hidden=st.booleans())


@st.composite
def room_questions(draw: Any, revealed: bool) -> RoomQuestion:
    keys = draw(st.lists(st.sampled_from(wire.ANSWER_KEYS), min_size=2, max_size=wire.MAX_CHOICES, unique=True))
    values = draw(st.lists(short, min_size=len(keys), max_size=len(keys), unique=True))
    choices = tuple(Choice(k, v, draw(short)) for k, v in zip(keys, values))
    answer = draw(st.sampled_from(values)) if revealed else ""
    question = Question(draw(st.sampled_from(KINDS)), draw(text), choices, answer, draw(text) if revealed else "")
    at = draw(st.dictionaries(short, json_values, max_size=3))
    return RoomQuestion(draw(st.integers(1, wire.MAX_ID - 1)), question, at, revealed)


ids = st.integers(1, wire.MAX_ID - 1)
counts = st.integers(0, 10 ** 7 - 1)
voters = st.text(min_size=1, max_size=64)
MESSAGES: dict[type[Message], Any] = {
    Hello: st.builds(Hello, role=st.sampled_from(["presenter", "follower"]), token=text, voter=st.text(max_size=64)),
    Resume: st.one_of(st.just(Resume()), scenes.map(Resume.of)),
    State: scenes.map(State.of),
    Ask: room_questions(False).map(Ask),
    Reveal: room_questions(True).map(Reveal),
    Clear: st.just(Clear()),
    Ballot: st.builds(Ballot, id=ids, value=short),
    Tally: st.builds(Tally, id=st.integers(0, wire.MAX_ID - 1), counts=st.dictionaries(short, counts, max_size=3),
                     answered=counts),
    Followers: st.builds(Followers, n=counts),
    BusStatus: st.builds(BusStatus, up=st.booleans()),
    Refused: st.builds(Refused, why=text),
    Vote: st.builds(Vote, voter=voters, id=ids, value=short),
    Count: st.builds(Count, n=counts),
    Ready: st.just(Ready()),
    Spawn: st.builds(Spawn, id=st.integers(0, 2 ** 31), args=st.lists(text, max_size=4),
                     env=st.dictionaries(st.text(min_size=1, max_size=20), text, max_size=4), cwd=text,
                     nice=st.integers(0, 19)),
    Spawned: st.builds(Spawned, id=st.integers(0, 2 ** 31), pid=st.integers(1, 2 ** 22)),
    Failed: st.builds(Failed, id=st.none() | st.integers(0, 2 ** 31), error=text),
    Exited: st.builds(Exited, pid=st.integers(1, 2 ** 22), status=st.integers(-64, 255)),
}


def codecs_of(kind: type[Message]) -> list[wire.Codec[Any]]:
    """Every codec that carries this kind of message."""
    return [codec for codec, union in ((RELAY, wire.RelayMessage), (SPAWNER, wire.SpawnerMessage),
                                       (BUS, wire.BusMessage)) if kind in union.__args__]


def test_every_message_has_a_strategy_and_a_codec() -> None:
    """A message added to the wire without a round-trip test, or on no socket, fails here."""
    def subclasses(cls: type) -> set[type]:
        return {c for sub in cls.__subclasses__() for c in {sub, *subclasses(sub)}}
    assert subclasses(Message) == set(MESSAGES)
    assert all(codecs_of(kind) for kind in MESSAGES)


@pytest.mark.parametrize("kind", list(MESSAGES), ids=lambda k: k.__name__)
def test_every_message_survives_its_codecs(kind: type[Message]) -> None:
    @FAST
    @given(MESSAGES[kind])
    def round_trip(message: Message) -> None:
        for codec in codecs_of(kind):
            data = codec.encode(message)
            assert data.endswith(b"\n") == (codec is RELAY) and data.count(b"\n") <= 1  # one line each
            assert codec.decode(data) == message
    round_trip()


@FAST
@given(st.builds(JoinInfo, ssh=st.lists(text, max_size=3).map(tuple), urls=st.lists(text, max_size=3).map(tuple),
                 fingerprint=text, local=st.booleans()))
def test_join_info_survives_the_environment(info: JoinInfo) -> None:
    assert JoinInfo.from_env({wire.JOIN_ENV: info.to_env()}) == info


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200) | json_values.map(lambda v: json.dumps(v).encode()) |
       st.dictionaries(st.sampled_from(["t", "v", "scene", "quiz", "id", "value", "n", "why"]), json_values)
       .map(lambda d: json.dumps(d).encode()))
def test_no_bytes_make_a_decoder_raise(data: bytes) -> None:
    for codec in (RELAY, SPAWNER, BUS):
        assert isinstance(codec.decode(data), Message)


@pytest.mark.parametrize(("data", "says"), [
    (b"\xff\xfe", "not a JSON object"),
    (b"[" * 100_000, "not a JSON object"),
    (b'{"state": {"recipe": {}}}', "no message type (`t`): an older knobtui?"),  # knobtui's wire before this one
    (b'{"t": "state", "v": 1, "scene": {"recipe": {}}}', "wire version 1, this knobtui speaks 2"),
    (b'{"t": "teleport", "v": 3}', "wire version 3"),
    (b'{"t": "teleport", "v": 2}', "no such message type 'teleport'"),
    (b'{"t": "state", "v": 2, "scene": {"recipe": []}}', "'state': scene: no recipe"),
    (b'{"t": "ballot", "v": 2, "id": 0, "value": "up"}', "'ballot': Expected `int` >= 1"),
    (b'{"t": "reveal", "v": 2, "quiz": {"id": 1}}', "'reveal': a question is open or revealed"),
])
def test_a_refusal_says_why(data: bytes, says: str) -> None:
    refused = RELAY.decode(data)
    assert isinstance(refused, Refused) and says in refused.why and refused.why.isprintable()


def test_an_open_question_is_never_a_reveal_nor_the_other_way() -> None:
    choices = (Choice("up", "up", "up"), Choice("down", "down", "down"))
    question = Question("direction", "Which way?", choices, "up", "why")
    revealed = RoomQuestion(5, question, {}, revealed=True)
    with pytest.raises(ValueError):
        Ask(revealed)
    assert isinstance(RELAY.decode(RELAY.encode(Reveal(revealed)).replace(b'"t":"reveal"', b'"t":"question"')), Refused)


# ---- the relay ---------------------------------------------------------------------------------------------
async def connect(relay: Relay, first: bytes) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    reader, writer = await asyncio.open_unix_connection(relay.path)
    writer.write(first)
    return reader, writer


async def next_of(reader: asyncio.StreamReader, kind: type[Message]) -> Any:
    async def read() -> Any:
        while True:
            line = await reader.readline()
            assert line, f"closed before a {kind.__name__}"
            message = RELAY.decode(line)
            if isinstance(message, kind):
                return message
    return await asyncio.wait_for(read(), 10)


async def test_the_relay_refuses_a_garbled_hello_and_closes(relay: Relay) -> None:
    for hello, says in ((b"\x00garbage\n", "not a JSON object"), (b'{"role": "follower"}\n', "an older knobtui"),
                        (RELAY.encode(Followers(n=3)), "the first line says who you are")):
        reader, writer = await connect(relay, hello)
        refused = RELAY.decode(await asyncio.wait_for(reader.readline(), 10))
        assert isinstance(refused, Refused) and says in refused.why
        assert await asyncio.wait_for(reader.readline(), 10) == b""  # and it hangs up
        writer.close()
    assert not relay.followers and not relay.presenters


async def test_the_relay_answers_a_garbled_or_old_line_with_a_refusal_and_serves_on(relay: Relay) -> None:
    logged: list[str] = []
    relay.log = logged.append
    token = relay.child_env(presenter=True)["KNOBTUI_RELAY_TOKEN"]
    teacher, teacher_w = await connect(relay, RELAY.encode(Hello(role="presenter", token=token)))
    await next_of(teacher, Resume)
    student, student_w = await connect(relay, RELAY.encode(Hello(voter="s")))
    await next_of(teacher, Followers)
    teacher_w.write(b'{"state": {"recipe": {}, "preset": "gradient"}}\n')  # an older knobtui's
    assert "an older knobtui" in (await next_of(teacher, Refused)).why
    teacher_w.write(b'{"t": "state", "v": 1, "scene": {"recipe": {}}}\n')
    assert "wire version 1" in (await next_of(teacher, Refused)).why
    teacher_w.write(b"}}}{\n")
    assert "not a JSON object" in (await next_of(teacher, Refused)).why
    teacher_w.write(RELAY.encode(Ballot(id=1, value="up")))  # a presenter does not vote
    assert "not a Ballot" in (await next_of(teacher, Refused)).why
    student_w.write(RELAY.encode(Clear()))  # a follower does not clear the question
    assert "a follower only answers" in (await next_of(student, Refused)).why
    scene = Scene({"iteration": 3}, "gradient")
    teacher_w.write(RELAY.encode(State.of(scene)))  # and the room goes on
    assert wire.scene_of(await next_of(student, State)) == scene
    assert relay.refused == 5 and len(logged) == 2  # in the log once a connection
    assert logged[0].startswith("relay: refused a simulator's line: no message type")
    for w in (teacher_w, student_w):
        w.close()


async def test_the_relay_refuses_a_line_too_long_and_hangs_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from knobtui.presenter import relay as relay_module
    monkeypatch.setattr(relay_module, "MAX_LINE", 4096)  # the real one is 16 MiB: the same path, a smaller line
    relay = Relay(str(tmp_path))
    await relay.start()
    try:
        reader, writer = await connect(relay, RELAY.encode(Hello()))
        writer.write(b'{"t": "ballot", "v": 2, "id": 1, "value": "' + b"x" * 10_000 + b'"}\n')
        assert "a line longer than 4096 bytes" in (await next_of(reader, Refused)).why
        assert await asyncio.wait_for(reader.read(), 10) == b""
        writer.close()
    finally:
        await relay.close()


# ---- a simulator's link, and presenter mode in the app -----------------------------------------------------
async def fake_relay(tmp_path: Path, lines: list[bytes], hang_up: bool = True) -> tuple[asyncio.AbstractServer, str]:
    """A relay that says `lines` to whoever connects, then hangs up (`hang_up`) or reads on until they go."""
    path = str(tmp_path / "fake.sock")

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readline()
        for line in lines:
            writer.write(line)
        await writer.drain()
        if not hang_up:
            while await reader.read(65536):
                pass
        writer.close()
    return await asyncio.start_unix_server(handle, path), path


async def test_a_link_hands_on_what_it_cannot_read_as_a_refusal(tmp_path: Path) -> None:
    server, path = await fake_relay(tmp_path, [b"garbage\n", b'{"followers": 3}\n',
                                               b'{"t": "followers", "v": 1, "n": 3}\n', RELAY.encode(Followers(n=4))])
    got: list[object] = []
    await asyncio.wait_for(RelayLink(LinkConfig(path)).run(got.append), 10)
    server.close()
    assert [type(m) for m in got] == [Refused, Refused, Refused, Followers]
    assert "wire version 1" in got[2].why  # type: ignore[attr-defined]


async def test_a_presenters_link_to_a_relay_gone_before_a_word_refuses_nothing(tmp_path: Path) -> None:
    server, path = await fake_relay(tmp_path, [])
    got: list[object] = []
    await asyncio.wait_for(RelayLink(LinkConfig(path, "presenter", "token")).run(got.append), 10)
    server.close()
    assert got == []  # a relay that went away is not a message refused


async def test_a_presenter_whose_relay_says_nonsense_says_so_and_goes_on(tmp_path: Path) -> None:
    says = [b'{"t": "resume", "v": 1, "scene": null}\n', RELAY.encode(Followers(n=2)), b"\x1b[31m[bold]not json\n"]
    server, path = await fake_relay(tmp_path, says, hang_up=False)
    app = KnobApp(start_at("gradient"), link=LinkConfig(path, "presenter", "token"))
    async with app.run_test(size=(100, 30)) as pilot:
        for _ in range(500):
            if "not a JSON object" in app.stage.note[0]:
                break
            await pilot.pause(0.02)
        note, severity = app.stage.note
        assert note.startswith("Presenter mode: a message on the relay's link was refused")
        assert severity == "warning"
        assert app.stage.followers == 2  # the good message between the bad ones was taken
        assert "\x1b" not in note
        await pilot.press("space")
        assert app.session.iteration == 1
    server.close()


async def test_a_follower_refuses_an_old_state_and_keeps_its_own() -> None:
    from knobtui.learning import Session, get_preset
    app = KnobApp(start_at("gradient"), link=LinkConfig("/nonexistent/relay.sock", "follower"))
    async with app.run_test(size=(100, 30)) as pilot:
        for _ in range(500):  # no relay there: the messages come from the test
            if "relay has gone" in app.stage.link_status:
                break
            await pilot.pause(0.02)
        room = Session(get_preset("gradient").knobs, "gradient")
        room.run(4)
        old = json.dumps({"state": Scene(room.recipe(), "gradient").as_dict()}).encode()
        app.presenting.on_message(RELAY.decode(old))
        await pilot.pause()
        assert app.presenting.latest is None and "older knobtui" in app.stage.note[0]
        app.presenting.on_message(RELAY.decode(RELAY.encode(State.of(Scene(room.recipe(), "gradient")))))
        await pilot.press("F")  # follows again: becomes the room's newest scene, the good one
        assert app.session.iteration == 4


# ---- the spawner and the server's side of it --------------------------------------------------------------
def test_the_spawner_refuses_a_request_it_cannot_read() -> None:
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    wake = os.pipe()
    try:
        for data, says in ((b"\x00\x01", "not a JSON object"),
                           (b'{"id": 1, "args": [], "env": {}, "cwd": "/"}', "an older knobtui"),
                           (b'{"t": "spawn", "v": 1, "id": 1, "args": [], "env": {}, "cwd": "/"}', "wire version 1"),
                           (SPAWNER.encode(Ready()), "not a Ready")):
            answer(theirs, SPAWNER.decode(data), [], wake, wire.request_id(data))
            reply = SPAWNER.decode(ours.recv(65536))
            assert isinstance(reply, Failed) and says in reply.error
            assert reply.id == (None if data.startswith((b"\x00", b'{"t":"ready"')) else 1)  # the server stops waiting
        answer(theirs, Spawn(id=9, args=[], env={}, cwd="/"), [], wake)  # no terminal came with it
        assert SPAWNER.decode(ours.recv(65536)) == Failed(id=9, error="expected one terminal, got 0")
    finally:
        for s in (ours, theirs):
            s.close()
        for fd in wake:
            os.close(fd)


def test_the_server_logs_what_the_spawner_says_that_it_cannot_read() -> None:
    logged: list[str] = []
    spawner = Spawner({}, logged.append)
    spawner.receive(b"\xff garbage")
    spawner.receive(b'{"exit": 12, "status": 0}')  # the spawner of an older knobtui
    spawner.receive(b'{"t": "exited", "v": 1, "pid": 12, "status": 0}')
    spawner.receive(SPAWNER.encode(Spawn(id=1, args=[], env={}, cwd="/")))  # the server's own request, echoed
    spawner.receive(SPAWNER.encode(Failed(id=None, error="refused: not a JSON object")))
    spawner.receive(SPAWNER.encode(Exited(pid=12, status=0)))  # a good one: nothing to log
    assert [line.split(": ", 1)[0] for line in logged] == ["refused a message from the warm spawner"] * 4 + [
        "the warm spawner refused a request"]
    assert "not a JSON object" in logged[0] and "older knobtui" in logged[1] and "wire version 1" in logged[2]
    assert "a Spawn is not its to send" in logged[3]


# ---- a room's bus ----------------------------------------------------------------------------------------
def test_the_bus_refuses_garbled_old_and_mislabelled_entries() -> None:
    good = {b"p": b"2", b"v": b"7", b"k": b"state", b"n": b"x", b"b": BUS.encode(State.of(Scene({}, "gradient")))}
    assert isinstance(decode_entry(b"1-0", good).body, State)
    for body, says in ((b"\xff", "its state was refused: not a JSON object"),
                       (b'{"recipe": {}}', "its state was refused: no message type"),
                       (b'{"t": "state", "v": 1, "scene": {"recipe": {}}}', "its state was refused: wire version 1"),
                       (BUS.encode(Count(n=3)), "it holds a Count"),
                       (RELAY.encode(Followers(n=3)), "no such message type 'followers' on the bus socket")):
        with pytest.raises(BusRefused) as refused:
            decode_entry(b"1-0", {**good, b"b": body})
        assert says in str(refused.value)
    with pytest.raises(BusRefused, match="bus protocol '1'"):
        decode_entry(b"1-0", {**good, b"p": b"1"})


def test_the_decoders_are_typed_unions_of_the_wires_messages() -> None:
    """msgspec checks every field: nothing of a wrong type reaches a receiver."""
    bad = msgspec.json.encode({"t": "tally", "v": 2, "id": 1, "counts": {"up": -1}, "answered": 1})
    assert isinstance(RELAY.decode(bad), Refused)
