"""The server's side of a question in a shared view, without a server: a follower's own line on the row
the server owns (serve/room.py), where the renderer's stream is at rest (serve/escapes.py), what a
follower typed (serve/visit.py view_keys), and who answers (serve/voters.py); and what of the presenter's
typing holds the room's renderers (pointer_moved)."""

from __future__ import annotations

import asyncio

import pyte

from knobtui.learning import Session, get_preset
from knobtui.learning.predict import ask, position
from knobtui.presenter.quiz import own_line
from knobtui.serve.escapes import Escapes
from knobtui.serve.room import OwnLine, View, ViewKey, draw_own, own_row, view_size
from knobtui.serve.visit import pointer_moved, view_keys
from knobtui.serve.voters import Voters
from knobtui.wire import RoomQuestion


def test_the_stream_is_at_rest_only_between_sequences_and_characters() -> None:
    e = Escapes()
    assert e.feed(b"\x1b[1;1Hplain \x1b[0m") and e.at_rest
    assert not e.feed(b"\x1b[0m\xe2") and not e.at_rest  # a box-drawing character cut in two
    assert e.feed(b"\x94\x80") and e.at_rest
    assert not e.feed(b"\x1b[?2026$") and e.feed(b"p")  # a CSI with an intermediate byte, then its final
    assert not e.feed(b"\x1b]8;;http://x\x1b") and e.feed(b"\\text")  # an OSC ended by ESC \ across reads
    assert not e.feed(b"\x1b]52;c;" + b"A" * 5000)  # a long string stays a string
    assert not e.feed(b"A" * 5000)
    assert e.feed(b"AAA\x07")
    assert not e.feed(b"\x1b") and e.feed(b"7")  # ESC at the very end
    assert not e.feed(b"\x1b(") and e.feed(b"B")


def test_a_followers_own_line_is_printable_ascii_on_its_own_row() -> None:
    session = Session(get_preset("gradient").knobs, "gradient")
    question = ask(session, "direction")
    assert question is not None
    quiz = RoomQuestion.ask(5, question, position(session))
    assert own_line(None, None) == ("", "")
    assert own_line(quiz, "up") == ("Your answer: up  (another key changes it)", "")
    revealed = quiz.reveal(question)
    assert own_line(revealed, "down") == ("You said down: not right.", "wrong")
    assert own_line(revealed, None) == ("You did not answer.", "")
    line, rows = draw_own(OwnLine("x\x1b]0;pwned\x07 é", "right"), 80, 24)
    assert line.startswith(b"\x1b[25;1H\x1b[0;1;7m ") and line.endswith(b"\x1b[0m") and rows == {24}
    assert b"\x1b]" not in line and b"x?]0;pwned? ?" in line and len(line.split(b"m", 1)[1]) == 80 + 4
    assert draw_own(OwnLine("Your answer: up"), 80, 23)[0].startswith(b"\x1b[24;1H\x1b[0;7m Your answer: up ")
    notice, rows = draw_own(OwnLine("Sorry: " + "a limit, " * 12, "wrong", lines=2), 80, 24)
    assert rows == {23, 24} and notice.count(b";1H") == 2  # a notice wraps onto the row above
    assert draw_own(None, 80, 24) == (b"", frozenset()) and draw_own(OwnLine(""), 80, 24)[0] == b""


def test_the_view_renders_one_row_short_except_at_24_rows() -> None:
    assert view_size(100, 30) == (100, 29) and own_row(29, 30) == 29  # the row below the view
    assert view_size(80, 27) == (80, 24) and own_row(24, 27) == 24
    assert view_size(200, 60) == (200, 59)
    # 80x24: the lesson layout needs all 24 rows, so the own line borrows the view's last (the key bar)
    assert view_size(80, 24) == (80, 24) and own_row(24, 24) == 23
    assert view_size(70, 20) == (70, 20) and own_row(20, 20) == 19  # smaller: its own size


class Seated:
    """A follower's terminal (pyte) with an own line the test sets."""

    def __init__(self, cols: int, rows: int) -> None:
        self.screen = pyte.Screen(cols, rows)
        self.stream = pyte.ByteStream(self.screen)
        self.own: OwnLine | None = OwnLine("Your answer: up  (another key changes it)")
        self.written = 0

    def view_ready(self) -> bool:
        return True

    def view_write(self, data: bytes) -> None:
        self.written += len(data)
        self.stream.feed(data)

    def view_lost(self) -> None:
        raise AssertionError("no renderer here")

    def view_own(self) -> OwnLine | None:
        return self.own


