"""A question for the room, on a real relay (a Unix socket): the wire (knobtui/wire.py), the relay's
count (one answer per voter, the last one; counts, never names), and the simulators' sides: the
presenter's bars and a follower's question, each driven by keys against raw sockets playing the other
side. The whole room over SSH is tests/e2e/test_room_answers.py's."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from appkit import start_at

from knobtui.learning import Scene, Session, get_preset
from knobtui.learning.narrator import HIDDEN
from knobtui.learning.predict import ask, position
from knobtui.presenter.protocol import LinkConfig
from knobtui.presenter.quiz import BallotBox
from knobtui.presenter.relay import Relay
from knobtui.wire import (RELAY, ROOM_ENV, Ask, Ballot, Clear, Followers, Hello, Message, Refused, Resume, Reveal,
                          RoomQuestion, State, Tally, quiz_of)
from knobtui.tui.app import KnobApp
from knobtui.tui.screens.room import RoomBarsScreen, RoomQuestionScreen
from knobtui.tui.widgets import ErrorPlot

SIZE = (100, 30)


def gradient_question(qid: int = 7) -> tuple[RoomQuestion, Session]:
    session = Session(get_preset("gradient").knobs, "gradient")
    question = ask(session, "direction")
    assert question is not None
    return RoomQuestion.ask(qid, question, position(session)), session


# ---- the wire ------------------------------------------------------------------------------------------
def test_an_open_question_does_not_carry_its_answer() -> None:
    quiz, session = gradient_question()
    wire = quiz.as_dict()
    assert "answer" not in wire and "why" not in wire and wire["phase"] == "open"
    assert RELAY.decode(RELAY.encode(Ask(quiz))) == Ask(quiz)
    full = ask(session, "direction")
    assert full is not None
    revealed = quiz.reveal(full).as_dict()
    assert revealed["answer"] == full.answer == "up" and revealed["why"] == full.why


@pytest.mark.parametrize("change", [
    {"id": 0}, {"id": True}, {"id": "7"}, {"phase": "closed"}, {"kind": "weather"}, {"choices": []},
    {"choices": [["up", "up", "up"]] * 2}, {"choices": [["x", "up", "up"], ["down", "down", "down"]]},
    {"text": "x" * 5000}, {"at": "here"}, {"phase": "reveal", "answer": "sideways", "why": ""},
])
def test_a_question_a_presenter_would_not_send_is_refused(change: dict[str, object]) -> None:
    quiz, _ = gradient_question()
    refused = RELAY.decode(json.dumps({"t": "question", "v": 2, "quiz": {**quiz.as_dict(), **change}}))
    assert isinstance(refused, Refused) and "'question'" in refused.why


def test_the_ballot_counts_each_voter_once_their_last_answer() -> None:
    quiz, session = gradient_question()
    ballot = BallotBox()
    ballot.set(quiz)
    assert ballot.vote("a", 7, "up") and ballot.vote("b", 7, "down") and ballot.vote("a", 7, "down")
    assert ballot.vote("a", 7, "down")  # the same answer again: accepted, still one answer
    assert not ballot.vote("c", 8, "up") and not ballot.vote("c", 7, "sideways") and not ballot.vote("", 7, "up")
    assert ballot.counts() == Tally(id=7, counts={"up": 0, "down": 2, "stay": 0}, answered=2)
    full = ask(session, "direction")
    assert full is not None
    ballot.set(quiz.reveal(full))
    assert not ballot.vote("c", 7, "up")  # closed
    assert ballot.answer_of("a") == "down"  # kept for the reveal
    ballot.set(None)
    assert ballot.answers == {}


# ---- the relay -----------------------------------------------------------------------------------------
class Line:
    """A raw connection to the relay, speaking the wire's messages."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.read: list[object] = []  # every message read so far

    @classmethod
    async def open(cls, relay: Relay, hello: Hello) -> Line:
        reader, writer = await asyncio.open_unix_connection(relay.path)
        writer.write(RELAY.encode(hello))
        return cls(reader, writer)

    def send(self, message: Message) -> None:
        self.writer.write(RELAY.encode(message))

    async def until(self, kind: Any, test: Any = None, timeout: float = 10.0) -> Any:
        """The next message of `kind` (a type, or a tuple of them) that passes `test`, when given."""
        async def read() -> object:
            while True:
                line = await self.reader.readline()
                assert line, f"the relay closed before a {kind!r} message"
                message = RELAY.decode(line)
                self.read.append(message)
                if isinstance(message, kind) and (test is None or test(message)):
                    return message
        return await asyncio.wait_for(read(), timeout)

    def close(self) -> None:
        self.writer.close()


