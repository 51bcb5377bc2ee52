"""One room on several `knobtui serve` nodes: each node's relay joined to the others through Redis.

`knobtui serve --bus redis://HOST:PORT/DB --room NAME` (or KNOBTUI_BUS): every node started with the
same bus and room serves the same lecture. The presenter may log in on any node.

One Redis stream per room holds everything that changes the room, in one order. Each entry's body is one
of knobtui/wire.py's messages (BUS), the same the relay's socket carries:

    state    wire.State: the presenter's scene
    quiz     wire.Ask, Reveal or Clear: the room's question
    answer   wire.Vote: a follower's answer (voter, question id, choice), counted once per voter
    count    wire.Count: how many follow on the node that wrote it (a heartbeat, every HEARTBEAT s)

Each entry is written by one Lua script that takes the next number of the room's counter, appends the
entry with that number (`v`) and keeps the latest state and question under their own keys, so the
stream's order and the numbers agree. Every node, the writer's included, applies the stream's entries
in order and refuses one whose number is not past the last it saw: no node applies an older state over
a newer one. A node that starts (or comes back) reads the latest state, question and answers from their
keys at once, never the stream from its start.

Entries carry the bus protocol's version (`p`, the wire's); one that is not this version, or does not
decode, or fails the checks a simulator's own messages get (the wire's decoder), is refused and logged,
never applied. The presenter's
password, keys and tokens stay on the node: the bus carries only what followers are shown.

While Redis is unreachable each node keeps serving the last state, tells its simulators "the room's
link is down, retrying" and applies its own presenter's changes itself; when Redis is back it reads the
room again, writes back what Redis lost (a restart with no persistence), and sends what it kept.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from ..presenter.relay import Relay
from ..wire import (BUS, MAX_LINE, VERSION, Ask, BusMessage, Clear, Count, Reveal, State, Vote, quiz_message,
                    quiz_of)
from ..wire import Refused as Unread
from .gates import clean

PROTOCOL = str(VERSION)
"""The bus protocol's version, the wire's: a node refuses entries written by another."""
__all__ = ["PROTOCOL", "Bus", "Entry", "Refused", "decode_entry"]
ROOM_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
KEEP = 10_000  # stream entries kept (about): a node catches up from the keys, never replays the stream
HEARTBEAT = 5.0  # seconds between a node's follower counts
GONE_AFTER = 3 * HEARTBEAT  # a node silent this long no longer counts (killed)
BLOCK_MS = 2_000  # one XREAD waits this long for news
RETRY_FIRST, RETRY_MOST = 0.5, 5.0  # seconds between attempts to reach Redis, doubling
ANSWERS_KEPT = 86_400  # seconds a question's answers stay in Redis
KINDS = ("state", "quiz", "answer", "count")

# The one writer of the room: number the entry, append it, keep the latest. An answer counts only to the
# question open at that moment in the room's order (another node may have revealed it just before).
PUBLISH = """
local kind = ARGV[1]
if kind == 'answer' then
  local q = redis.call('HGET', KEYS[3], 'b')
  if not q then return {0, ''} end
  local ok, msg = pcall(cjson.decode, q)
  if not ok or type(msg) ~= 'table' or msg['t'] ~= 'question' or type(msg['quiz']) ~= 'table'
     or msg['quiz']['id'] ~= tonumber(ARGV[7]) then
    return {0, ''}
  end
end
local v = redis.call('INCR', KEYS[1])
local id = redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[5], '*',
                      'p', ARGV[4], 'v', v, 'k', kind, 'n', ARGV[2], 'b', ARGV[3])
if kind == 'state' or kind == 'quiz' then
  redis.call('HSET', KEYS[3], 'p', ARGV[4], 'v', v, 'b', ARGV[3])
elseif kind == 'answer' then
  redis.call('HSET', KEYS[4], ARGV[6], ARGV[8])
  redis.call('EXPIRE', KEYS[4], tonumber(ARGV[9]))
elseif kind == 'count' then
  redis.call('HSET', KEYS[3], ARGV[2], ARGV[8] .. ' ' .. redis.call('TIME')[1])
