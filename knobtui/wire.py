"""The one wire: every message between the simulators, the relay, the spawner and a room's nodes, typed.

Each message is a frozen msgspec Struct tagged by its type (`"t"`) and carrying the wire's version
(`"v"`); one JSON object a message. Three codecs read them, each the messages its socket carries:

    RELAY    the relay's Unix socket (presenter/relay.py, presenter/link.py), one message a line:
               simulator → relay     Hello                        (first line)
               relay → presenter     Resume                       (first line: the room's scene, to carry on from)
               presenter → relay     State, Ask, Reveal, Clear    (after every change)
               relay → follower      State, Ask, Reveal, Clear    (only the newest: a slow follower skips to it)
               follower → relay      Ballot                       (their answer; again: a changed mind)
               relay → follower      Ballot                       (their answer as the room counted it)
               relay → presenter     Tally, Followers             (counts only, never who)
               relay → simulator     BusStatus, Refused           (a line the relay could not read)
    SPAWNER  the warm spawner's socket pair (spawner.py, serve/child.py), one message a packet:
               Ready, Spawn → Spawned | Failed, Exited
    BUS      the bodies of a room's Redis stream entries (serve/bus.py): State, Ask, Reveal, Clear, Vote, Count

`decode` never raises: a line that is not JSON, names no known type, is of another version, or fails a
check comes back as `Refused(why)`, which the receiver logs or answers; `why` is plain text (no control
characters, short), but it quotes what was sent, so it is escaped before any markup sees it.

The names the server and its simulators share (environment variables, exit codes, limits, the keys an
answer may be) live here too, once. This module imports only `learning/`: presenter/, serve/, tui/ and
the spawner import it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Annotated, Any, Generic, Literal, TypeVar, Union

import msgspec

from .learning.predict import KINDS, Choice, Kind
from .learning.predict import Question as EngineQuestion
from .learning.scene import Scene

VERSION = 2
"""The wire's version. 1 was the untyped JSON of knobtui before this module (no `t`, no `v`); a message
of any other version is refused, never guessed at."""

MAX_LINE = 16 * 1024 * 1024
"""The longest line either side reads: a recipe grows ~130 bytes per knob change made after a step."""

# ---- names shared by the server and its simulators ------------------------------------------------------
RELAY_ENV = "KNOBTUI_RELAY"  # the relay socket's path, set by `knobtui serve` for its simulators
ROLE_ENV = "KNOBTUI_ROLE"  # "presenter" or "follower"
TOKEN_ENV = "KNOBTUI_RELAY_TOKEN"  # a presenter's one-time token
ROOM_ENV = "KNOBTUI_ROOM"  # "1": this follower's simulator is private; `F` returns to the shared view
START_DETACHED_ENV = "KNOBTUI_START_DETACHED"  # "1": start from the room's scene, playing alone (`d`)
VOTER_ENV = "KNOBTUI_VOTER"  # a follower's opaque voter id: its answers to room questions count once
JOIN_ENV = "KNOBTUI_JOIN"  # the presenter's: how learners come in (JoinInfo as JSON), for the join screen
CRASH_LOG_ENV = "KNOBTUI_CRASH_LOG"  # the file `knobtui serve` names for a simulator's crash reports
SERVED_ENV = "KNOBTUI_SERVED"  # "1": `knobtui serve` started this simulator for a visitor (tui/limits.py)
BUS_ENV = "KNOBTUI_BUS"  # `knobtui serve --bus`'s URL, when not given on the command line
PRESENTER_PASSWORD_ENV = "KNOBTUI_PRESENTER_PASSWORD"  # the presenter password, never on the command line

REJOIN_STATUS = 3
"""A follower's private simulator exits with this when `F` asks to go back to the room's shared view."""
FAILED_STATUS = 1  # a simulator that failed (an exception, a SystemExit without a number)
NO_EXEC_STATUS = 127  # a simulator started the slow way whose exec failed
UNKNOWN_STATUS = 255  # a simulator whose status nobody could learn (reaped elsewhere, killed)
HANGUP_STATUS = 129  # a simulator whose terminal hung up under it (as a shell reports SIGHUP: 128 + 1)

ANSWER_KEYS = ("up", "down", "s", "y", "n")
"""The keys a choice may have (learning/predict.py's choices use these): the one list the question screens
bind and the wire accepts."""
MAX_TEXT = 400  # the longest question or why a follower accepts
MAX_CHOICES = 3
MAX_ID = 2 ** 53  # a question's id: a whole number JavaScript and Lua (the bus) read exactly

Voter = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
QuestionId = Annotated[int, msgspec.Meta(gt=0, lt=MAX_ID)]
Value = Annotated[str, msgspec.Meta(max_length=16)]
Tallied = Annotated[int, msgspec.Meta(ge=0, lt=10 ** 7)]


def _text(value: object, limit: int = MAX_TEXT) -> str:
    if not isinstance(value, str) or len(value) > limit:
        raise ValueError("not a short string")
    return value


def plain(text: object, limit: int = 200) -> str:
    """Text fit for a log line: control characters as `?`, at most `limit` characters."""
    s = str(text)
    s = "".join(c if c.isprintable() else "?" for c in s[: limit + 1])
    return s if len(s) <= limit else s[: limit - 1] + "…"


# ---- what a message may carry --------------------------------------------------------------------------
class RoomQuestion:
    """One question put to the room: open (answers come in) or revealed (the answer and why known).

    On the wire: {"id", "phase": "open"|"reveal", "kind", "text", "choices": [[key, value, label], ...],
    "at"} and, revealed, "answer" and "why". The answer and its why travel only with the reveal.

    Not a dataclass: msgspec would encode one field by field itself; this way the codec's hooks write and
    read it as above, through `from_dict`'s checks. Immutable all the same."""

    __slots__ = ("id", "question", "at", "revealed")
    id: int
    question: EngineQuestion  # answer and why are "" while open: they do not travel before the reveal
    at: Mapping[str, object]  # learning.predict.position() of the session it was asked about
    revealed: bool

    def __init__(self, id: int, question: EngineQuestion, at: Mapping[str, object], revealed: bool = False) -> None:
        for name, value in (("id", id), ("question", question), ("at", at), ("revealed", revealed)):
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"a RoomQuestion is immutable: {name} cannot change")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RoomQuestion) and (self.id, self.question, dict(self.at), self.revealed) == (
            other.id, other.question, dict(other.at), other.revealed)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"RoomQuestion({self.id!r}, {self.question!r}, {dict(self.at)!r}, revealed={self.revealed!r})"

    @classmethod
    def ask(cls, qid: int, question: EngineQuestion, at: Mapping[str, object]) -> RoomQuestion:
        return cls(qid, replace(question, answer="", why="", brief=""), dict(at))  # nothing of the answer

    def reveal(self, question: EngineQuestion) -> RoomQuestion:
        """The same question with its answer (the presenter's engine knows it)."""
        return RoomQuestion(self.id, replace(question, brief=""), self.at, True)  # as the wire carries it

    @property
    def values(self) -> tuple[str, ...]:
        return tuple(c.value for c in self.question.choices)

    def as_dict(self) -> dict[str, object]:
        q = self.question
        out: dict[str, object] = {"id": self.id, "phase": "reveal" if self.revealed else "open", "kind": q.kind,
                                  "text": q.text, "choices": [[c.key, c.value, c.label] for c in q.choices],
                                  "at": dict(self.at)}
        if self.revealed:
            out.update(answer=q.answer, why=q.why)
        return out

    @classmethod
    def from_dict(cls, data: object) -> RoomQuestion:
        """Read a question off the wire; ValueError for anything a presenter's knobtui would not send."""
        if not isinstance(data, dict):
            raise ValueError("not a question")
        qid, phase, kind, at = data.get("id"), data.get("phase"), data.get("kind"), data.get("at")
        if not isinstance(qid, int) or isinstance(qid, bool) or not 0 < qid < MAX_ID:
            raise ValueError("a question's id is a positive whole number")
        if phase not in ("open", "reveal") or not isinstance(at, dict):
            raise ValueError("a question is open or revealed, at a position")
        kind_ok: Kind | None = next((k for k in KINDS if k == kind), None)
        if kind_ok is None:
            raise ValueError(f"no such kind of question: {plain(kind, 20)!r}")
        raw = data.get("choices")
        if not isinstance(raw, list) or not 2 <= len(raw) <= MAX_CHOICES:
            raise ValueError("a question has two or three choices")
        choices = []
        for item in raw:
            if not (isinstance(item, list) and len(item) == 3 and item[0] in ANSWER_KEYS):
                raise ValueError("a choice is [key, value, label]")
            choices.append(Choice(item[0], _text(item[1], 16), _text(item[2], 16)))
        if len({c.key for c in choices}) != len(choices) or len({c.value for c in choices}) != len(choices):
            raise ValueError("two choices alike")
        revealed = phase == "reveal"
        answer = _text(data.get("answer", ""), 16) if revealed else ""
        if revealed and answer not in (c.value for c in choices):
            raise ValueError("the answer is not one of the choices")
        why = _text(data.get("why", "")) if revealed else ""
        return cls(qid, EngineQuestion(kind_ok, _text(data.get("text")), tuple(choices), answer, why), at, revealed)


