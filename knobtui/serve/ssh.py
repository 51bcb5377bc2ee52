"""The SSH door of `knobtui serve`: every SSH session is a visit (visit.py), and nothing else.

The server only carries bytes between the SSH channel and the visit; it never runs a shell, a command
or a subsystem, and refuses port, agent and X11 forwarding. What it lets in is the hub's `door`
(door.py), the same `admit()` as the browser door's, at the moment each stage is known:

    connection  → the connect gates (rate per address, open connections)
    login       → followers need none; the presenter user name is asked for a password or a key, and
                  the door's PresenterLogin decides
    session     → the seat gates (a real terminal, its size, one simulator per connection, room left)
    life        → idle (no keys and no screen changes), a session opened within the login timeout
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence

import asyncssh

from .door import Knock, Stage
from .gates import End, EndKind, clean
from .hub import Hub, log
from .join import Door
from .keys import load_or_create_host_key, default_host_key_path
from .visit import Visit


class KnobServer(asyncssh.SSHServer):
    """One SSH connection: admits followers openly (or by key), asks the presenter user for a password,
    opens one simulator session, forwards nothing."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.conn: asyncssh.SSHServerConnection | None = None
        self.username = ""
        self.address = "?"
        self.presenter = False
        self.session: KnobSession | None = None  # the newest; `sessions` holds the open ones
        self.sessions: list[KnobSession] = []
        self.knock = Knock("ssh", self.address, may_follow=not hub.closed)
        self._deadline: asyncio.TimerHandle | None = None
        self._counted = False

    # ---- the connection ------------------------------------------------------------------------
    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self.conn = conn
        peer = conn.get_extra_info("peername") or ("?", 0)
        self.address = self.knock.address = str(peer[0])
        refused = self.hub.door.admit(self.knock, Stage.CONNECT)
        if refused is not None:
            asyncio.get_running_loop().call_soon(conn.disconnect, asyncssh.DISC_TOO_MANY_CONNECTIONS, refused.words)
            return
        self.hub.connections += 1
        self._counted = True

    def connection_lost(self, exc: Exception | None) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
        if self._counted:
            self.hub.connections -= 1
            self._counted = False

    # ---- login ---------------------------------------------------------------------------------
    def begin_auth(self, username: str) -> bool:
        self.username = self.knock.username = username
        if self.hub.closed:
            return True  # only listed keys (or the presenter) get in
        # Open: followers need no authentication at all (no prompt, nothing to press; PuTTY and OpenSSH
        # alike land straight in the simulator). Only the presenter's user name is asked.
        return self.hub.options.presenting and username == self.hub.options.presenter_user

    def public_key_auth_supported(self) -> bool:
        return self.hub.authorized_keys is not None or self.hub.presenter_keys is not None

    # Which login succeeded decides the role: each method below sets `presenter` from its own result, so
    # the last one tried (the one that let the client in) wins. asyncssh asks validate_public_key when
    # a key is merely offered, before its signature is checked: offering the presenter's public key and
    # then logging in another way must not make anyone the presenter.
    def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
        host, addr = self.address, self.address
        self.presenter = self.hub.door.presenter_key(self.knock, key)
        if self.presenter:
            return True
        return self.hub.authorized_keys is not None and self.hub.authorized_keys.validate(key, host, addr) is not None

    def password_auth_supported(self) -> bool:
        return bool(self.hub.options.presenter_password)

    async def validate_password(self, username: str, password: str) -> bool:
        return await self._presenter_answer(password)

    def kbdint_auth_supported(self) -> bool:
        return bool(self.hub.options.presenter_password) or (self.hub.options.presenting and not self.hub.closed)

    def get_kbdint_challenge(self, username: str, lang: str, submethods: str) -> tuple[str, str, str, list[tuple[str, bool]]]:
        self.presenter = False
        if self.hub.options.presenter_password:
            prompt = "Presenter password: " if self.hub.closed else "Presenter password (Enter to follow): "
        else:
            prompt = "No presenter key was accepted. Press Enter to follow: "
        return ("knobtui", "", "", [(prompt, False)])

    async def validate_kbdint_response(self, username: str, responses: Sequence[str]) -> bool:
        if len(responses) != 1:
            return False
        return await self._presenter_answer(responses[0])

    async def _presenter_answer(self, answer: str) -> bool:
        """The presenter's password makes a presenter; an empty answer follows (open servers); the door's
        PresenterLogin decides, for this door as for the browser's. Too many wrong ones close the connection."""
        self.presenter = False
        refused = await self.hub.door.login(self.knock, answer)
        self.presenter = self.knock.presenter
        if refused is not None and refused.final and self.conn is not None:
            conn = self.conn
            asyncio.get_running_loop().call_soon(
                conn.disconnect, asyncssh.DISC_NO_MORE_AUTH_METHODS_AVAILABLE, "too many wrong presenter passwords")
        return refused is None

    def auth_completed(self) -> None:
        self.role_settled = True
        # A logged-in connection must open its session soon, or it only holds a descriptor.
        self._deadline = asyncio.get_running_loop().call_later(self.hub.options.login_timeout, self._no_session)

    role_settled = False

    def _no_session(self) -> None:
        if self.session is None and self.conn is not None:
            log(f"closed {clean(self.address)} user={clean(self.username)!r}: "
                f"no session within {self.hub.options.login_timeout:g} s of logging in")
            self.conn.disconnect(asyncssh.DISC_BY_APPLICATION, "no session opened")

    # ---- channels --------------------------------------------------------------------------------
    def session_requested(self) -> KnobSession | bool:
        self.sessions = [s for s in self.sessions if s.visit.open]
        if len(self.sessions) >= 2:  # one simulator, and perhaps a refused request closing beside it
            log(f"refused another session on one connection from {clean(self.address)} "
                f"user={clean(self.username)!r}")
            return False
        presenter = self.presenter and self.role_settled if self.hub.options.presenting else False
        session = KnobSession(self.hub, self.address, self.username, presenter, owner=self)
        self.sessions.append(session)
        self.session = session
        return session

    def holds_simulator(self, other_than: Visit) -> bool:
        """Whether another session on this connection already has a simulator (one per connection)."""
        return any(s.visit is not other_than and s.visit.open and s.visit.counted for s in self.sessions)

    def connection_requested(self, *args: object) -> bool:
        log(f"refused port forwarding from {clean(self.address)}")
        return False

    def server_requested(self, *args: object) -> bool:
        log(f"refused remote port forwarding from {clean(self.address)}")
        return False

    def unix_connection_requested(self, *args: object) -> bool:
        return False

    def unix_server_requested(self, *args: object) -> bool:
        return False