async def test_the_own_line_goes_on_its_row_and_the_view_under_it_comes_back() -> None:
    never: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def start(key: ViewKey) -> object:
        await never  # no renderer: the test feeds the view's screen model itself
        raise OSError("the test is over")

    view = View(ViewKey(80, 24, "xterm-256color"), start, lambda v: None, lambda line: None)  # type: ignore[arg-type]
    view.screen.feed(b"\x1b[1;1Hweight 0.5\x1b[24;1H d alone  q quit")
    view.frame()
    below, borrowed = Seated(80, 25), Seated(80, 24)
    view.join(below, own_row(24, 25))
    view.join(borrowed, own_row(24, 24))
    assert below.screen.display[23].startswith(" d alone  q quit")  # the view, whole
    assert below.screen.display[24].startswith(" Your answer: up") and below.screen.buffer[24][1].reverse
    assert borrowed.screen.display[23].startswith(" Your answer: up") and borrowed.screen.buffer[23][1].reverse
    view.screen.feed(b"\x1b[24;1H d alone  q quit!")  # the renderer writes under a borrowed row
    view.frame()
    for _ in range(3):  # the frame goes out on the room's pump (room.Pump), a turn of the loop at a time
        await asyncio.sleep(0)
    assert below.screen.display[23].startswith(" d alone  q quit!")
    assert borrowed.screen.display[23].startswith(" Your answer: up")  # drawn again over it
    sent = below.written
    below.own = borrowed.own = OwnLine("Your answer: down  (another key changes it)")
    view.own_changed()
    assert below.screen.display[24].startswith(" Your answer: down")
    assert below.written - sent < 100  # one row, nothing of the view
    below.own = borrowed.own = None  # the question is over
    view.own_changed()
    assert below.screen.display[24].strip() == "" and not below.screen.buffer[24][1].reverse
    assert borrowed.screen.display[23].startswith(" d alone  q quit!")  # the model's row put back
    assert below.screen.display[:24] == borrowed.screen.display[:24]
    never.set_result(None)
    await view.close()


def test_keys_in_a_shared_view_read_escape_sequences_whole() -> None:
    typed = b"\x1b[?2026;2$y" + b"\x1b]11;rgb:0000/0000/0000\x07" + b"q\x1b[A\x1bOBsd\x1b[1;5A\x1b"
    assert view_keys(typed) == ["q", "up", "down", "s", "d"]  # a terminal's replies are not keys
    assert view_keys(b"yn\x03") == ["y", "n", "\x03"]


def test_a_reconnect_takes_its_seat_back_and_two_at_once_hold_two() -> None:
    voters = Voters()
    a, b, c = object(), object(), object()
    first = voters.seat("ssh:guest@10.0.0.1", a)
    second = voters.seat("ssh:guest@10.0.0.1", b)  # the same name behind the same address, at once
    assert first != second
    voters.leave("ssh:guest@10.0.0.1", a)
    assert voters.seat("ssh:guest@10.0.0.1", c) == first  # a reconnect: the free seat, its voter id
    voters.leave("ssh:guest@10.0.0.1", b)
    voters.leave("ssh:guest@10.0.0.1", c)
    voters.prune()  # the question is over: nobody holds these seats, they are forgotten
    assert voters.seat("ssh:guest@10.0.0.1", a) not in (first, second)


def test_the_presenter_pointing_with_the_mouse_holds_up_no_renderer() -> None:
    """Mouse motion (SGR reports with the motion bit, Textual asks for any motion) is not a key: it draws
    nothing on the projected screen, so the room's renderers are not stopped for it. Buttons and keys are."""
    assert pointer_moved(b"\x1b[<35;10;5M")  # moving, no button
    assert pointer_moved(b"\x1b[<35;10;5M\x1b[<32;11;5M")  # and dragging with a button held
    assert not pointer_moved(b"\x1b[<0;10;5M")  # a click
    assert not pointer_moved(b"\x1b[<35;10;5M\x1b[<0;10;5m")  # moving, then a button let go
    assert not pointer_moved(b"\x1b[<64;10;5M")  # the wheel
    assert not pointer_moved(b"\x1b[B")
    assert not pointer_moved(b"\x1b[<35;10;5M ")
