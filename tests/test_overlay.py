"""The server's side of a question in a shared view, without a server: where a follower's own line may go
in the renderer's stream (serve/overlay.py), what a follower typed (serve/visit.py view_keys), and who
answers (serve/voters.py)."""

from __future__ import annotations

from knobtui.learning import Session, get_preset
from knobtui.learning.predict import ask, position
from knobtui.presenter.quiz import RoomQuestion, own_line
from knobtui.serve.overlay import Escapes, overlay
from knobtui.serve.visit import view_keys
from knobtui.serve.voters import Voters


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


def test_a_followers_own_line_is_printable_ascii_in_the_panel() -> None:
    session = Session(get_preset("gradient").knobs, "gradient")
    question = ask(session, "direction")
    assert question is not None
    quiz = RoomQuestion.ask(5, question, position(session))
    assert own_line(None, None) == ("", "")
    assert own_line(quiz, "up") == ("Your answer: up  (another key changes it)", "")
    revealed = quiz.reveal(question)
    assert own_line(revealed, "down") == ("You said down: not right.", "wrong")
    assert own_line(revealed, None) == ("You did not answer.", "")
    line = overlay("x\x1b]0;pwned\x07 é", "right", 80, 24, colour=True)
    assert line.startswith(b"\x1b7\x1b[23;3H\x1b[0;1;32m") and line.endswith(b"\x1b[0m\x1b8")
    assert b"\x1b]" not in line and b"x?]0;pwned? ?" in line and len(line.split(b"m", 1)[1]) > 76
    assert overlay("You said up: right.", "right", 80, 24, colour=False).count(b"32") == 0
    assert overlay("", "", 80, 24, colour=True) == b""


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