class JoinInfo(msgspec.Struct, frozen=True):
    """How learners come in, as `serve` prints it and the presenter's join screen shows it (JOIN_ENV)."""

    ssh: tuple[str, ...] = ()  # an SSH command per reachable address
    urls: tuple[str, ...] = ()  # a browser URL per reachable address
    fingerprint: str = ""  # the SSH host key's, for learners to check
    local: bool = False  # only this machine can come in (bound to loopback)

    def to_env(self) -> str:
        return msgspec.json.encode(self).decode()

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> JoinInfo | None:
        """The join info `serve` gave this simulator, or None (none given, or not what serve writes)."""
        try:
            return _JOIN.decode(env.get(JOIN_ENV, "").encode())
        except msgspec.MsgspecError:
            return None


_JOIN = msgspec.json.Decoder(JoinInfo)


# ---- the messages ----------------------------------------------------------------------------------------
class Message(msgspec.Struct, frozen=True, tag_field="t", kw_only=True):
    """Every message: its type (the tag, `t`) and the wire's version (`v`)."""

    v: int = VERSION

    def check(self) -> None:
        """What msgspec's types cannot say of a message: ValueError if it is not fit to take. The codec calls
        it on every message it reads (a sender's own messages are not checked again)."""


class Hello(Message, frozen=True, tag="hello"):
    """A simulator's first line to the relay: who it is (a presenter's token is good for one connection)."""

    role: Literal["presenter", "follower"] = "follower"
    token: Annotated[str, msgspec.Meta(max_length=256)] = ""
    voter: Annotated[str, msgspec.Meta(max_length=64)] = ""  # a follower who may answer the room's questions


