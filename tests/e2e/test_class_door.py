"""Joining a class: the join lines `serve` prints, the presenter's rule over plain HTTP, HTTPS and WSS in a
real browser, the door that checks who knocks, a trusted proxy, and the join screen's QR code read back.

Addresses that are not loopback live in a network namespace the test makes (netns.py).
"""

from __future__ import annotations

import asyncio
import re
import ssl
import subprocess
from pathlib import Path

import aiohttp
import asyncssh
import pyte
import pytest
from aiohttp import web
from browser import Tab, certificate, chromium, trusting_home
from conftest import presenter_server
from harness import BOOK_LINE_1, Server, Visitor
from netns import ADDRESS, in_netns, needs_netns, netns_server, nsenter
from qrread import read_qr

PASSWORD = "s3cret pw"
REFUSAL = "the presenter logs in over HTTPS or SSH"


def _join_lines(srv: Server) -> list[str]:
    return [line.split("knobtui serve: ", 1)[1] for line in srv.lines if "knobtui serve: join " in line]


class Terminal:
    """A websocket of the browser door read as the page would show it (no browser: a pyte screen)."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.screen = pyte.Screen(100, 30)
        self.stream = pyte.ByteStream(self.screen)

    async def wait_for(self, text: str, timeout: float = 30.0) -> None:
        async def read() -> None:
            while text not in "\n".join(self.screen.display):
                message = await self.ws.receive()
                if message.type == aiohttp.WSMsgType.BINARY:
                    self.stream.feed(message.data)
                elif message.type != aiohttp.WSMsgType.TEXT:
                    raise AssertionError(f"{text!r} never came; the socket closed; the screen was:\n"
                                         + "\n".join(self.screen.display))
        await asyncio.wait_for(read(), timeout)

    async def type(self, text: str) -> None:
        await self.ws.send_json(["stdin", text])


async def _presenter_logs_in(http: aiohttp.ClientSession, base: str, origin: str | None = None) -> None:
    """The presenter's socket at `base`: the password asked in the terminal, typed, and the role given."""
    async with http.ws_connect(base + "/ws/presenter?width=100&height=30", origin=origin) as ws:
        term = Terminal(ws)
        await term.wait_for("presenter password (Enter to follow)")
        await term.type(PASSWORD + "\r")
        await term.wait_for("presenting to 0 followers")


# ---- the join lines ------------------------------------------------------------------------------------
@needs_netns
@pytest.mark.parametrize("host", [ADDRESS, "0.0.0.0"], ids=["one-address", "every-address"])
def test_the_join_lines_name_the_address_learners_reach_and_it_answers(tmp_path: Path, host: str) -> None:
    srv = netns_server(tmp_path, "--host", host, "--web-port", "0")
    try:
        assert srv.log_has("join in a browser:", timeout=10)
        fingerprint = asyncssh.read_private_key(str(srv.key)).get_fingerprint("sha256")
        assert _join_lines(srv) == [
            f"join by SSH: ssh -p {srv.port} yourname@{ADDRESS}  (host key {fingerprint})",
            f"join in a browser: http://{ADDRESS}:{srv.web_port}/",
        ]
        # Nothing names the wildcard as a place to connect to (it is only where the server listens).
        assert not any(re.search(r"@(0\.0\.0\.0|::)\b|//(0\.0\.0\.0|\[::\])", line) for line in srv.lines)
        # The printed command and key are true: OpenSSH's keyscan at that address and port gets that key.
        scan = nsenter(srv.proc.pid, "ssh-keyscan", "-T", "10", "-p", str(srv.port), ADDRESS)
        assert "ssh-ed25519" in scan.stdout, scan.stderr
        printed = subprocess.run(["ssh-keygen", "-l", "-E", "sha256", "-f", "-"], input=scan.stdout,
                                 capture_output=True, text=True).stdout
        assert fingerprint in printed, printed
        # And the printed URL serves the page.
        async def fetch() -> tuple[int, str]:
            async with aiohttp.ClientSession() as http, http.get(f"http://{ADDRESS}:{srv.web_port}/") as r:
                return r.status, await r.text()
        status, body = in_netns(srv.proc.pid, fetch)
        assert status == 200 and "data-session-websocket-url" in body
    finally:
        srv.stop()