end
return {v, id}
"""

# A node that knows more of the room than Redis does (Redis restarted empty) writes it back, once: only
# if Redis's counter is behind this node's, so of several nodes the one that saw most wins.
# The state and question go on the stream again, numbered past everything any node saw, so every node
# (one that started after the restart included) ends on the same state.
RESEED = """
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
if cur >= tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[1])
for i, kind in ipairs({'state', 'quiz'}) do
  local body = ARGV[2 + i]
  if body ~= '' then
    local v = redis.call('INCR', KEYS[1])
    redis.call('XADD', KEYS[6], 'MAXLEN', '~', ARGV[7], '*', 'p', ARGV[2], 'v', v, 'k', kind, 'n', ARGV[8], 'b', body)
    redis.call('HSET', KEYS[1 + i], 'p', ARGV[2], 'v', v, 'b', body)
  end
end
local answers = cjson.decode(ARGV[5])
for voter, value in pairs(answers) do redis.call('HSET', KEYS[4], voter, value) end
if next(answers) ~= nil then redis.call('EXPIRE', KEYS[4], tonumber(ARGV[6])) end
if ARGV[9] ~= '' then redis.call('SET', KEYS[5], ARGV[9], 'NX') end
return 1
"""


def bus_url_shown(url: str) -> str:
    """The bus URL for a log line: its password replaced by ***."""
    try:
        parts = urlsplit(url)
        if parts.password is None:
            return clean(url, 200)
        netloc = parts.netloc.rsplit("@", 1)
        user = netloc[0].split(":", 1)[0]
        return clean(urlunsplit(parts._replace(netloc=f"{user}:***@{netloc[1]}")), 200)
    except ValueError:
        return "(a bus URL that does not parse)"


def check_bus_url(url: str) -> str | None:
    """What is wrong with a bus URL, or None."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        return f"{bus_url_shown(url)} does not parse: {exc}"
    if parts.scheme not in ("redis", "rediss", "unix"):
        return f"{bus_url_shown(url)}: the bus is redis://HOST:PORT/DB, rediss:// (TLS) or unix://PATH"
    if parts.scheme != "unix" and not parts.hostname:
        return f"{bus_url_shown(url)}: no host"
    del port
    return None


KIND_OF: dict[type, str] = {State: "state", Ask: "quiz", Reveal: "quiz", Clear: "quiz", Vote: "answer", Count: "count"}
"""The stream's kind (`k`) of each message: the latest key a state or question is kept under."""


@dataclass(frozen=True)
class Entry:
    """One stream entry, decoded and checked."""

    id: str
    v: int
    kind: str
    node: str
    body: BusMessage


class Refused(ValueError):
    """An entry that is not applied, and why."""


def decode_entry(entry_id: bytes | str, fields: dict[bytes, bytes]) -> Entry:
    """A stream entry as an Entry, or Refused naming what is wrong (never applied)."""
    ident = entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)
    try:
        proto = fields[b"p"].decode()
        v = int(fields[b"v"])
        kind = fields[b"k"].decode()
        node = fields[b"n"].decode()
        raw = fields[b"b"]
    except (KeyError, ValueError, UnicodeDecodeError) as exc:
        raise Refused(f"entry {ident}: does not decode ({type(exc).__name__})") from None
    if proto != PROTOCOL:
        raise Refused(f"entry {ident}: bus protocol {clean(proto, 20)!r}, this node speaks {PROTOCOL!r} "
                      "(a node of another knobtui version?)")
    if kind not in KINDS:
        raise Refused(f"entry {ident}: no such kind {clean(kind, 20)!r}")
    if len(raw) > MAX_LINE:
        raise Refused(f"entry {ident}: {len(raw)} bytes is too long")
    body = BUS.decode(raw)
    if isinstance(body, Unread):
        raise Refused(f"entry {ident}: its {kind} was refused: {clean(body.why, 160)}")
    if KIND_OF[type(body)] != kind:
        raise Refused(f"entry {ident}: its {kind} was refused: it holds a {type(body).__name__}")
    return Entry(ident, v, kind, clean(node, 40), body)


