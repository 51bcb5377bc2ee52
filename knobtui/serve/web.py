"""The browser door of `knobtui serve --web-port`: the same simulators, from a web page.

The page is textual-serve's (its xterm.js terminal, `textual.js`, and its websocket messages:
`["stdin", text]`, `["resize", {"width", "height"}]`, `["ping", x]`, `["focus"]`, `["blur"]`; screen
bytes come back as binary frames). What runs behind it is not textual-serve's: textual-serve starts
each app with Textual's web driver over pipes, and a simulator driven that way by a browser that went
away was seen spinning a core in a resize loop and ignoring SIGTERM. Here a browser visitor is a
`Visit` like an SSH one: a simulator on its own pseudo-terminal from the warm spawner (or a seat in a
shared view), under the same policies, counted against the same limits, ended the same way.

What the door adds, as a browser needs it:
- Only the page and its five assets are served, all from this server (the font too), under a
  content policy that lets the page talk to nothing else. No downloads, no directory listings.
- A dead page ends its simulator: closing the tab closes the websocket; a browser that vanished
  without closing it misses a heartbeat (HEARTBEAT s, answered within half of it).
- Messages are checked: a message that is not one the page sends, or one larger than MAX_MESSAGE,
  closes that socket with a reason; nobody else notices.
- `/presenter` asks for the presenter password inside the terminal, never in a URL or a form, and
  only where it cannot be read on the way: over HTTPS, or from this machine (or with
  --web-insecure-presenter). Elsewhere over plain HTTP it asks for nothing.
- The door checks who knocks: a websocket opened by a page of another site (its Origin is not this
  server's, nor one given with --web-origin) is refused with 403, as it could open sessions unseen.
- With --web-cert and --web-key it speaks HTTPS and WSS; behind a reverse proxy that ends TLS,
  --web-proxy names the proxies whose X-Forwarded-For/-Proto/-Host are believed (nobody else's).
"""

from __future__ import annotations

import asyncio
import html
import ipaddress
import json
import re
import secrets
import ssl
import string
from importlib.resources import files
from pathlib import Path

from aiohttp import WSCloseCode, WSMsgType, web
from aiohttp.typedefs import Handler
from yarl import URL

from .door import Knock, Stage
from .gates import End, EndKind, clean
from .hub import Hub, ServeOptions, log
from .join import Door
from .visit import Visit

HEARTBEAT = 3.0  # seconds between pings; a page that misses one answer (HEARTBEAT / 2) is gone
MAX_MESSAGE = 64 * 1024  # the largest message a page may send (a long paste is ~ a few KB)
HIGH_WATER = 64 * 1024  # unsent screen bytes above which the visit stops reading its simulator
LOW_WATER = 16 * 1024
MAX_FRAME = 256 * 1024
TERM = "xterm-256color"  # what xterm.js is
CLIENT_ENV = {"COLORTERM": "truecolor"}
USERNAME = "(browser)"
PASSWORD_LIMIT = 256
VOTER_COOKIE = "knobtui_voter"  # a random id per browser: its answers to the room's questions count once
VOTER_COOKIE_VALUE = re.compile(r"[0-9a-f]{32}")
PRESENTER_OVER_HTTPS = ("knobtui: the presenter logs in over HTTPS or SSH, so that the password never "
                        "crosses the network in clear text.\n")
HOST_HEADER = re.compile(r"[A-Za-z0-9.\-]{1,253}(:\d{1,5})?|\[[0-9A-Fa-f:.]{2,45}\](:\d{1,5})?")