async def presenter_line(relay: Relay) -> Line:
    token = relay.child_env(presenter=True)["KNOBTUI_RELAY_TOKEN"]
    line = await Line.open(relay, Hello(role="presenter", token=token))
    await line.until(Resume)
    return line


async def test_the_relay_counts_answers_once_per_voter_and_keeps_them_across_a_reconnect(relay: Relay) -> None:
    teacher = await presenter_line(relay)
    quiz, session = gradient_question()
    teacher.send(State.of(Scene(session.recipe(), "gradient")))
    students = {v: await Line.open(relay, Hello(voter=v)) for v in ("a", "b", "c")}
    renderer = await Line.open(relay, Hello())  # a shared view's: it shows, it does not vote
    await teacher.until(Followers, lambda m: m.n == 4)
    teacher.send(Ask(quiz))
    for line in [*students.values(), renderer]:
        assert quiz_of(await line.until((Ask, Reveal, Clear))) == quiz
    for voter, value in (("a", "up"), ("b", "down"), ("c", "up"), ("a", "down")):
        students[voter].send(Ballot(id=quiz.id, value=value))
    renderer.send(Ballot(id=quiz.id, value="up"))  # no voter: not counted
    students["b"].send(Ballot(id=quiz.id + 1, value="up"))  # another question: not counted
    students["c"].send(Ballot(id=quiz.id, value="sideways"))  # not a choice: not counted
    students["c"].send(Clear())  # a follower cannot clear the question
    counts = await teacher.until(Tally, lambda a: a.answered == 3 and a.counts == {"up": 1, "down": 2, "stay": 0})
    assert counts == Tally(id=quiz.id, counts={"up": 1, "down": 2, "stay": 0}, answered=3)

    students["a"].close()  # a reconnects: their answer is still theirs, and still counted once
    again = await Line.open(relay, Hello(voter="a"))
    assert quiz_of(await again.until((Ask, Reveal, Clear))) == quiz
    assert await again.until(Ballot) == Ballot(id=quiz.id, value="down")
    again.send(Ballot(id=quiz.id, value="up"))
    await teacher.until(Tally, lambda a: a.answered == 3 and a.counts == {"up": 2, "down": 1, "stay": 0})

    full = ask(session, "direction")
    assert full is not None
    teacher.send(Reveal(quiz.reveal(full)))
    revealed = quiz_of(await students["b"].until(Reveal))
    assert revealed is not None and revealed.question.answer == "up"
    students["b"].send(Ballot(id=quiz.id, value="up"))  # too late: closed
    teacher.send(Clear())
    assert quiz_of(await students["c"].until(Clear)) is None
    assert relay.ballot.answers == {}
    for line in [teacher, again, renderer, students["b"], students["c"]]:
        line.close()


async def test_a_follower_who_stops_reading_holds_back_neither_the_count_nor_the_others(relay: Relay) -> None:
    teacher = await presenter_line(relay)
    quiz, session = gradient_question()
    stalled = await Line.open(relay, Hello(voter="stalled"))
    stalled_sock = stalled.writer.get_extra_info("socket")
    stalled_sock.setsockopt(__import__("socket").SOL_SOCKET, __import__("socket").SO_RCVBUF, 4096)
    others = [await Line.open(relay, Hello(voter=f"v{n}")) for n in range(3)]
    stalled.send(Ballot(id=quiz.id, value="up"))  # too early: nothing is open yet
    big = Scene(session.recipe(), "gradient", note="x" * 200_000)  # fills the stalled follower's socket
    for n in range(5):
        teacher.send(State.of(Scene(session.recipe(), "gradient", note=f"{n}" * 200_000)))
    teacher.send(Ask(quiz))
    for n, line in enumerate(others):
        await line.until((Ask, Reveal, Clear))
        line.send(Ballot(id=quiz.id, value="down" if n else "up"))
    stalled.send(Ballot(id=quiz.id, value="up"))  # it still answers; it only stopped reading
    await teacher.until(Tally, lambda a: a.answered == 4 and a.counts == {"up": 2, "down": 2, "stay": 0})
    for line in [teacher, stalled, *others]:
        line.close()