class KnobSession(asyncssh.SSHServerSession[bytes]):
    """One SSH session: the channel, as the `Channel` of one `Visit`."""

    door = "ssh"

    def __init__(self, hub: Hub, address: str, username: str, presenter: bool = False,
                 owner: KnobServer | None = None) -> None:
        self.chan: asyncssh.SSHServerChannel[bytes] | None = None
        self.term: str | None = None
        self.visit = Visit(hub, self, address, username, presenter,
                           holds_simulator=owner.holds_simulator if owner is not None else None,
                           identity=f"ssh:{username}@{address}")  # a reconnect keeps its answer (voters.py)

    # ---- Channel ---------------------------------------------------------------------------------
    # A channel the client already closed raises on write and exit: the visit ends on connection_lost.
    def write(self, data: bytes) -> None:
        with contextlib.suppress(OSError, asyncssh.Error, AttributeError):
            if self.chan is not None:
                self.chan.write(data)

    def backlog(self) -> int:
        return self.chan.get_write_buffer_size() if self.chan is not None else 0

    def close(self, status: int) -> None:
        with contextlib.suppress(OSError, asyncssh.Error, AttributeError):
            if self.chan is not None:
                self.chan.exit(status)

    # ---- requests ----------------------------------------------------------------------------
    def connection_made(self, chan: asyncssh.SSHServerChannel[bytes]) -> None:
        self.chan = chan

    def pty_requested(self, term_type: str, term_size: tuple[int, int, int, int], term_modes: object) -> bool:
        self.term = term_type
        if term_size[0] and term_size[1]:
            self.visit.set_size(term_size[0], term_size[1])
        return True

    def shell_requested(self) -> bool:
        return True

    def exec_requested(self, command: str) -> bool:
        log(f"refused a command from {clean(self.visit.address)} ({clean(self.visit.username)}): {clean(command)!r}")
        return False

    def subsystem_requested(self, subsystem: str) -> bool:
        log(f"refused subsystem {clean(subsystem)!r} from {clean(self.visit.address)} ({clean(self.visit.username)})")
        return False

    def session_started(self) -> None:
        assert self.chan is not None
        self.visit.start(self.term, self.chan.get_environment())

    def data_received(self, data: bytes, datatype: object) -> None:
        self.visit.keys(data)

    def terminal_size_changed(self, width: int, height: int, pixwidth: int, pixheight: int) -> None:
        self.visit.resize(width, height)

    def break_received(self, msec: int) -> bool:
        return False

    def signal_received(self, signal: str) -> None:
        pass

    def eof_received(self) -> bool:
        asyncio.ensure_future(self.visit.end(End(EndKind.LEFT, "end of input")))
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        detail = "disconnected" if exc is None else f"connection lost: {clean(exc, 120)}"
        asyncio.ensure_future(self.visit.end(End(EndKind.LEFT, detail)))

    def pause_writing(self) -> None:
        self.visit.pause()

    def resume_writing(self) -> None:
        self.visit.resume()


async def open_ssh_door(hub: Hub) -> tuple[asyncssh.SSHAcceptor, str, Door]:
    """Listen for SSH; the acceptor, the log line that says where and whom it admits, and the door as
    the join lines need it (port, host key fingerprint)."""
    options = hub.options
    key_path = options.host_key or default_host_key_path()
    key, warning = load_or_create_host_key(key_path)
    if warning:
        log(warning)
    server = await asyncssh.create_server(
        lambda: KnobServer(hub), options.host, options.port,
        server_host_keys=[key], encoding=None, line_editor=False,
        login_timeout=options.login_timeout, agent_forwarding=False, x11_forwarding=False,
        allow_scp=False, config=[], keepalive_interval=30)
    sockets = server.sockets or []
    host, port = sockets[0].getsockname()[:2] if sockets else (options.host, options.port)
    access = "keys in " + str(options.authorized_keys) if options.authorized_keys else "anyone, no password"
    if options.presenting:
        how = " or ".join(x for x in (f"a key in {options.presenter_keys}" if options.presenter_keys else "",
                                      "the presenter password" if options.presenter_password else "") if x)
        access += f"; the presenter logs in as {options.presenter_user!r} with {how}, everyone else follows"
    fingerprint = key.get_fingerprint("sha256")
    log(f"host key {fingerprint} ({key_path})")
    return server, f"listening on {host}:{port} ({access})", Door("ssh", port, fingerprint=fingerprint)