def test_a_server_on_loopback_says_only_this_machine_can_come_in(tmp_path: Path) -> None:
    srv = Server(tmp_path, "--no-ssh", "--web-port", "0")
    try:
        assert srv.log_has("only this machine can come in", timeout=10)
        assert _join_lines(srv)[0] == f"join in a browser: http://127.0.0.1:{srv.web_port}/"
    finally:
        srv.stop()


# ---- the presenter's password never crosses a network in clear text ---------------------------------------
@needs_netns
async def test_the_presenter_over_plain_http_from_another_machine_is_refused_and_over_https_accepted(
        tmp_path: Path) -> None:
    env = {"KNOBTUI_PRESENTER_PASSWORD": PASSWORD}
    plain = netns_server(tmp_path, "--no-ssh", "--host", "0.0.0.0", "--web-port", "0", env=env)
    try:
        async def over_http() -> None:
            async with aiohttp.ClientSession() as http:
                far, near = f"http://{ADDRESS}:{plain.web_port}", f"http://127.0.0.1:{plain.web_port}"
                async with http.get(far + "/presenter") as r:  # from ADDRESS: another machine, to the server
                    assert r.status == 403
                    text = await r.text()
                    assert REFUSAL in text and "password:" not in text
                with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                    await http.ws_connect(far + "/ws/presenter?width=100&height=30")
                assert refused.value.status == 403
                async with http.get(far + "/") as r:  # followers come in as before
                    assert r.status == 200
                async with http.get(near + "/presenter") as r:  # from this machine: as today
                    assert r.status == 200
                await _presenter_logs_in(http, near.replace("http", "ws"))
        await asyncio.to_thread(in_netns, plain.proc.pid, over_http)
        assert plain.log_has("/presenter only from this machine or through an HTTPS proxy")
    finally:
        plain.stop()

    ca, cert, key = certificate(tmp_path, ADDRESS)
    secure = netns_server(tmp_path, "--no-ssh", "--host", ADDRESS, "--web-port", "0",
                          "--web-cert", str(cert), "--web-key", str(key), env=env)
    try:
        assert secure.log_has(f"join in a browser: https://{ADDRESS}:{secure.web_port}/", timeout=10)

        async def over_https() -> None:
            context = ssl.create_default_context()
            ca.configure_trust(context)
            async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=context)) as http:
                url = f"https://{ADDRESS}:{secure.web_port}"
                async with http.get(url + "/presenter") as r:
                    assert r.status == 200
                    assert f"wss://{ADDRESS}:{secure.web_port}/ws/presenter" in await r.text()
                await _presenter_logs_in(http, url.replace("https", "wss"), origin=url)
        await asyncio.to_thread(in_netns, secure.proc.pid, over_https)
        assert secure.log_has("role=presenter")
    finally:
        secure.stop()


@needs_netns
async def test_insecure_presenter_is_allowed_and_warned_about(tmp_path: Path) -> None:
    srv = netns_server(tmp_path, "--no-ssh", "--host", ADDRESS, "--web-port", "0", "--web-insecure-presenter",
                       env={"KNOBTUI_PRESENTER_PASSWORD": PASSWORD})
    try:
        assert srv.log_has("warning: --web-insecure-presenter: the presenter password may cross the network "
                           "in clear text", timeout=10)

        async def ask() -> int:
            async with aiohttp.ClientSession() as http, \
                    http.get(f"http://{ADDRESS}:{srv.web_port}/presenter") as r:
                return r.status
        assert await asyncio.to_thread(in_netns, srv.proc.pid, ask) == 200
    finally:
        srv.stop()


# ---- HTTPS and WSS in a real browser ------------------------------------------------------------------------
async def test_https_and_wss_in_chromium_with_a_test_authority(tmp_path: Path) -> None:
    ca, cert, key = certificate(tmp_path, "127.0.0.1")
    srv = Server(tmp_path, "--no-ssh", "--web-port", "0", "--web-cert", str(cert), "--web-key", str(key),
                 "--rate-limit", "100")
    try:
        url = f"https://127.0.0.1:{srv.web_port}/"
        assert srv.log_has(f"join in a browser: {url}", timeout=10)
        async with chromium(home=trusting_home(tmp_path, ca)) as browser:
            tab = await Tab.open(browser, url)
            await tab.wait_for("iteration 0")
            assert tab.socket is not None and tab.socket.url.startswith(f"wss://127.0.0.1:{srv.web_port}/ws?")
            await tab.page.focus(".xterm-helper-textarea")
            await tab.press("Space")
            await tab.wait_for(BOOK_LINE_1)
            assert all(u.startswith(url) for u in tab.requests), tab.requests
            await tab.close()
        # Plain HTTP to the TLS port gets no page.
        async with aiohttp.ClientSession() as http:
            with pytest.raises(aiohttp.ClientError):
                async with http.get(f"http://127.0.0.1:{srv.web_port}/") as r:
                    await r.read()
    finally:
        srv.stop()