# ---- the presenter's simulator -------------------------------------------------------------------------
def text_of(app: KnobApp) -> str:
    """What the top screen's widgets say (the bars panel's, the question's)."""
    return "\n".join(str(w.render()) for w in app.screen.query("Static, Bars"))


async def wait_until(pilot: object, test: object, timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not test():  # type: ignore[operator]
        assert loop.time() < end, "not seen in time"
        await pilot.pause(0.02)  # type: ignore[attr-defined]


async def test_the_presenter_asks_sees_the_counts_closes_and_steps(relay: Relay) -> None:
    env = relay.child_env(presenter=True)
    app = KnobApp(start_at("gradient"), link=LinkConfig.from_env(env))
    students = [await Line.open(relay, Hello(voter=f"s{n}")) for n in range(3)]
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.stage.link_status == "presenting to 3 followers")
        await pilot.press("a")
        assert isinstance(app.screen, RoomBarsScreen)
        assert app.view is not None and app.view.next_weight is HIDDEN and app.view.next_move is HIDDEN
        quizzes = [quiz_of(await s.until((Ask, Reveal, Clear))) for s in students]
        quiz = quizzes[0]
        assert quiz is not None and all(q == quiz for q in quizzes) and quiz.question.kind == "direction"
        assert "0 of 3 answered" in text_of(app)
        students[0].send(Ballot(id=quiz.id, value="up"))
        students[1].send(Ballot(id=quiz.id, value="down"))
        await wait_until(pilot, lambda: "2 of 3 answered" in text_of(app))
        bars = text_of(app)
        assert "↑ up" in bars and "↓ down" in bars
        await pilot.press("space")  # close: the reveal, then one step
        revealed = quiz_of(await students[2].until(Reveal))
        assert revealed is not None and revealed.question.answer == "up"
        state = await students[2].until(State, lambda s: s.scene["recipe"]["iteration"] == 1)
        assert state
        assert app.session.iteration == 1 and isinstance(app.screen, RoomBarsScreen)
        assert "✓ right" in text_of(app) and "1 of 2 right" in text_of(app)
        await pilot.press("space")  # go on: the question is over for everyone
        await students[0].until(Clear)
        assert not isinstance(app.screen, RoomBarsScreen) and app.session.iteration == 1
        await pilot.press("a", "escape")  # asked and taken back: nothing stepped
        await students[1].until(Clear)
        assert app.session.iteration == 1
        await pilot.press("a", "ctrl+p")  # while the room answers, the state holds still: no palette either
        assert isinstance(app.screen, RoomBarsScreen) and app.session.iteration == 1
    for s in students:
        s.close()


# ---- a follower's simulator ----------------------------------------------------------------------------
async def follower_room(relay: Relay) -> tuple[Line, RoomQuestion, Session, KnobApp]:
    """A raw presenter at the gradient preset's start, its question (not asked yet), and a follower's
    simulator with a vote."""
    teacher = await presenter_line(relay)
    quiz, session = gradient_question()
    teacher.send(State.of(Scene(session.recipe(), "gradient")))
    env = relay.child_env(presenter=False)
    app = KnobApp(start_at("gradient"), link=LinkConfig(env["KNOBTUI_RELAY"], "follower", voter="me"))
    return teacher, quiz, session, app


def plot_behind_on_screen(app: KnobApp) -> list[bool]:
    """Records, for every screen update from now on, whether the curve on it was drawn for an older view than
    the numbers beside it (a frame of numbers first, the curve in the next)."""
    plot = app.query_one(ErrorPlot)
    behind: list[bool] = []
    display = app._display

    def recording(screen: Any, update: Any) -> None:
        if update is not None:
            behind.append(not plot.drawn)
        display(screen, update)
    app._display = recording  # type: ignore[method-assign]
    return behind


