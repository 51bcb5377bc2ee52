"""A question for the room over real SSH on 127.0.0.1: a presenter asks, 20 followers in shared views
answer known choices with one key each, the presenter's counts are exact, a follower who reconnects is
counted once and keeps their answer, a follower who stopped reading holds back nobody, and closing
the question steps once and tells each follower whether they were right."""

from __future__ import annotations

import asyncio
import re

import asyncssh

from harness import Server, Visitor

UP, DOWN = b"\x1b[A", b"\x1b[B"
STEPPED = re.compile(r"weight\s+0\.775\b")  # the gradient preset after one step (the book's 0.775)


def bars(v: Visitor) -> dict[str, int]:
    """The presenter's bars as read off its screen: choice -> count."""
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"[↑↓] (up|down) +[█░]+ +(\d+)", v.text())}


async def counted(teacher: Visitor, answered: int, up: int, down: int) -> None:
    await teacher.wait_for(f"{answered} of ")
    deadline = asyncio.get_running_loop().time() + 30
    while bars(teacher) != {"up": up, "down": down}:
        assert asyncio.get_running_loop().time() < deadline, f"counts {bars(teacher)}; the screen:\n{teacher.text()}"
        await asyncio.sleep(0.05)
    assert f"{answered} of 20 answered" in teacher.text()


async def test_a_room_of_twenty_answers_and_the_presenter_counts_exactly(
        presenting: Server, presenter_key: asyncssh.SSHKey) -> None:
    teacher = await Visitor.open(presenting.port, 100, 30, username="teacher", client_keys=[presenter_key])
    sizes = [(80, 24), (120, 40)]
    students = [await Visitor.open(presenting.port, *sizes[n % 2], username=f"student{n}") for n in range(20)]
    rejoined: Visitor | None = None
    try:
        await teacher.wait_for("presenting to 20 followers")
        for s in students:
            await s.wait_for("following the presenter")
        teacher.press(b"a")  # ask the room
        await teacher.wait_for("0 of 20 answered")
        for s in students:
            await s.wait_for("Will the weight go up or down?")
            await s.wait_for("Press a key to answer")  # the server's line, for this follower alone
        stalled = students[19]
        stalled.stop_reading()  # it stops reading: its screen backs up; it can still answer
        choices = [UP] * 12 + [DOWN] * 8  # known answers: 12 up, 8 down
        for s, key in zip(students, choices):
            s.press(key)
        students[3].press(DOWN + UP + UP)  # a changed mind, then the same answer again: still one answer
        await counted(teacher, 20, 12, 8)
        for s, key in zip(students[:19], choices):
            await s.wait_for(f"Your answer: {'up' if key == UP else 'down'}")

        students[0].close()  # a follower who answered up drops out and comes back under the same name
        await teacher.wait_for("20 answered, 19 here now")  # gone, but their answer stays
        rejoined = await Visitor.open(presenting.port, 80, 24, username="student0")
        await rejoined.wait_for("Your answer: up")  # their answer survived
        rejoined.press(DOWN)  # and they change it: still counted once
        await counted(teacher, 20, 11, 9)

        teacher.press(b" ")  # close: the answer to everyone, then one step
        await teacher.wait_for("✓ right")
        await teacher.wait_for("11 of 20 right")
        await teacher.wait_for(STEPPED)  # one step: the weight knob is the new weight
        for s, key in zip(students[1:19], choices[1:19]):
            await s.wait_for("You said up: right." if key == UP else "You said down: not right.")
            await s.wait_for(STEPPED)
        await rejoined.wait_for("You said down: not right.")

        teacher.press(b" ")  # go on: the question is over for everyone
        for s in [rejoined, *students[1:19]]:
            await s.wait_for(re.compile(r"following the presenter"))
        await asyncio.sleep(0)
        for s in [rejoined, *students[1:19]]:
            text = await s.wait_for("iteration 1 ")
            assert "You said" not in text and "The answer" not in text
    finally:
        for v in [teacher, *students, *([rejoined] if rejoined else [])]:
            v.close()


async def test_a_follower_playing_alone_answers_from_their_own_simulator_only_where_the_room_is(
        presenting: Server, presenter_key: asyncssh.SSHKey) -> None:
    teacher = await Visitor.open(presenting.port, 100, 30, username="teacher", client_keys=[presenter_key])
    here = await Visitor.open(presenting.port, 100, 30, username="here")
    away = await Visitor.open(presenting.port, 100, 30, username="away")
    try:
        await teacher.wait_for("presenting to 2 followers")
        here.press(b"d")  # alone, where the room is
        away.press(b"d")
        await here.wait_for("playing alone")
        await away.wait_for("playing alone")
        away.press(b"  ")  # alone, two steps further
        await away.wait_for("iteration 2 ")
        teacher.press(b"a")
        await here.wait_for("Will the weight go up or down?")
        here.press(UP)
        await here.wait_for("Your answer: up")
        await counted_alone(teacher)
        assert "Will the weight" not in away.text()  # not asked: elsewhere
        teacher.press(b" ")
        await here.wait_for("You said up: right")
    finally:
        for v in (teacher, here, away):
            v.close()


async def counted_alone(teacher: Visitor) -> None:
    await teacher.wait_for("1 of 2 answered")
    assert bars(teacher) == {"up": 1, "down": 0}