class Bus:
    """A node's link to its room on Redis: what its relay's presenter and followers change goes out; what
    the room's stream says comes in, in order, to the relay."""

    def __init__(self, url: str, room: str, relay: Relay, log: Callable[[str], None],
                 rare: Callable[[str, str], None] | None = None) -> None:
        import redis.asyncio as aioredis
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff
        self.url, self.room, self.relay, self.log = url, room, relay, log
        self.rare = rare or (lambda key, line: log(line))
        self.node = f"{os.uname().nodename[:24]}-{os.getpid()}-{secrets.token_hex(3)}"
        # No retries in the client: a write retried after a lost reply would be applied twice. This
        # module retries itself, reading the room again first.
        self.redis = aioredis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=BLOCK_MS / 1000 + 5,
                                             retry=Retry(NoBackoff(), 0), health_check_interval=0)
        k = f"knobtui:{{{room}}}:"  # one hash slot per room (a Redis cluster keeps a room together)
        self.k_seq, self.k_stream, self.k_state, self.k_quiz = k + "seq", k + "stream", k + "state", k + "quiz"
        self.k_nodes, self.k_answers, self.k_salt = k + "nodes", k + "answers:", k + "salt"
        self.salt: str | None = None  # the room's: voter ids are keyed with it, the same on every node
        self._publish = self.redis.register_script(PUBLISH)
        self._reseed = self.redis.register_script(RESEED)
        self.up = False
        self.seen = 0  # the number of the last entry this node took (applied or skipped)
        self.state_v = 0  # the number the relay's state came with
        self.quiz_v = 0
        self.last_id = "0-0"
        self.others: dict[str, tuple[int, float]] = {}  # node -> (followers, when heard, monotonic)
        self._outq: list[BusMessage] = []
        self._wake = asyncio.Event()
        self._kept: dict[str, BusMessage] = {}  # changes made while down, to send when back
        self._local = 0
        self._count_sent: int | None = None
        self._count_timer: asyncio.TimerHandle | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._connected = asyncio.Event()
        self._down_since: float | None = None
        self.refused = 0  # entries refused (tests and the log read it)
        self.stats: dict[str, int] = {}  # entries and bytes sent and read, by kind (logged on leaving)
        relay.outbox = self.send
        relay.elsewhere = self.elsewhere
        relay.on_local_count = self._local_count

    # ---- the relay's side ----------------------------------------------------------------------------
    def send(self, message: BusMessage) -> None:
        """A change made on this node (the presenter's, a follower's answer): to the room, in order."""
        self._outq.append(message)
        self._wake.set()

    def elsewhere(self) -> int:
        """How many follow on the room's other nodes that were heard from lately."""
        now = time.monotonic()
        return sum(n for n, heard in self.others.values() if now - heard < GONE_AFTER)

    def _local_count(self, n: int) -> None:
        self._local = n
        if n != self._count_sent and self._count_timer is None and self.up:
            self._count_timer = asyncio.get_running_loop().call_later(0.2, self._send_count)

    def _send_count(self) -> None:
        self._count_timer = None
        self._count_sent = self._local
        self.send(Count(n=self._local))

    # ---- start and stop ------------------------------------------------------------------------------
    async def start(self, wait: float = 10.0) -> bool:
        """Start reading and writing the room; True once the room was read (False: Redis was not reachable
        within `wait` seconds; the node serves and keeps trying)."""
        self._tasks = [asyncio.ensure_future(self._read_loop()), asyncio.ensure_future(self._write_loop()),
                       asyncio.ensure_future(self._heartbeat())]
        try:
            await asyncio.wait_for(self._connected.wait(), wait)
            return True
        except asyncio.TimeoutError:
            return False

    _closing = False

    async def close(self) -> None:
        self._closing = True
        for task in self._tasks:
            task.cancel()
        if self._tasks:  # a read blocked in Redis ends within BLOCK_MS
            await asyncio.wait(self._tasks, timeout=BLOCK_MS / 1000 + 1)
        if self._count_timer is not None:
            self._count_timer.cancel()
        from redis.exceptions import RedisError
        sent = sum(n for what, n in self.stats.items() if what.startswith("sent") and not what.endswith("bytes"))
        read = sum(n for what, n in self.stats.items() if what.startswith("read") and not what.endswith("bytes"))
        self.log(f"bus: leaving room {self.room!r}: sent {sent} entries, read {read}, refused {self.refused}")
        if self.up:
            try:  # the other nodes stop counting this node's followers now, not after GONE_AFTER
                await asyncio.wait_for(self._write(Count(n=0)), 2)
                await self.redis.hdel(self.k_nodes, self.node)
            except (RedisError, OSError, asyncio.TimeoutError):
                pass
        await self.redis.aclose()

    # ---- reading the room ----------------------------------------------------------------------------
    async def _read_loop(self) -> None:
        from redis.exceptions import RedisError
        wait = RETRY_FIRST
        while not self._closing:
            try:
                await self._catch_up()
                self._went_up()
                wait = RETRY_FIRST
                while self.up and not self._closing:  # a failed write puts the node down: read the room again
                    answer: Any = await self.redis.xread({self.k_stream: self.last_id}, count=500, block=BLOCK_MS)
                    for _stream, entries in answer or []:
                        for entry_id, fields in entries:
                            self._take(entry_id, fields)
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as exc:
                if self._closing:  # redis-py may turn a cancelled read into an error of its own
                    return
                self._went_down(exc)
            await asyncio.sleep(wait)
            wait = min(wait * 2, RETRY_MOST)

    async def _catch_up(self) -> None:
        """Read the room from its keys (the latest state, question, answers; the nodes' counts) and go on
        from the stream's end; write back what Redis lost; then send what was kept while down."""
        for _ in range(3):
            pipe = self.redis.pipeline(transaction=True)
            pipe.get(self.k_seq)
            pipe.hgetall(self.k_state)
            pipe.hgetall(self.k_quiz)
            pipe.xrevrange(self.k_stream, count=1)
            pipe.hgetall(self.k_nodes)
            pipe.set(self.k_salt, self.salt or secrets.token_hex(16), nx=True)
            pipe.get(self.k_salt)
            pipe.time()
            seq, state, quiz, last, nodes, _, salt, (redis_now, _us) = await pipe.execute()
            self.salt = salt.decode() if salt else self.salt
            seq = int(seq or 0)
            if seq < self.seen:
                await self._write_back(seq)
                continue  # read again what was written (by this node or another)
            break
        self.last_id = last[0][0].decode() if last else "0-0"
        self._take_latest("state", state)
        qid = self._take_latest("quiz", quiz)
        if qid is not None and self.relay.ballot.quiz is not None and self.relay.ballot.quiz.id == qid:
            answers: Any = await self.redis.hgetall(self.k_answers + str(qid))
            self.relay.replace_answers({k.decode(errors="replace"): a.decode(errors="replace")
                                        for k, a in answers.items()})
        now = time.monotonic()
        for node, said in nodes.items():  # "COUNT TIME": nodes heard from lately (Redis's clock)
            name, parts = node.decode(errors="replace"), said.split()
            if (name != self.node and len(parts) == 2 and all(p.isdigit() for p in parts)
                    and int(redis_now) - int(parts[1]) < GONE_AFTER):
                self.others[name] = (int(parts[0]), now)
        self.seen = max(self.seen, seq)
        self.relay.announce()

    def _take_latest(self, kind: str, fields: dict[bytes, bytes]) -> int | None:
        """A latest-state (or question) key as read at catch-up: applied if newer than the relay's. The
        question's id is returned when the relay holds it now."""
        if not fields:
            return None
        try:
            entry = decode_entry(f"latest {kind}", {**fields, b"k": kind.encode(), b"n": b"latest"})
        except Refused as exc:
            self._refuse(str(exc))
            return None
        match entry.body:
            case State():
                if entry.v > self.state_v:
                    self.state_v = entry.v
                    self.relay.apply_state(entry.body)
                return None
            case Ask() | Reveal() | Clear():
                if entry.v > self.quiz_v:
                    self.quiz_v = entry.v
                    self.relay.set_quiz(quiz_of(entry.body))
        quiz = self.relay.ballot.quiz
        return quiz.id if quiz is not None else None

    async def _write_back(self, seq: int) -> bool:
        """Redis knows less of the room than this node (it restarted empty): write this node's state,
        question and answers back, numbered as this node saw them. True if this node's were written."""
        relay = self.relay
        quiz = relay.ballot.quiz
        answers = relay.ballot.answers if quiz is not None and not quiz.revealed else {}
        state = BUS.encode(relay.latest_state) if relay.latest_state is not None else b""
        quiz_b = BUS.encode(quiz_message(quiz)) if quiz is not None else b""
        done = await self._reseed(
            keys=[self.k_seq, self.k_state, self.k_quiz, self.k_answers + str(quiz.id if quiz else 0), self.k_salt,
                  self.k_stream],
            args=[self.seen, PROTOCOL, state, quiz_b, json.dumps(answers) if answers else "{}", ANSWERS_KEPT,
                  KEEP, self.node, self.salt or ""])
        if done:
            self.log(f"bus: Redis knew the room only to entry {seq}, this node to {self.seen} "
                     "(restarted empty?): wrote this node's state back")
        return bool(done)

    def _take(self, entry_id: bytes, fields: dict[bytes, bytes]) -> None:
        """One entry of the room's stream: checked, then applied in order."""
        self.last_id = entry_id.decode()
        kind = fields.get(b"k", b"?").decode(errors="replace")[:8]
        self._count(f"read {kind}", sum(len(k) + len(v) for k, v in fields.items()))
        try:
            entry = decode_entry(entry_id, fields)
        except Refused as exc:
            self._refuse(str(exc))
            return
        if entry.v <= self.seen:
            self._refuse(f"entry {entry.id} from {entry.node}: number {entry.v} is not past {self.seen}, "
                         "the last this node took (an older state)")
            return
        self.seen = entry.v
        relay = self.relay
        match entry.body:
            case State():
                self.state_v = entry.v
                relay.apply_state(entry.body)
            case Ask() | Reveal() | Clear():
                self.quiz_v = entry.v
                relay.set_quiz(quiz_of(entry.body))
            case Vote(voter=voter, id=qid, value=value):
                relay.apply_answer(voter, qid, value)
            case Count(n=n) if entry.node != self.node:
                self.others[entry.node] = (n, time.monotonic())
                relay.announce()

    def _refuse(self, why: str) -> None:
        self.refused += 1
        self.rare(f"bus refused {why[:40]}", f"bus: refused {why}")

    # ---- writing to the room -------------------------------------------------------------------------
    async def _write_loop(self) -> None:
        from redis.exceptions import RedisError
        while not self._closing:
            await self._wake.wait()
            self._wake.clear()
            while self._outq:
                message = self._outq[0]
                if not self.up:
                    self._outq.pop(0)
                    self._keep(message)
                    continue
                try:
                    await self._write(message)
                    self._outq.pop(0)
                except asyncio.CancelledError:
                    raise
                except (RedisError, OSError) as exc:
                    if self._closing:
                        return
                    self._went_down(exc)

    async def _write(self, message: BusMessage) -> None:
        raw = BUS.encode(message)
        kind = KIND_OF[type(message)]
        voter, qid, value = "", "0", ""
        latest = self.k_state if kind == "state" else self.k_quiz
        match message:
            case Vote():
                voter, qid, value = message.voter, str(message.id), message.value
            case Count(n=n):
                latest, value = self.k_nodes, str(n)
        await self._publish(keys=[self.k_seq, self.k_stream, latest, self.k_answers + qid],
                            args=[kind, self.node, raw, PROTOCOL, KEEP, voter, qid, value, ANSWERS_KEPT])
        self._count(f"sent {kind}", len(raw))

    def _count(self, what: str, size: int) -> None:
        self.stats[what] = self.stats.get(what, 0) + 1
        self.stats[what + " bytes"] = self.stats.get(what + " bytes", 0) + size

    def _keep(self, message: BusMessage) -> None:
        """Redis is down: apply a change here (this node's followers see it) and keep it for the room."""
        relay = self.relay
        match message:
            case State():
                relay.apply_state(message)
                key = "state"
            case Ask() | Reveal() | Clear():
                relay.set_quiz(quiz_of(message))
                key = "quiz"
            case Vote(voter=voter, id=qid, value=value) if relay.apply_answer(voter, qid, value):
                key = f"answer:{voter}"
            case _:
                return  # a count: the next one after the link is back says it
        self._kept.pop(key, None)
        self._kept[key] = message

    # ---- up and down ---------------------------------------------------------------------------------
    def _went_up(self) -> None:
        if self.up:
            return
        self.up = True
        self._connected.set()
        if self._down_since is not None:
            self.log(f"bus: the room's link is back after {time.monotonic() - self._down_since:.1f} s; "
                     f"caught up at entry {self.seen}" + (f", sending {len(self._kept)} changes kept meanwhile"
                                                          if self._kept else ""))
        else:
            self.log(f"bus: joined room {self.room!r} on {bus_url_shown(self.url)} as node {self.node} "
                     f"at entry {self.seen}")
        self._down_since = None
        kept, self._kept = list(self._kept.values()), {}
        self._outq[:0] = kept
        self._count_sent = None
        self._local_count(self._local)
        self._wake.set()
        self.relay.bus_status(True)

    def _went_down(self, exc: BaseException) -> None:
        if self._down_since is None:
            self._down_since = time.monotonic()
            self.log(f"bus: the room's link is down, retrying ({clean(type(exc).__name__)}: {clean(exc, 160)}); "
                     "followers here keep the last state")
            self.relay.bus_status(False)
        self.up = False
        self._wake.set()

    async def _heartbeat(self) -> None:
        """This node's count now and then (a node that dies stops counting after GONE_AFTER)."""
        while True:
            await asyncio.sleep(HEARTBEAT)
            if self.up:
                self._count_sent = None
                self._local_count(self._local)
            now = time.monotonic()
            gone = [n for n, (_, heard) in self.others.items() if now - heard >= GONE_AFTER]
            for node in gone:
                del self.others[node]
            if gone:
                self.relay.announce()
