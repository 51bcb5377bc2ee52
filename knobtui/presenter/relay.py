"""Presenter mode's relay (the server's side): the presenter's scene, as small messages, to every follower.

Every `knobtui` child of `knobtui serve` connects to one Unix socket. The presenter's children send
their state (a recipe of a few hundred bytes: knobs, method, iteration, preset, lesson note) after each
change; the relay keeps the latest and hands it to each follower. Each follower has one slot that
holds only the newest state, so a follower that stops reading falls behind alone: the presenter and
the other followers never wait for it.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import tempfile
from collections.abc import Callable

from ..wire import (MAX_LINE, RELAY, TOKEN_ENV, Ask, Ballot, BusMessage, BusStatus, Clear, Followers, Hello, Refused,
                    Resume, Reveal, RoomQuestion, State, Vote, plain, quiz_message, quiz_of)
from .protocol import LinkConfig
from .quiz import BallotBox

PREFIX = "knobtui-relay-"
COUNTS_EVERY = 0.05  # seconds: answers arriving together reach the presenter as one count


def remove_stale(prefixes: tuple[str, ...] = (PREFIX,), tmp: str | None = None) -> None:
    """Remove folders left by servers that were killed (`PREFIX<pid>-...`, that pid gone, ours)."""
    tmp = tmp or tempfile.gettempdir()
    try:
        names = os.listdir(tmp)
    except OSError:
        return
    for name in names:
        prefix = next((p for p in prefixes if name.startswith(p)), None)
        if prefix is None:
            continue
        pid_text = name[len(prefix):].split("-", 1)[0]
        path = os.path.join(tmp, name)
        try:
            if not pid_text.isdigit() or os.stat(path).st_uid != os.getuid():
                continue
            os.kill(int(pid_text), 0)
        except ProcessLookupError:
            shutil.rmtree(path, ignore_errors=True)
        except OSError:
            continue



class _Slot:
    """The newest lines not yet written to one follower (a scene, a question, their own answer), and the
    task that writes them, in the order they last changed."""

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self.writer = writer
        self.pending: dict[str, bytes] = {}
        self.ready = asyncio.Event()
        self.task = asyncio.ensure_future(self._run())

    def put(self, kind: str, line: bytes) -> None:
        self.pending.pop(kind, None)  # an older line of the same kind is replaced: a slow follower skips to the newest
        self.pending[kind] = line
        self.ready.set()

    async def _run(self) -> None:
        try:
            while True:
                await self.ready.wait()
                self.ready.clear()
                lines, self.pending = list(self.pending.values()), {}
                for line in lines:
                    self.writer.write(line)
                await self.writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass


class Relay:
    """The Unix socket the children connect to; a one-time token says who is a presenter.

    Each presenter session gets its own token, good for one connection: once its simulator has said
    hello, the token is spent, so a copy read from that process's environment is worth nothing.
    A presenter who connects is sent the room's latest state first (wire.Resume), so a presenter who
    reconnects carries on from where the room is instead of resetting it. A line the relay cannot read, or
    one the sender's role may not send, is answered with wire.Refused (and said in the log), never dropped
    silently.

    A room question (quiz.py) travels like a scene: the newest one to every follower. Answers come from
    followers' simulators (under the voter the server gave them) or from the server itself (`vote`, for
    followers in a shared view); the presenters get the counts.
    """

    def __init__(self, folder: str | None = None, log: Callable[[str], None] = lambda message: None) -> None:
        self._own = folder is None  # a folder of its own is removed on close; a given one is its owner's
        self._dir = folder or tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-")
        os.chmod(self._dir, 0o700)
        self.path = os.path.join(self._dir, "relay.sock")
        self._tokens: set[str] = set()
        self.latest: bytes | None = None  # the room's newest state, as sent to followers
        self.latest_state: State | None = None
        self.followers: dict[asyncio.StreamWriter, _Slot] = {}
        self.presenters: set[asyncio.StreamWriter] = set()
        self.ballot = BallotBox()
        self.latest_quiz: bytes | None = None  # the room's newest question, as sent to followers
        self._voters: dict[asyncio.StreamWriter, str] = {}
        self._order: list[str] = []  # the kinds of line changed since the last broadcast, oldest first
        self._counts_timer: asyncio.TimerHandle | None = None
        self._server: asyncio.AbstractServer | None = None
        self.latest_bus: bytes | None = None  # BusStatus(up=False) while the room's bus is unreachable
        self.refused = 0  # lines refused (tests read it)
        self.log = log
        """Where a refused line is said (the server's log), once per connection."""

    async def start(self) -> None:
        self._server = await asyncio.start_unix_server(self._handle, self.path, limit=MAX_LINE)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for slot in self.followers.values():
            slot.task.cancel()
        if self._counts_timer is not None:
            self._counts_timer.cancel()
        for writer in list(self.followers) + list(self.presenters):
            writer.close()
        if self._own:
            shutil.rmtree(self._dir, ignore_errors=True)
        else:
            try:
                os.unlink(self.path)
            except OSError:
                pass

    def child_env(self, presenter: bool) -> dict[str, str]:
        """What a child needs to join: the socket, and a fresh one-time token if it presents."""
        token = secrets.token_hex(16) if presenter else ""
        if token:
            self._tokens.add(token)
        return LinkConfig(self.path, "presenter" if presenter else "follower", token).env()

    def revoke(self, env: dict[str, str]) -> None:
        """Spend a session's token if its simulator never used it (the session ended first)."""
        self._tokens.discard(env.get(TOKEN_ENV, ""))

    def _spend(self, token: object) -> bool:
        for known in list(self._tokens):
            if secrets.compare_digest(str(token).encode(), known.encode()):
                self._tokens.discard(known)
                return True
        return False

    hold: Callable[[Callable[[], None]], None] | None = None
    """When set, a new state reaches the followers when this calls back (the server lets the presenter's
    own frame out first: the screen the room looks at must not wait for the room's renderers)."""
    _held = False

    def _broadcast(self) -> None:
        """The newest state and question to every follower, in the order they changed (those that came
        while held are skipped: only the newest)."""
        self._held = False
        order, self._order = self._order, []
        for kind in order:
            line = self.latest if kind == "state" else self.latest_quiz
            if line is not None:
                for slot in self.followers.values():
                    slot.put(kind, line)

    def _changed(self, kind: str) -> None:
        if kind in self._order:
            self._order.remove(kind)
        self._order.append(kind)
        if self.hold is None:
            self._broadcast()
        elif not self._held:
            self._held = True
            self.hold(self._broadcast)

    on_quiz: Callable[[bool], None] | None = None
    """Called when the room's question changes, with True for a new one (the server shows shared views'
    followers their own answer)."""

    def set_quiz(self, quiz: RoomQuestion | None) -> None:
        """The presenter asked, revealed or cleared the room's question."""
        asked = quiz is not None and (self.ballot.quiz is None or quiz.id != self.ballot.quiz.id)
        self.ballot.set(quiz)
        self.latest_quiz = RELAY.encode(quiz_message(quiz))
        self._changed("quiz")
        self._send_counts()
        if self.on_quiz is not None:
            self.on_quiz(asked)

    outbox: Callable[[BusMessage], None] | None = None
    """When set (a room served by several nodes: serve/bus.py), the presenter's states and questions and
    the followers' answers go there instead of being applied here; the bus applies them (through
    `apply_state`, `set_quiz`, `apply_answer`) in the room's one order, on every node alike."""

    on_answer: Callable[[str], None] | None = None
    """Called with a voter's id once their answer counts (the server rewrites that follower's own line)."""

    def apply_state(self, state: State) -> None:
        """The room's newest state: to every follower."""
        self.latest_state = state
        self.latest = RELAY.encode(state)
        self._changed("state")

    def vote(self, voter: str, qid: int, value: str) -> bool:
        """A follower's answer to the open question (again: their changed mind); True if it counts (with a
        bus: if it was sent to be counted in the room's order)."""
        if not self.ballot.valid(voter, qid, value):
            return False
        if self.outbox is not None:
            self.outbox(Vote(voter=voter, id=qid, value=value))
            return True
        return self.apply_answer(voter, qid, value)

    def apply_answer(self, voter: str, qid: int, value: str) -> bool:
        """Count a follower's answer; their simulators hear that it counts; the presenters get the counts
        (at most every COUNTS_EVERY)."""
        if not self.ballot.vote(voter, qid, value):
            return False
        yours = RELAY.encode(Ballot(id=qid, value=value))
        for writer, who in self._voters.items():
            if who == voter and writer in self.followers:
                self.followers[writer].put("yours", yours)
        if self._counts_timer is None:
            self._counts_timer = asyncio.get_running_loop().call_later(COUNTS_EVERY, self._send_counts)
        if self.on_answer is not None:
            self.on_answer(voter)
        return True

    def replace_answers(self, answers: dict[str, str]) -> None:
        """The room's answers to the open question, as the bus holds them (a node catching up)."""
        if self.ballot.quiz is None:
            return
        self.ballot.replace(answers)
        self._send_counts()
        if self.on_answer is not None:
            for voter in list(self.ballot.answers):
                self.on_answer(voter)

    def bus_status(self, up: bool) -> None:
        """Tell every simulator whether the room's bus is reachable (they say so on their status line)."""
        line = RELAY.encode(BusStatus(up=up))
        self.latest_bus = None if up else line
        for slot in self.followers.values():
            slot.put("bus", line)
        for writer in list(self.presenters):
            if not writer.is_closing():
                writer.write(line)
        if up:
            self._count_changed()

    def _send_counts(self) -> None:
        """How the room answered, to the presenters: counts only, never who."""
        if self._counts_timer is not None:
            self._counts_timer.cancel()
            self._counts_timer = None
        if self.ballot.quiz is None:
            return
        line = RELAY.encode(self.ballot.counts())
        for writer in list(self.presenters):
            if not writer.is_closing():
                writer.write(line)

    audience: Callable[[], int] | None = None
    """How many people follow, when the server knows better than the relay's connections (shared views:
    one renderer's connection serves many followers)."""

    def announce(self) -> None:
        """Tell the presenters how many follow (the server calls it when people come and go)."""
        self._count_changed()

    elsewhere: Callable[[], int] | None = None
    """How many follow on the room's other nodes (serve/bus.py)."""

    on_local_count: Callable[[int], None] | None = None
    """Called with how many follow here whenever it may have changed (the bus tells the other nodes)."""

    def _count_changed(self) -> None:
        n = self.audience() if self.audience is not None else len(self.followers)
        if self.on_local_count is not None:
            self.on_local_count(n)
        n += self.elsewhere() if self.elsewhere is not None else 0
        line = RELAY.encode(Followers(n=n))
        for writer in list(self.presenters):
            if not writer.is_closing():
                writer.write(line)  # tiny; a presenter reads its socket all the time

    def _refuse(self, writer: asyncio.StreamWriter, why: str, first: bool) -> None:
        """Answer a line this relay does not take with Refused(why); say it in the log once a connection."""
        self.refused += 1
        if not writer.is_closing():
            writer.write(RELAY.encode(Refused(why=why)))
        if first:
            self.log(f"relay: refused a simulator's line: {plain(why)}")

    async def _line(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bytes:
        """The next line, or b"" when the simulator is gone or sent a line longer than MAX_LINE (refused)."""
        try:
            return await reader.readline()
        except ValueError:  # StreamReader.readline's word for a line over its limit
            self._refuse(writer, f"a line longer than {MAX_LINE} bytes; the relay hangs up", True)
            return b""

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        role = None
        said_refused = False
        try:
            first = await self._line(reader, writer)
            if not first:
                return  # gone before a word (or a line too long)
            hello = RELAY.decode(first)
            if not isinstance(hello, Hello):
                self._refuse(writer, hello.why if isinstance(hello, Refused) else
                             f"the first line says who you are (hello), not {type(hello).__name__}", True)
                await writer.drain()
                return
            if hello.role == "presenter" and self._spend(hello.token):
                role = "presenter"
                self.presenters.add(writer)
                writer.write(RELAY.encode(Resume(scene=self.latest_state.scene if self.latest_state else None)))
                if self.latest_bus is not None:
                    writer.write(self.latest_bus)
                if self.latest_quiz is not None and self.ballot.quiz is not None:
                    writer.write(self.latest_quiz)  # a presenter who reconnects takes the question up again
                    writer.write(RELAY.encode(self.ballot.counts()))
                self._count_changed()
            else:
                role = "follower"
                if hello.voter:
                    self._voters[writer] = hello.voter
                slot = self.followers[writer] = _Slot(writer)
                if self.latest_bus is not None:
                    slot.put("bus", self.latest_bus)
                if self.latest is not None:
                    slot.put("state", self.latest)
                if self.latest_quiz is not None:
                    slot.put("quiz", self.latest_quiz)
                    theirs = self.ballot.answer_of(self._voters.get(writer, ""))
                    if theirs is not None and self.ballot.quiz is not None:  # it survives their reconnecting
                        slot.put("yours", RELAY.encode(Ballot(id=self.ballot.quiz.id, value=theirs)))
                self._count_changed()
            while True:
                line = await self._line(reader, writer)
                if not line:
                    break
                message = RELAY.decode(line)
                why = self._take(writer, role, message)
                if why is not None:
                    self._refuse(writer, why, not said_refused)
                    said_refused = True
        except (ConnectionError, asyncio.LimitOverrunError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass
        finally:
            if role == "presenter":
                self.presenters.discard(writer)
            elif writer in self.followers:
                self.followers.pop(writer).task.cancel()
                self._voters.pop(writer, None)
                self._count_changed()
            writer.close()

    def _take(self, writer: asyncio.StreamWriter, role: str, message: object) -> str | None:
        """One message from a simulator, as its role allows; why not, if it is refused."""
        if role != "presenter":
            match message:  # a follower says one thing: their answer
                case Ballot(id=qid, value=value):
                    if writer in self._voters:
                        self.vote(self._voters[writer], qid, value)
                    return None
                case Refused(why=why):
                    return why
                case _:
                    return f"a follower only answers; a {type(message).__name__} is the presenter's to send"
        match message:
            case State():
                if self.outbox is not None:
                    self.outbox(message)
                else:
                    self.apply_state(message)
            case Ask() | Reveal() | Clear():
                if self.outbox is not None:
                    self.outbox(message)
                else:
                    self.set_quiz(quiz_of(message))
            case Refused(why=why):
                return why
            case _:
                return f"a presenter sends its scene and its questions, not a {type(message).__name__}"
        return None