@pytest.mark.parametrize("shared", [True, False])
async def test_a_shared_views_renderer_draws_a_state_in_one_frame(relay: Relay, shared: bool,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """A shared view's renderer (no voter, in the room) puts each presenter state on the screen whole, curve
    included, so the server sends one diff a state; a follower with a vote of its own draws the numbers first."""
    monkeypatch.setenv(ROOM_ENV, "1")
    teacher = await presenter_line(relay)
    session = Session(get_preset("gradient").knobs, "gradient")
    teacher.send(State.of(Scene(session.recipe(), "gradient")))
    env = relay.child_env(presenter=False)
    app = KnobApp(start_at("gradient"), link=LinkConfig(env["KNOBTUI_RELAY"], "follower",
                                                        voter="" if shared else "me"))
    async with app.run_test(size=SIZE) as pilot:
        assert app.presenting is not None and app.presenting.shared_view is shared
        plot = app.query_one(ErrorPlot)
        await wait_until(pilot, lambda: plot.drawn)  # laid out and drawn: no redraw from the start is due
        behind = plot_behind_on_screen(app)
        for _ in range(4):
            session.step()
            teacher.send(State.of(Scene(session.recipe(), "gradient")))
            await wait_until(pilot, lambda: app.session.iteration == session.iteration and plot.drawn)
            await pilot.pause()
        assert behind, "no screen update was seen"
        assert any(behind) is not shared
    teacher.close()


async def test_a_follower_answers_changes_their_mind_and_sees_whether_they_were_right(relay: Relay) -> None:
    teacher, quiz, session, app = await follower_room(relay)
    async with app.run_test(size=SIZE) as pilot:
        await teacher.until(Followers, lambda m: m.n == 1)
        teacher.send(Ask(quiz))
        await wait_until(pilot, lambda: isinstance(app.screen, RoomQuestionScreen))
        assert "Press a key to answer" in text_of(app)
        await pilot.press("down")
        await teacher.until(Tally, lambda a: a.counts == {"up": 0, "down": 1, "stay": 0})
        await pilot.press("up")  # a changed mind: still one answer
        await teacher.until(Tally, lambda a: a.counts == {"up": 1, "down": 0, "stay": 0} and a.answered == 1)
        assert "Your answer: up" in text_of(app)
        full = ask(session, "direction")
        assert full is not None
        session.step()
        teacher.send(Reveal(quiz.reveal(full)))
        teacher.send(State.of(Scene(session.recipe(), "gradient")))
        await wait_until(pilot, lambda: "You said up: right" in text_of(app) and app.session.iteration == 1)
        assert "The answer: up." in text_of(app)
        teacher.send(Clear())
        await wait_until(pilot, lambda: not isinstance(app.screen, RoomQuestionScreen))
    teacher.close()


async def test_a_follower_playing_alone_elsewhere_is_not_asked(relay: Relay) -> None:
    teacher, quiz, session, app = await follower_room(relay)
    async with app.run_test(size=SIZE) as pilot:
        await teacher.until(Followers, lambda m: m.n == 1)
        await pilot.press("d", "space", "space")  # alone, two steps on
        teacher.send(Ask(quiz))
        await wait_until(pilot, lambda: app.room_quiz.quiz is not None)
        assert not isinstance(app.screen, RoomQuestionScreen)
        await pilot.press("b", "b")  # back where the room is: now it is theirs
        await wait_until(pilot, lambda: isinstance(app.screen, RoomQuestionScreen))
    teacher.close()


async def test_a_lesson_steps_question_goes_to_the_room(relay: Relay) -> None:
    from knobtui.lessons import load_lesson
    env = relay.child_env(presenter=True)
    app = KnobApp(start_at("gradient"), lesson=load_lesson("chapter4"), link=LinkConfig.from_env(env))
    student = await Line.open(relay, Hello(voter="s"))
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: app.stage.link_status == "presenting to 1 follower")
        await pilot.press("n", "n")  # the third step asks "direction" (hot and cold)
        await pilot.press("space")
        assert isinstance(app.screen, RoomBarsScreen)
        quiz = quiz_of(await student.until((Ask, Reveal, Clear)))
        assert quiz is not None and quiz.question.kind == "direction"
        assert [c.value for c in quiz.question.choices] == ["up", "down", "stay"]  # hot and cold may stay
    student.close()