def _check_scene(message: Message, scene: object) -> None:
    """A scene as it is read: checked by learning's Scene.from_dict (ValueError: refused) and kept in the
    form Scene.as_dict gives (what is not a scene's is dropped, not passed on). Scene is a dataclass, which
    msgspec would encode field by field itself: so the message holds its dict, and `scene_of` makes the
    Scene."""
    msgspec.structs.force_setattr(message, "scene", Scene.from_dict(scene).as_dict())


class Resume(Message, frozen=True, tag="resume"):
    """The relay's first line to a presenter: the room's scene (None: none yet), to carry on from."""

    scene: dict[str, Any] | None = None

    def check(self) -> None:
        if self.scene is not None:
            _check_scene(self, self.scene)

    @classmethod
    def of(cls, scene: Scene | None) -> Resume:
        return cls(scene=scene.as_dict() if scene is not None else None)


class State(Message, frozen=True, tag="state"):
    """The presenter's scene, after every change; the room's newest, to every follower."""

    scene: dict[str, Any]

    def check(self) -> None:
        _check_scene(self, self.scene)

    @classmethod
    def of(cls, scene: Scene) -> State:
        return cls(scene=scene.as_dict())


def scene_of(message: State | Resume) -> Scene | None:
    """The Scene a message carries (checked when the message was made)."""
    return Scene.from_dict(message.scene) if message.scene is not None else None