# ---- the door checks who knocks ----------------------------------------------------------------------------
async def test_a_page_of_another_site_cannot_open_the_door(tmp_path: Path) -> None:
    srv = Server(tmp_path, "--no-ssh", "--web-port", "0", "--rate-limit", "100",
                 "--web-origin", "http://allowed.example:8080")
    door = f"127.0.0.1:{srv.web_port}"
    # Another site, on another port: its page opens a websocket to the classroom server in the background.
    evil = web.Application()
    page = (f"<script>const ws = new WebSocket('ws://{door}/ws?width=80&height=24');"
            "ws.onopen = () => document.title = 'opened'; ws.onerror = () => document.title = 'refused';</script>")

    async def evil_page(request: web.Request) -> web.Response:
        return web.Response(text=page, content_type="text/html")
    evil.add_routes([web.get("/", evil_page)])
    runner = web.AppRunner(evil)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    evil_url = f"http://127.0.0.1:{runner.addresses[0][1]}/"
    try:
        async with chromium() as browser:
            for _ in range(2):
                page_ = await browser.new_page()
                await page_.goto(evil_url)
                await page_.wait_for_function("document.title !== ''", timeout=15_000)
                assert await page_.title() == "refused"
                await page_.close()
            # The page's own origin still gets in.
            tab = await Tab.open(browser, srv.url)
            await tab.wait_for("iteration 0")
            await tab.close()
        async with aiohttp.ClientSession() as http:
            ws_url = f"ws://{door}/ws?width=80&height=24"
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await http.ws_connect(ws_url, origin="null")
            assert refused.value.status == 403
            async with http.ws_connect(ws_url, origin="http://allowed.example:8080") as ws:  # --web-origin
                assert (await ws.receive()).type == aiohttp.WSMsgType.BINARY
        origin = evil_url.rstrip("/")
        refusals = [line for line in srv.lines if "refused a websocket from 127.0.0.1" in line]
        assert len(refusals) == 1, refusals  # logged once per address, three refusals
        assert repr(origin) in refusals[0]
    finally:
        await runner.cleanup()
        srv.stop()


async def test_only_the_named_proxy_is_believed(tmp_path: Path) -> None:
    env = {"KNOBTUI_PRESENTER_PASSWORD": PASSWORD}
    for proxied in (True, False):
        (tmp_path / str(proxied)).mkdir()
        args = ("--web-proxy", "127.0.0.0/8", "--web-url", "https://knobtui.school.example/") if proxied else ()
        srv = Server(tmp_path / str(proxied), "--no-ssh", "--web-port", "0", *args, env=env)
        try:
            async with aiohttp.ClientSession() as http:
                # A learner at 203.0.113.9 through a proxy that speaks plain HTTP to them: refused if the proxy
                # is believed, and (from loopback) let in when it is not.
                far = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "http"}
                async with http.get(srv.url + "presenter", headers=far) as r:
                    assert r.status == (403 if proxied else 200)
                # Through a proxy that ended TLS: the page's socket is wss on the proxy's host.
                tls = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https",
                       "X-Forwarded-Host": "knobtui.school.example"}
                async with http.get(srv.url + "presenter", headers=tls) as r:
                    assert r.status == 200
                    body = await r.text()
                    expected = "wss://knobtui.school.example/ws/presenter" if proxied else "ws://127.0.0.1:"
                    assert expected in body
                async with http.ws_connect(srv.url.replace("http", "ws") + "ws?width=80&height=24",
                                           headers={"X-Forwarded-For": "203.0.113.9"}) as ws:
                    assert (await ws.receive()).type == aiohttp.WSMsgType.BINARY
                    who = "203.0.113.9" if proxied else "127.0.0.1"
                    assert srv.log_has(f"connect {who} user='(browser)'", timeout=10)
                # The page as the proxy serves it may open its socket (--web-url's origin); elsewhere it may not.
                public = {"origin": "https://knobtui.school.example"}
                if proxied:
                    async with http.ws_connect(srv.url.replace("http", "ws") + "ws?width=80&height=24", **public) as ws:
                        assert (await ws.receive()).type == aiohttp.WSMsgType.BINARY
                else:
                    with pytest.raises(aiohttp.WSServerHandshakeError):
                        await http.ws_connect(srv.url.replace("http", "ws") + "ws?width=80&height=24", **public)
        finally:
            srv.stop()