async def test_a_presenter_who_reconnects_takes_the_open_question_up_again(relay: Relay) -> None:
    quiz, session = gradient_question()
    first = await presenter_line(relay)  # a presenter asked, then lost the connection
    first.send(State.of(Scene(session.recipe(), "gradient")))
    first.send(Ask(quiz))
    student = await Line.open(relay, Hello(voter="s"))
    await student.until((Ask, Reveal, Clear))
    student.send(Ballot(id=quiz.id, value="up"))
    assert await student.until(Ballot) == Ballot(id=quiz.id, value="up")  # counted: the relay says so
    await first.until(Tally, lambda a: a.answered == 1)
    first.close()
    env = relay.child_env(presenter=True)
    app = KnobApp(start_at("gradient"), link=LinkConfig.from_env(env))
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, RoomBarsScreen))
        await wait_until(pilot, lambda: "1 of 1 answered" in text_of(app))
        assert isinstance(app.screen, RoomBarsScreen) and app.screen.bars.counts == {"up": 1, "down": 0, "stay": 0}
        await pilot.press("space")  # closes it: the reveal reaches the follower, with the engine's answer
        await wait_until(pilot, lambda: "1 of 1 right" in text_of(app))
        revealed = quiz_of(await student.until(Reveal))
        assert revealed is not None and revealed.id == quiz.id and revealed.question.answer == "up"
    student.close()


async def test_a_question_cleared_under_help_goes_when_help_closes_and_a_new_one_is_drawn_whole(
        relay: Relay) -> None:
    teacher, quiz, session, app = await follower_room(relay)
    async with app.run_test(size=SIZE) as pilot:
        await teacher.until(Followers, lambda m: m.n == 1)
        teacher.send(Ask(quiz))
        await wait_until(pilot, lambda: isinstance(app.screen, RoomQuestionScreen))
        first = app.screen
        full = ask(session, "direction")
        assert full is not None
        second = RoomQuestion.ask(quiz.id + 1, full, quiz.at)
        teacher.send(Ask(second))  # taken back and asked again: a new screen, drawn whole
        await wait_until(pilot, lambda: isinstance(app.screen, RoomQuestionScreen) and app.screen is not first)
        assert app.screen.quiz.id == second.id  # type: ignore[attr-defined]
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: type(app.screen).__name__ == "HelpScreen")
        teacher.send(Clear())  # cleared while help is on top: help stays
        await wait_until(pilot, lambda: app.room_quiz.quiz is None)
        await pilot.pause()
        assert type(app.screen).__name__ == "HelpScreen"
        await pilot.press("escape")  # help closes, and the stale question with it
        await wait_until(pilot, lambda: not isinstance(app.screen, (RoomQuestionScreen,)) and
                         type(app.screen).__name__ != "HelpScreen")
        assert len(app.screen_stack) == 1
    teacher.close()


async def test_an_answer_after_the_reveal_is_not_counted_nor_confirmed(relay: Relay) -> None:
    teacher = await presenter_line(relay)
    quiz, session = gradient_question()
    student = await Line.open(relay, Hello(voter="s"))
    teacher.send(Ask(quiz))
    await student.until((Ask, Reveal, Clear))
    full = ask(session, "direction")
    assert full is not None
    teacher.send(Reveal(quiz.reveal(full)))
    await student.until(Reveal)
    student.send(Ballot(id=quiz.id, value="up"))  # crossed the reveal
    student.send(Ballot(id=quiz.id + 1, value="up"))
    teacher.send(Clear())
    await student.until(Clear)
    assert not any(isinstance(m, Ballot) for m in student.read) and relay.ballot.answers == {}
    teacher.close()
    student.close()
