"""The wire's cost: encode + decode of each message, the untyped JSON dicts knobtui spoke before (the anchor)
against knobtui/wire.py's typed messages, side by side in one run.

    python bench/bench_wire.py               # best of 7 runs, 20,000 rounds each
    python bench/bench_wire.py --rounds 5000

Both sides do the same work a receiver did or does: the old side `json.dumps` the dict and `json.loads`
it, then checks it as the receiver did (Scene.from_dict, RoomQuestion.from_dict, the isinstance checks
of the counts and answers); the new side encodes the Struct and decodes it with the codec, which checks
it. "relay forward" is what the relay does with each presenter's state: read the line, check the scene,
write the line the followers get. Each pair is checked to carry the same content.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import timeit
from collections.abc import Callable
from typing import Any

from knobtui.learning import Scene, Session, get_preset
from knobtui.learning.predict import ask, position
from knobtui.wire import (RELAY, SPAWNER, Ask, Ballot, Followers, Hello, RoomQuestion, Spawn, Spawned, State, Tally,
                          scene_of)


def old_encode(message: dict[str, object]) -> bytes:
    """presenter/protocol.py's encode before the wire."""
    return (json.dumps(message, separators=(",", ":")) + "\n").encode()


def old_parse(line: bytes) -> dict[str, object] | None:
    try:
        message = json.loads(line)
    except (ValueError, RecursionError):
        return None
    return message if isinstance(message, dict) else None


def old_counts(message: dict[str, object]) -> tuple[int, dict[str, int], int] | None:
    data = message.get("answers")
    if not isinstance(data, dict):
        return None
    qid, counts, answered = data.get("id"), data.get("counts"), data.get("answered")
    if not (isinstance(qid, int) and isinstance(counts, dict) and isinstance(answered, int)):
        return None
    return qid, {str(k): v for k, v in counts.items() if isinstance(v, int) and v >= 0}, answered


def a_scene() -> Scene:
    """A presenter's scene after a lesson's worth of work: some knob changes, a hundred steps."""
    session = Session(get_preset("gradient").knobs, "gradient")
    for alpha in (0.1, 0.05, 0.2, 0.01):
        session.run(25)
        session.set_knobs(alpha=alpha)
    return Scene(session.recipe(), "gradient", frozenset({"goal"}), "Step 3 of 9: the learning rate",
                 "A smaller alpha takes smaller steps: the error falls slower, but it does not overshoot.")


def cases() -> list[tuple[str, Callable[[], Any], Callable[[], Any]]]:
    scene = a_scene()
    session = Session(get_preset("gradient").knobs, "gradient")
    question = ask(session, "direction")
    assert question is not None
    quiz = RoomQuestion.ask(4242, question, position(session))
    env = {"KNOBTUI_RELAY": "/tmp/knobtui-relay-1/relay.sock", "KNOBTUI_ROLE": "follower", "TERM": "xterm-256color",
           "LANG": "C.UTF-8", "KNOBTUI_VOTER": "3f9a1c"}
    spawn = {"id": 17, "args": ["--theme", "dark"], "env": env, "cwd": "/home/visitor", "nice": 10}

    def old_state() -> Any:
        message = old_parse(old_encode({"state": scene.as_dict()}))
        assert message is not None
        return Scene.from_dict(message["state"])

    def new_state() -> Any:
        return scene_of(RELAY.decode(RELAY.encode(State.of(scene))))  # type: ignore[arg-type]

    line_old, line_new = old_encode({"state": scene.as_dict()}), RELAY.encode(State.of(scene))

    def old_forward() -> Any:
        message = old_parse(line_old)
        assert message is not None
        return old_encode({"state": Scene.from_dict(message.get("state")).as_dict()})

    def new_forward() -> Any:
        message = RELAY.decode(line_new)
        assert isinstance(message, State)
        return RELAY.encode(message)

    def old_quiz() -> Any:
        message = old_parse(old_encode({"quiz": quiz.as_dict()}))
        assert message is not None
        return RoomQuestion.from_dict(message["quiz"])

    def new_quiz() -> Any:
        return RELAY.decode(RELAY.encode(Ask(quiz)))

    def old_ballot() -> Any:
        said = (old_parse(old_encode({"answer": {"id": 4242, "value": "down"}})) or {}).get("answer")
        assert isinstance(said, dict)
        return said.get("id"), said.get("value")

    def new_ballot() -> Any:
        return RELAY.decode(RELAY.encode(Ballot(id=4242, value="down")))

    def old_tally() -> Any:
        return old_counts(old_parse(old_encode({"answers": {"id": 4242, "counts": {"up": 120, "down": 97, "stay": 3},
                                                            "answered": 220}})) or {})

    def new_tally() -> Any:
        return RELAY.decode(RELAY.encode(Tally(id=4242, counts={"up": 120, "down": 97, "stay": 3}, answered=220)))

    def old_followers() -> Any:
        return (old_parse(old_encode({"followers": 300})) or {}).get("followers")

    def new_followers() -> Any:
        return RELAY.decode(RELAY.encode(Followers(n=300)))

    def old_hello() -> Any:
        hello = old_parse(old_encode({"role": "follower", "voter": "3f9a1c"})) or {}
        voter = hello.get("voter")
        return hello.get("role"), voter if isinstance(voter, str) and 0 < len(voter) <= 64 else None

    def new_hello() -> Any:
        return RELAY.decode(RELAY.encode(Hello(voter="3f9a1c")))

    def old_spawn() -> Any:
        request = json.loads(json.dumps(spawn).encode())
        return request.get("id"), [str(a) for a in request["args"]], {str(k): str(v) for k, v in request["env"].items()}

    def new_spawn() -> Any:
        return SPAWNER.decode(SPAWNER.encode(Spawn(id=17, args=["--theme", "dark"], env=env, cwd="/home/visitor",
                                                   nice=10)))

    def old_spawned() -> Any:
        message = json.loads(json.dumps({"id": 17, "pid": 40211}).encode())
        return int(message["id"]), int(message["pid"])

    def new_spawned() -> Any:
        return SPAWNER.decode(SPAWNER.encode(Spawned(id=17, pid=40211)))

    assert old_state() == new_state() == scene
    assert old_quiz() == new_quiz().quiz == quiz
    assert json.loads(old_forward())["state"] == json.loads(new_forward())["scene"]
    return [("state (a scene, 100 steps, 4 knob changes)", old_state, new_state),
            ("relay forward (a presenter's state)", old_forward, new_forward),
            ("question (open)", old_quiz, new_quiz), ("ballot", old_ballot, new_ballot),
            ("tally", old_tally, new_tally), ("followers", old_followers, new_followers),
            ("hello", old_hello, new_hello), ("spawn request", old_spawn, new_spawn),
            ("spawn reply", old_spawned, new_spawned)]


def best_us(fn: Callable[[], Any], rounds: int, runs: int) -> float:
    return min(timeit.repeat(fn, number=rounds, repeat=runs)) / rounds * 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args(argv)
    print(f"python {platform.python_version()} on {platform.machine()}, msgspec "
          f"{__import__('msgspec').__version__}; best of {args.runs} runs of {args.rounds} rounds")
    print(f"{'encode + decode (checked), µs per message':46} {'old: json dicts':>16} {'new: wire':>10} {'ratio':>7}")
    for name, old, new in cases():
        o, n = best_us(old, args.rounds, args.runs), best_us(new, args.rounds, args.runs)
        print(f"{name:46} {o:16.2f} {n:10.2f} {o / n:6.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