# ---- the join screen's QR code, read back ---------------------------------------------------------------
@pytest.mark.parametrize("ascii, size", [(False, (100, 30)), (False, (120, 40)), (True, (120, 40))],
                         ids=["half-blocks", "full-blocks", "ascii"])
async def test_the_join_screen_qr_code_reads_back_as_the_url(tmp_path: Path, presenter_key: asyncssh.SSHKey,
                                                             ascii: bool, size: tuple[int, int]) -> None:
    keys = tmp_path / "presenter_keys"
    keys.write_bytes(presenter_key.export_public_key())
    srv = Server(tmp_path, "--presenter-key", str(keys), "--web-port", "0", "--rate-limit", "100",
                 *(("--ascii",) if ascii else ()))
    teacher = await Visitor.open(srv.port, *size, username="teacher", client_keys=[presenter_key])
    follower = None
    try:
        url = f"http://127.0.0.1:{srv.web_port}/"
        assert srv.log_has(f"join in a browser: {url}")
        await teacher.wait_for("presenting to 0 followers")
        teacher.press(b"j")
        await teacher.wait_for("0 following")
        assert url in teacher.text() and f"ssh -p {srv.port} yourname@127.0.0.1" in teacher.text()
        follower = await Visitor.open(srv.port, 80, 24)
        await teacher.wait_for("1 following")  # live
        glyphs = set("".join(teacher.screen.display))
        assert ("#" in glyphs) if ascii else ("▀" in glyphs if size == (100, 30) else "▀" not in glyphs)
        assert read_qr(teacher.screen) == url
        teacher.press(b" ")  # the presenter's keys wait while the join screen is up
        teacher.press(b"\x1b")
        await teacher.wait_for("presenting to 1 follower")
        teacher.press(b" ")
        await follower.wait_for(BOOK_LINE_1)  # followers follow on, and no step was taken behind the screen
        assert "iteration 1 " in follower.text()
    finally:
        teacher.close()
        if follower is not None:
            follower.close()
        srv.stop()


# ---- a phone's browser -------------------------------------------------------------------------------
async def test_a_phone_shows_the_shared_view_sideways_or_not(tmp_path: Path, presenter_key: asyncssh.SSHKey) -> None:
    """A phone's screen in CSS pixels (about 60x20 cells at the page's usual font when sideways): the page's
    font shrinks until the simulator's smallest layout fits, and the follower sees the shared view."""
    srv = presenter_server(tmp_path, presenter_key, "--web-port", "0")
    teacher = await Visitor.open(srv.port, 100, 30, username="teacher", client_keys=[presenter_key])
    try:
        async with chromium() as browser:
            for width, height in ((740, 360), (640, 360), (360, 740)):
                tab = await Tab.open(browser, srv.url, width, height)
                await tab.wait_for("following the presenter")
                await tab.wait_for("Knobs")
                cols, rows = tab.size
                assert cols >= 60 and rows >= 20, (width, height, tab.size)
                # A shared view is drawn at a size shared with others (a few cells may stay blank below it).
                await tab.wait_until(lambda lines: any(line.rstrip().endswith("q quit") for line in lines),
                                     "the key bar")
                assert "needs at least" not in tab.text()
                teacher.press(b" ")
                await tab.wait_for(BOOK_LINE_1)
                teacher.press(b"b")
                await tab.wait_for("iteration 0")
                await tab.close()
            # An explicit ?fontsize= is kept, and a screen too small for it says so instead of breaking.
            tab = await Tab.open(browser, srv.url + "?fontsize=16", 740, 360)
            await tab.wait_for("needs at least 60 x 20")
            await tab.close()
    finally:
        teacher.close()
        srv.stop()