class Ask(Message, frozen=True, tag="question"):
    """The room's question, open: answers come in."""

    quiz: RoomQuestion

    def __post_init__(self) -> None:
        if self.quiz.revealed:
            raise ValueError("an open question carries no answer")


class Reveal(Message, frozen=True, tag="reveal"):
    """The room's question with its answer and why: answers are closed."""

    quiz: RoomQuestion

    def __post_init__(self) -> None:
        if not self.quiz.revealed:
            raise ValueError("a reveal carries the answer")


class Clear(Message, frozen=True, tag="clear"):
    """The room's question is over (the presenter went on, or took it back)."""


class Ballot(Message, frozen=True, tag="ballot"):
    """A follower's answer to the open question (to the relay); the relay's word that it counts (back)."""

    id: QuestionId
    value: Value


class Tally(Message, frozen=True, tag="tally"):
    """How the room answered, to the presenters: how many chose each value, and how many answered."""

    id: Annotated[int, msgspec.Meta(ge=0, lt=MAX_ID)]
    counts: dict[Value, Tallied]
    answered: Tallied


class Followers(Message, frozen=True, tag="followers"):
    """How many follow (the relay tells the presenters when people come and go)."""

    n: Tallied


class BusStatus(Message, frozen=True, tag="bus"):
    """Whether the room's bus between nodes is reachable (the simulators say so on their status line)."""

    up: bool


class Refused(Message, frozen=True, tag="refused"):
    """A message that was not taken, and why (plain text; it quotes what was sent)."""

    why: str


class Vote(Message, frozen=True, tag="vote"):
    """A follower's answer, as a room's nodes pass it on (serve/bus.py): whose, to which question."""

    voter: Voter
    id: QuestionId
    value: Value


class Count(Message, frozen=True, tag="count"):
    """How many follow on the node that says it (serve/bus.py's heartbeat)."""

    n: Tallied


class Ready(Message, frozen=True, tag="ready"):
    """The spawner has imported the simulator and takes requests."""


class Spawn(Message, frozen=True, tag="spawn"):
    """Start `knobtui ARGS` on the pty passed with this packet (SCM_RIGHTS), in `cwd`, at `nice`."""

    id: int
    args: list[str]
    env: dict[str, str]
    cwd: str
    nice: Annotated[int, msgspec.Meta(ge=0, le=19)] = 0


class Spawned(Message, frozen=True, tag="spawned"):
    """The request `id` started as process `pid`."""

    id: int
    pid: int


class Failed(Message, frozen=True, tag="failed"):
    """The request `id` (None: one that could not be read) did not start, and why."""

    id: int | None
    error: str


class Exited(Message, frozen=True, tag="exited"):
    """A child of the spawner ended with `status`; the spawner reaped it."""

    pid: int
    status: int


Quiz = Union[Ask, Reveal, Clear]
RelayMessage = Union[Hello, Resume, State, Ask, Reveal, Clear, Ballot, Tally, Followers, BusStatus, Refused]
SpawnerMessage = Union[Ready, Spawn, Spawned, Failed, Exited, Refused]
BusMessage = Union[State, Ask, Reveal, Clear, Vote, Count]


def quiz_message(quiz: RoomQuestion | None) -> Ask | Reveal | Clear:
    """The message that puts a question to the room, reveals it, or clears it (None)."""
    if quiz is None:
        return Clear()
    return Reveal(quiz) if quiz.revealed else Ask(quiz)


def quiz_of(message: Ask | Reveal | Clear) -> RoomQuestion | None:
    return None if isinstance(message, Clear) else message.quiz


# ---- one codec -------------------------------------------------------------------------------------------
def _enc_hook(obj: Any) -> Any:
    if isinstance(obj, RoomQuestion):
        return obj.as_dict()
    raise NotImplementedError(f"the wire does not carry {type(obj).__name__}")


def _dec_hook(kind: type, obj: Any) -> Any:
    if kind is RoomQuestion:
        return RoomQuestion.from_dict(obj)  # ValueError: the decoder turns it into a ValidationError naming where
    raise NotImplementedError(f"the wire does not carry {kind.__name__}")