SECURITY_HEADERS = {
    # The page's scripts, styles and font are this server's; it may open a socket only to this server.
    # (textual.js would fetch any URL given as ?ping=...; xterm.js inserts <style> elements.)
    "Content-Security-Policy": ("default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                                "font-src 'self'; img-src 'self' data:; connect-src 'self'; "
                                "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Server": "knobtui",
}


def _assets() -> dict[str, tuple[Path, str]]:
    """The only files the door serves: name → (path, content type)."""
    textual_serve = Path(str(files("textual_serve"))) / "static"
    page = Path(str(files("knobtui.serve"))) / "page"
    return {
        "textual.js": (textual_serve / "js" / "textual.js", "text/javascript"),
        "xterm.css": (textual_serve / "css" / "xterm.css", "text/css"),
        "RobotoMono.ttf": (textual_serve / "fonts" / "RobotoMono-VariableFont_wght.ttf", "font/ttf"),
        "page.css": (page / "page.css", "text/css"),
        "page.js": (page / "page.js", "text/javascript"),
    }


class TLSError(ValueError):
    """A certificate or key the browser door cannot use, in one sentence."""


def tls_context(cert: Path, key: Path) -> ssl.SSLContext:
    """The browser door's TLS: the certificate chain and its key, checked now (TLSError names the file)."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        context.load_cert_chain(cert, key)
    except FileNotFoundError as exc:
        raise TLSError(f"no such file: {exc.filename or cert}") from None
    except (ssl.SSLError, OSError) as exc:
        raise TLSError(f"cannot use the certificate {cert} with the key {key} (PEM files, the key without a "
                       f"passphrase): {clean(getattr(exc, 'reason', None) or exc, 120)}") from None
    return context


def proxy_networks(texts: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """--web-proxy's addresses (or networks); ValueError names one that is neither."""
    out = []
    for text in texts:
        try:
            out.append(ipaddress.ip_network(text.strip(), strict=False))
        except ValueError:
            raise ValueError(f"{text!r} is not an IP address or network") from None
    return tuple(out)


def origin_of(text: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of an origin or URL, lower case with the scheme's port filled in; None if it is
    not one (\"null\", a path, an unknown scheme)."""
    try:
        url = URL(text.strip())
    except ValueError:
        return None
    scheme = url.scheme.lower()
    if scheme not in ("http", "https", "ws", "wss") or not url.host:
        return None
    scheme = {"ws": "http", "wss": "https"}.get(scheme, scheme)
    port = url.explicit_port or (443 if scheme == "https" else 80)
    return scheme, url.host.lower().strip("[]"), port


def _is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


class ProtocolError(ValueError):
    """A websocket message the page does not send."""


def parse_message(kind: WSMsgType, data: object) -> tuple[str, object]:
    """One message from the page, checked: (type, payload), or ProtocolError saying what was wrong."""
    if kind is not WSMsgType.TEXT or not isinstance(data, str):
        raise ProtocolError("a binary message")
    try:
        envelope = json.loads(data)
    except (ValueError, RecursionError):  # RecursionError: "[" nested 60,000 deep
        raise ProtocolError("not JSON") from None
    if not isinstance(envelope, list) or not envelope or not isinstance(envelope[0], str):
        raise ProtocolError("not a [type, ...] list")
    name = envelope[0]
    payload = envelope[1] if len(envelope) > 1 else None
    if name == "stdin":
        if not isinstance(payload, str):
            raise ProtocolError("stdin without text")
        return name, payload
    if name == "resize":
        if not (isinstance(payload, dict) and all(isinstance(payload.get(k), int) and not isinstance(payload.get(k), bool)
                                                  for k in ("width", "height"))):
            raise ProtocolError("resize without a whole width and height")
        return name, (payload["width"], payload["height"])
    if name == "ping":
        return name, clean(payload, 32) if payload is not None else ""
    if name in ("focus", "blur"):
        return name, None
    raise ProtocolError(f"unknown type {clean(name, 32)!r}")


def _size(request: web.Request) -> tuple[int, int]:
    def number(name: str, default: int) -> int:
        text = request.query.get(name, "")
        return int(text) if text.isdigit() and len(text) < 6 else default
    return number("width", 80), number("height", 24)


async def _pong(ws: web.WebSocketResponse, payload: object) -> None:
    try:
        await ws.send_json(["pong", payload])
    except (ConnectionError, RuntimeError):
        pass  # the page is going; its loop ends on the close


def door_terms(options: ServeOptions, secure: bool) -> str:
    """How the browser door admits, for its log line."""
    terms = ["https" if secure else "http, not encrypted"]
    if options.web_proxies:
        terms.append(f"forwarded headers believed from {', '.join(options.web_proxies)}")
    if options.presenter_password:
        if secure:
            terms.append("the presenter opens /presenter")
        elif options.web_insecure_presenter:
            terms.append("the presenter opens /presenter, even over plain HTTP")
        else:
            terms.append("/presenter only from this machine or through an HTTPS proxy")
    return "; ".join(terms)


class WebChannel:
    """A websocket as a visit's `Channel`: screen bytes queue here and go out as binary frames, one
    frame per batch; a page that does not keep up stops its own simulator, nobody else's."""

    door = "web"

    def __init__(self, ws: web.WebSocketResponse, request: web.Request) -> None:
        self.ws = ws
        self.transport = request.transport
        self.visit: Visit | None = None
        self.status: int | None = None  # set when the visit closes the channel
        self._buffer = bytearray()
        self._wake = asyncio.Event()
        self._paused = False
        self.task = asyncio.ensure_future(self._pump())

    def write(self, data: bytes) -> None:
        if self.status is not None or self.ws.closed:
            return
        self._buffer += data
        self._wake.set()
        if len(self._buffer) > HIGH_WATER and not self._paused and self.visit is not None:
            self._paused = True
            self.visit.pause()

    def backlog(self) -> int:
        transport = self.transport
        return len(self._buffer) + (transport.get_write_buffer_size() if transport is not None else 0)

    def close(self, status: int) -> None:
        if self.status is None:
            self.status = status
            self._wake.set()

    async def _pump(self) -> None:
        try:
            while True:
                await self._wake.wait()
                self._wake.clear()
                while self._buffer:
                    data = bytes(self._buffer[:MAX_FRAME])
                    del self._buffer[:MAX_FRAME]
                    await self.ws.send_bytes(data)
                    if self._paused and len(self._buffer) < LOW_WATER and self.visit is not None:
                        self._paused = False
                        self.visit.resume()
                if self.status is not None:
                    await self.ws.close(code=WSCloseCode.OK, message=f"exit {self.status}".encode())
                    return
        except (ConnectionError, RuntimeError, asyncio.CancelledError):
            pass


class WebDoor:
    """The HTTP listener: the page, its assets, and one websocket per simulator."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.assets = _assets()
        self.page = string.Template((Path(str(files("knobtui.serve"))) / "page" / "index.html").read_text("utf-8"))
        self.sockets: set[web.WebSocketResponse] = set()  # open websockets, closed at shutdown
        self.runner: web.AppRunner | None = None
        self.site: web.TCPSite | None = None
        options = hub.options
        self.tls = tls_context(options.web_cert, options.web_key) if options.web_cert and options.web_key else None
        self.proxies = proxy_networks(options.web_proxies)
        # The page's own origin always passes; so do those given, and the public URL's behind a proxy.
        given = (*options.web_origins, *((options.web_url,) if options.web_url else ()))
        self.origins = {o for o in (origin_of(text) for text in given) if o is not None}
        self._origin_logged: set[str] = set()  # addresses whose cross-site socket was logged (once each)

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._forwarded, self._headers], client_max_size=MAX_MESSAGE)
        app.add_routes([
            web.get("/", self.index),
            web.get("/presenter", self.index),
            web.get("/ws", self.socket),
            web.get("/ws/presenter", self.socket),
            web.get("/assets/{name}", self.asset),
            web.get("/favicon.ico", self.no_icon),
        ])
        return app

    async def open(self) -> tuple[str, Door]:
        """Listen; the log line that says where and how, and the door as the join lines need it."""
        options = self.hub.options
        assert options.web_port is not None
        self.runner = web.AppRunner(self.app(), access_log=None, handle_signals=False, shutdown_timeout=2.0)
        await self.runner.setup()
        self.site = web.TCPSite(self.runner, options.host, options.web_port, ssl_context=self.tls)
        await self.site.start()
        addresses = self.runner.addresses  # where it listens: the port chosen when --web-port 0
        host, port = addresses[0][:2] if addresses else (options.host, options.web_port)
        return f"browser door on {host}:{port} ({door_terms(options, self.tls is not None)})", \
            Door("web", port, secure=self.tls is not None)

    async def stop_listening(self) -> None:
        if self.site is not None:
            await self.site.stop()

    async def close(self) -> None:
        for ws in list(self.sockets):
            await ws.close(code=WSCloseCode.GOING_AWAY, message=b"the server is shutting down")
        if self.runner is not None:
            await self.runner.cleanup()

    # ---- HTTP ----------------------------------------------------------------------------------
    @web.middleware
    async def _forwarded(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """A request through a trusted proxy (--web-proxy) is the client's: its address, scheme and host as
        the proxy's X-Forwarded-* headers give them. From anyone else those headers mean nothing."""
        if not self.proxies or not self._from_proxy(request.remote or ""):
            return await handler(request)
        changes: dict[str, str] = {}
        hops = [h.strip() for h in request.headers.get("X-Forwarded-For", "").split(",") if h.strip()]
        if hops:
            try:
                changes["remote"] = str(ipaddress.ip_address(hops[-1].strip("[]")))  # the proxy's own entry
            except ValueError:
                pass
        proto = request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower()
        if proto in ("http", "https"):
            changes["scheme"] = proto
        forwarded_host = request.headers.get("X-Forwarded-Host", "").split(",")[0].strip()
        if forwarded_host and HOST_HEADER.fullmatch(forwarded_host):
            changes["host"] = forwarded_host
        return await handler(request.clone(**changes) if changes else request)  # type: ignore[arg-type]

    def _from_proxy(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.proxies)

    def presenter_refused(self, request: web.Request) -> bool:
        """Whether the presenter's password would cross a network in clear text here: plain HTTP from
        another machine, unless --web-insecure-presenter."""
        return not (request.secure or _is_loopback(request.remote or "") or self.hub.options.web_insecure_presenter)

    def cross_site(self, request: web.Request) -> str | None:
        """The Origin of a websocket upgrade that is neither this page's own nor one allowed; None if fine.
        A client that sends no Origin is not a browser page (browsers always send one), so it passes."""
        origin = request.headers.get("Origin")
        if origin is None:
            return None
        own = origin_of(f"{request.scheme}://{request.host}")
        mine = origin_of(origin)
        if mine is not None and (mine == own or mine in self.origins):
            return None
        return origin

    @web.middleware
    async def _headers(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            if exc.status == 404:
                self.hub.rare(f"web 404 {request.remote}", f"web: no page {clean(request.path, 80)!r} "
                              f"(asked by {clean(request.remote or '?')})")
            exc.headers.update(SECURITY_HEADERS)
            raise
        if not isinstance(response, web.WebSocketResponse):
            response.headers.update(SECURITY_HEADERS)
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    async def index(self, request: web.Request) -> web.Response:
        host = request.host if HOST_HEADER.fullmatch(request.host or "") else None
        if host is None:
            raise web.HTTPBadRequest(text="knobtui: the Host header is not a host name")
        if request.path == "/presenter" and self.presenter_refused(request):
            return web.Response(status=403, text=PRESENTER_OVER_HTTPS)
        scheme = "wss" if request.secure else "ws"
        # textual.js appends "?width=..&height=.." to this URL: the role is in its path.
        socket = f"{scheme}://{host}/ws" + ("/presenter" if request.path == "/presenter" else "")
        font = request.query.get("fontsize", "16")
        font_size = int(font) if font.isdigit() and 8 <= int(font) <= 48 else 16
        body = self.page.substitute(title="knobtui", socket=html.escape(socket),
                                    font_size=font_size)
        response = web.Response(text=body, content_type="text/html", charset="utf-8")
        if not VOTER_COOKIE_VALUE.fullmatch(request.cookies.get(VOTER_COOKIE, "")):
            # Who this browser is, to the room's questions: a reload keeps its answer (serve/voters.py).
            response.set_cookie(VOTER_COOKIE, secrets.token_hex(16), httponly=True, samesite="Strict",
                                max_age=7 * 24 * 3600, path="/")
        return response

    async def no_icon(self, request: web.Request) -> web.Response:
        return web.Response(status=204)

    async def asset(self, request: web.Request) -> web.StreamResponse:
        entry = self.assets.get(request.match_info["name"])
        if entry is None:
            raise web.HTTPNotFound(text="knobtui: no such file\n")
        path, kind = entry
        # Cached: 300 browsers would otherwise fetch half a megabyte of script each time they reload.
        return web.FileResponse(path, headers={"Content-Type": kind, "Cache-Control": "public, max-age=3600"})

    # ---- the websocket: one simulator ----------------------------------------------------------
    async def socket(self, request: web.Request) -> web.StreamResponse:
        hub = self.hub
        address = request.remote or "?"
        origin = self.cross_site(request)
        if origin is not None:
            if address not in self._origin_logged and len(self._origin_logged) < 100_000:
                self._origin_logged.add(address)
                log(f"refused a websocket from {clean(address)}: opened by a page of {clean(origin, 100)!r}, "
                    f"not this server's (--web-origin allows another)")
            return web.Response(status=403, text="knobtui: this door opens only to its own page\n")
        if request.path == "/ws/presenter" and self.presenter_refused(request):
            return web.Response(status=403, text=PRESENTER_OVER_HTTPS)
        knock = Knock("web", address, USERNAME)
        refused = hub.door.admit(knock, Stage.CONNECT)  # the same gates as the SSH door's
        if refused is not None:
            return web.Response(status=429, text=f"knobtui: {refused.words}\n")
        hub.connections += 1
        ws = web.WebSocketResponse(heartbeat=HEARTBEAT, max_msg_size=MAX_MESSAGE, timeout=2.0)
        channel: WebChannel | None = None
        visit: Visit | None = None
        end = End(EndKind.LEFT, "page closed")
        try:
            await ws.prepare(request)
            self.sockets.add(ws)
            channel = WebChannel(ws, request)
            cols, rows = _size(request)
            presenter = False
            if request.path == "/ws/presenter":
                answer = await self._presenter_login(ws, channel, knock)
                if answer is None:
                    return ws
                presenter = answer
            cookie = request.cookies.get(VOTER_COOKIE, "")
            visit = Visit(hub, channel, address, USERNAME, presenter,
                          identity=f"web:{cookie}" if VOTER_COOKIE_VALUE.fullmatch(cookie) else "")
            channel.visit = visit
            visit.set_size(cols, rows)
            if not visit.start(TERM, dict(CLIENT_ENV)):
                return ws
            end = await self._read(ws, visit)
        finally:
            if visit is not None:
                await visit.end(end)
            if channel is not None:
                channel.close(0)  # the page left or was turned away: its socket closes (once)
                try:
                    await asyncio.wait_for(channel.task, 3.0)
                except (asyncio.TimeoutError, asyncio.CancelledError):
                    channel.task.cancel()
            if not ws.closed and ws.prepared:
                await ws.close()
            self.sockets.discard(ws)
            hub.connections -= 1
        return ws

    async def _read(self, ws: web.WebSocketResponse, visit: Visit) -> End:
        """Carry the page's messages to the visit until the page goes; how it went."""
        async for message in ws:
            if message.type in (WSMsgType.ERROR, WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED):
                break
            try:
                name, payload = parse_message(message.type, message.data)
            except ProtocolError as exc:
                log(f"refused a web message from {clean(visit.address)}: {exc}; closing that page")
                visit.channel.write(b"\r\nknobtui: this page sent a message it should not have; goodbye.\r\n")
                await asyncio.sleep(0)
                await ws.close(code=WSCloseCode.UNSUPPORTED_DATA, message=b"knobtui: not a message this page sends")
                return End(EndKind.LEFT, f"bad message: {exc}")
            if name == "stdin":
                visit.keys(str(payload).encode("utf-8", "replace"))
            elif name == "resize" and isinstance(payload, tuple):
                visit.resize(*payload)
            elif name == "ping":
                await _pong(ws, payload)
        problem = ws.exception()
        if problem is not None:
            return End(EndKind.LEFT, f"connection lost: {clean(problem, 120)}")
        return End(EndKind.LEFT, "page closed")

    async def _presenter_login(self, ws: web.WebSocketResponse, channel: WebChannel, knock: Knock) -> bool | None:
        """Ask for the presenter password in the terminal: True (presenter), False (follow), None (gone). The
        door's PresenterLogin decides, as for the SSH door."""
        hub = self.hub
        if not hub.options.presenter_password:
            channel.write(b"This server's presenter logs in over SSH with a key. You are following.\r\n")
            return False
        while True:
            channel.write(b"\r\nknobtui presenter password (Enter to follow): ")
            try:
                answer = await asyncio.wait_for(self._read_line(ws, channel), hub.options.login_timeout)
            except asyncio.TimeoutError:
                channel.write(b"\r\nNo answer in time; goodbye.\r\n")
                channel.close(1)
                return None
            if answer is None:
                return None
            refused = await hub.door.login(knock, answer)
            if refused is None:
                if knock.presenter:
                    channel.write(b"\r\n")
                return knock.presenter
            if refused.final:
                channel.write(f"\r\n{refused.words}; goodbye.\r\n".encode())
                channel.close(1)
                return None
            channel.write(f"\r\n{refused.words}".encode())  # the door's words, the same as the SSH door's

    @staticmethod
    async def _read_line(ws: web.WebSocketResponse, channel: WebChannel) -> str | None:
        """A line typed in the terminal, not echoed (Backspace edits; Ctrl+C, Ctrl+D or a closed page: None)."""
        typed: list[str] = []
        async for message in ws:
            try:
                name, payload = parse_message(message.type, message.data)
            except ProtocolError:
                return None
            if name == "ping":
                await _pong(ws, payload)
            if name != "stdin":
                continue
            for ch in str(payload):
                if ch in "\r\n":
                    return "".join(typed)
                if ch in "\x03\x04":
                    return None
                if ch in "\x7f\x08":
                    if typed:
                        typed.pop()
                elif ch.isprintable() and len(typed) < PASSWORD_LIMIT:
                    typed.append(ch)
        return None