class _Envelope(msgspec.Struct):
    """What any message says of itself, read only to explain a refusal."""

    t: Any = None
    v: Any = None


_ENVELOPE = msgspec.json.Decoder(_Envelope)
_ENCODER = msgspec.json.Encoder(enc_hook=_enc_hook)

M = TypeVar("M")


class Codec(Generic[M]):
    """One socket's messages: `encode` one, `decode` one (never raises: a `Refused` for what it cannot take)."""

    def __init__(self, name: str, kinds: Any, line: bool) -> None:
        self.name = name
        self._decoder: msgspec.json.Decoder[M] = msgspec.json.Decoder(kinds, dec_hook=_dec_hook)
        self._end = b"\n" if line else b""

    def encode(self, message: Message) -> bytes:
        """One message as bytes (a line, ending in a newline, on a line socket)."""
        return _ENCODER.encode(message) + self._end

    def decode(self, data: bytes | str) -> M | Refused:
        """One message, or Refused naming what is wrong with it."""
        if len(data) > MAX_LINE:
            return Refused(why=f"{len(data)} bytes is longer than a message may be")
        try:
            message: Any = self._decoder.decode(data)
        except (msgspec.MsgspecError, RecursionError) as exc:
            return Refused(why=self._why(data, exc))
        if message.v != VERSION:
            return Refused(why=_other_version(message.v))
        try:
            message.check()
        except ValueError as exc:
            return Refused(why=plain(f"{type(message).__struct_config__.tag!r}: {exc}"))
        return message  # type: ignore[no-any-return]

    def _why(self, data: bytes | str, exc: BaseException) -> str:
        try:
            envelope = _ENVELOPE.decode(data)
        except (msgspec.MsgspecError, RecursionError):
            return "not a JSON object" if not isinstance(exc, RecursionError) else "nested too deep"
        if envelope.v is not None and envelope.v != VERSION:
            return _other_version(envelope.v)
        if envelope.t is None:
            return f"no message type (`t`): an older knobtui? this one speaks wire version {VERSION}"
        what = plain(envelope.t, 20) if isinstance(envelope.t, str) else "?"
        if str(exc).endswith("at `$.t`"):
            return f"no such message type {what!r} on the {self.name} socket"
        return plain(f"{what!r}: {exc}")


class _Ident(msgspec.Struct):
    id: int | None = None


def request_id(data: bytes) -> int | None:
    """The `id` of a request that was refused, if it names one: its answer can then say which failed (the
    server stops waiting for it) instead of leaving it to time out."""
    try:
        return msgspec.json.decode(data, type=_Ident).id
    except (msgspec.MsgspecError, RecursionError):
        return None


def _other_version(v: object) -> str:
    return f"wire version {plain(v, 20)}, this knobtui speaks {VERSION} (another knobtui version?)"


RELAY: Codec[RelayMessage] = Codec("relay", RelayMessage, line=True)
SPAWNER: Codec[SpawnerMessage] = Codec("spawner", SpawnerMessage, line=False)
BUS: Codec[BusMessage] = Codec("bus", BusMessage, line=False)

__all__ = [
    "ANSWER_KEYS", "BUS", "BUS_ENV", "CRASH_LOG_ENV", "FAILED_STATUS", "HANGUP_STATUS", "JOIN_ENV", "MAX_CHOICES", "MAX_LINE",
    "MAX_TEXT", "NO_EXEC_STATUS", "PRESENTER_PASSWORD_ENV", "REJOIN_STATUS", "RELAY", "RELAY_ENV", "ROLE_ENV",
    "ROOM_ENV", "SERVED_ENV", "SPAWNER", "START_DETACHED_ENV", "TOKEN_ENV", "UNKNOWN_STATUS", "VERSION", "VOTER_ENV",
    "Ask", "Ballot", "BusStatus", "Clear", "Codec", "Count", "Exited", "Failed", "Followers", "Hello", "JoinInfo",
    "Message", "Ready", "Refused", "Resume", "Reveal", "RoomQuestion", "Spawn", "Spawned", "State", "Tally", "Vote",
    "plain", "quiz_message", "quiz_of", "request_id", "scene_of",
]
