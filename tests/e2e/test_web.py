"""The browser door (`knobtui serve --web-port`) in a real browser: Debian's chromium, driven by Playwright.

Each test runs a real server process and a real headless chromium; the screen is read from the
websocket frames the page receives (browser.py).
"""

from __future__ import annotations

import asyncio
import re
import signal
from pathlib import Path

import aiohttp
import asyncssh
import pytest
from browser import Tab, chromium
from conftest import presenter_server
from harness import BOOK_LINE_1, Server, Visitor

ITERATION_2 = re.compile(r"\b2\S?\s+0\.17015625000000004\s+0\.3875\b")  # the gradient preset's second row


@pytest.fixture
def web(tmp_path: Path):  # type: ignore[no-untyped-def]
    srv = Server(tmp_path, "--no-ssh", "--web-port", "0", "--rate-limit", "100")
    yield srv
    srv.stop()


async def test_a_page_steps_resizes_and_leaves_nothing_behind(web: Server) -> None:
    async with chromium() as browser:
        tab = await Tab.open(browser, web.url, 1000, 620)
        await tab.wait_for("Knobs")
        await tab.wait_for("iteration 0")
        await tab.page.focus(".xterm-helper-textarea")
        await tab.press("Space")
        await tab.wait_for(BOOK_LINE_1)
        await tab.wait_for("iteration 1 ")
        pid = web.pid_of("door=web")
        before = tab.size
        # The page grows: xterm.js fits more cells and the simulator lays itself out again.
        await tab.page.set_viewport_size({"width": 1400, "height": 900})
        for _ in range(200):
            if tab.size != before:
                break
            await asyncio.sleep(0.05)
        cols, rows = tab.size
        assert cols > before[0] and rows > before[1], (before, tab.size)
        await tab.wait_until(lambda lines: lines[-1].rstrip().endswith("quit"), "the footer on the new last row")
        await tab.wait_for(BOOK_LINE_1)
        # Every request the page made went to this server: the page works with no network beyond it.
        assert tab.requests and all(url.startswith(web.url) for url in tab.requests), tab.requests
        # Closing the tab ends the simulator.
        assert pid in [p for p, _ in web.children()]
        await tab.close()
        await web.wait_no_children(timeout=5.0)
        assert web.log_has("disconnect 127.0.0.1 user='(browser)'")
        assert web.log_has("door=web")


async def test_a_presenter_over_ssh_and_three_browser_followers(tmp_path: Path, presenter_key: asyncssh.SSHKey) -> None:
    srv = presenter_server(tmp_path, presenter_key, "--web-port", "0")
    teacher = await Visitor.open(srv.port, 100, 30, username="teacher", client_keys=[presenter_key])
    try:
        async with chromium() as browser:
            tabs = [await Tab.open(browser, srv.url, w, h) for w, h in ((900, 560), (1200, 800), (1000, 620))]
            await teacher.wait_for("presenting to 3 followers")
            for tab in tabs:
                await tab.wait_for("following the presenter")
            teacher.press(b" ")
            for tab in tabs:
                await tab.wait_for(BOOK_LINE_1)
            teacher.press(b" ")
            for tab in tabs:
                await tab.wait_for(ITERATION_2)
                await tab.wait_for("iteration 2 ")
            # `d` in one browser: that learner plays alone; the other two still follow.
            await tabs[0].page.focus(".xterm-helper-textarea")
            await tabs[0].press("d")
            await tabs[0].wait_for("playing alone")
            await tabs[0].press("Space")
            await tabs[0].wait_for("iteration 3 ")
            teacher.press(b"b")
            for tab in tabs[1:]:
                await tab.wait_for("iteration 1 ")
                assert "following the presenter" in tab.text()
            assert "iteration 3 " in tabs[0].text()  # the presenter's step back did not reach it
            await tabs[0].press("F")
            await tabs[0].wait_for("following the presenter")
            await tabs[0].wait_for("iteration 1 ")
            for tab in tabs:
                await tab.close()
            await teacher.wait_for("presenting to 0 followers")
    finally:
        teacher.close()
        srv.stop()


async def test_browser_followers_answer_the_room_and_a_reload_keeps_the_answer(
        tmp_path: Path, presenter_key: asyncssh.SSHKey) -> None:
    srv = presenter_server(tmp_path, presenter_key, "--web-port", "0")
    teacher = await Visitor.open(srv.port, 100, 30, username="teacher", client_keys=[presenter_key])
    try:
        async with chromium() as browser:
            tabs = [await Tab.open(browser, srv.url) for _ in range(2)]
            await teacher.wait_for("presenting to 2 followers")
            for tab in tabs:
                await tab.wait_for("following the presenter")
            teacher.press(b"a")
            for tab, key in zip(tabs, ("ArrowUp", "ArrowDown")):
                await tab.wait_for("Press a key to answer")
                await tab.page.focus(".xterm-helper-textarea")
                await tab.press(key)
            await tabs[0].wait_for("Your answer: up")
            await tabs[1].wait_for("Your answer: down")
            await teacher.wait_for("2 of 2 answered")
            await tabs[0].page.reload()  # the same browser comes back: its cookie, its answer
            await tabs[0].wait_for("Your answer: up")
            await tabs[0].page.focus(".xterm-helper-textarea")
            await tabs[0].press("ArrowDown")
            await teacher.wait_for(re.compile(r"↑ up +░+ +0\b"))
            assert "2 of 2 answered" in teacher.text()  # still two answers, not three
            teacher.press(b" ")
            await tabs[0].wait_for("You said down: not right.")
    finally:
        teacher.close()
        srv.stop()


async def test_the_presenter_password_is_asked_in_the_page(tmp_path: Path) -> None:
    srv = Server(tmp_path, "--no-ssh", "--web-port", "0", env={"KNOBTUI_PRESENTER_PASSWORD": "s3cret pw"})
    try:
        async with chromium() as browser:
            teacher = await Tab.open(browser, srv.url + "presenter")
            await teacher.wait_for("presenter password (Enter to follow)")
            await teacher.page.focus(".xterm-helper-textarea")
            await teacher.type("guess")
            await teacher.press("Enter")
            await teacher.wait_for("That is not the presenter password.")
            assert "guess" not in teacher.text()  # never echoed
            await teacher.type("s3cret pw")
            await teacher.press("Enter")
            await teacher.wait_for("presenting to 0 followers")
            student = await Tab.open(browser, srv.url)
            await student.wait_for("following the presenter")
            await teacher.wait_for("presenting to 1 follower")
            await teacher.press("Space")
            await student.wait_for(BOOK_LINE_1)
            assert all("s3cret" not in url for url in teacher.requests + student.requests)
            assert srv.log_has("wrong presenter password from 127.0.0.1 user='(browser)'")
            assert srv.log_has("role=presenter")
    finally:
        srv.stop()


async def test_limits_are_shared_by_both_doors(tmp_path: Path) -> None:
    srv = Server(tmp_path, "--web-port", "0", "--max-sessions", "3", "--rate-limit", "100")
    visitors: list[Visitor] = []
    try:
        async with chromium() as browser:
            visitors = [await Visitor.open(srv.port, 80, 24) for _ in range(2)]
            for v in visitors:
                await v.wait_for("Knobs")
            tab = await Tab.open(browser, srv.url)
            await tab.wait_for("Knobs")
            full = await Tab.open(browser, srv.url)  # a fourth, by the browser
            await full.wait_for("knobtui is full (3 simulators running)")
            await asyncio.wait_for(full.closed.wait(), 10)
            late = await Visitor.open(srv.port, 80, 24)  # and a fourth by SSH
            await late.wait_for("knobtui is full (3 simulators running)")
            late.close()
            await tab.close()  # a place comes free, for either door
            assert srv.log_has("disconnect 127.0.0.1 user='(browser)'", timeout=10)
            late = await Visitor.open(srv.port, 80, 24)
            visitors.append(late)
            await late.wait_for("Knobs")
    finally:
        for v in visitors:
            v.close()
        srv.stop()


async def test_bad_requests_get_an_error_and_others_carry_on(tmp_path: Path) -> None:
    srv = Server(tmp_path, "--no-ssh", "--web-port", "0", "--rate-limit", "100")
    try:
        async with chromium() as browser:
            tab = await Tab.open(browser, srv.url)
            await tab.wait_for("iteration 0")
            async with aiohttp.ClientSession() as http:
                for path in ("/nope", "/static/js/textual.js", "/download/x", "/assets/../../pyproject.toml",
                             "/assets/", "/static/"):
                    async with http.get(srv.url.rstrip("/") + path) as r:
                        assert r.status == 404, path
                async with http.post(srv.url) as r:
                    assert r.status == 405
                async with http.get(srv.url, headers={"Host": "<script>"}) as r:
                    assert r.status == 400
                ws_url = srv.url.replace("http", "ws") + "ws?width=80&height=24"
                for bad, code in (("not json", 1003), ('["stdin"]', 1003), ('{"a": 1}', 1003),
                                  ('["resize", {"width": "x", "height": 2}]', 1003),
                                  ('["stdin", "' + "x" * 100_000 + '"]', 1009), (b"\x00\x01", 1003)):
                    async with http.ws_connect(ws_url) as ws:
                        await (ws.send_bytes(bad) if isinstance(bad, bytes) else ws.send_str(bad))
                        async for _ in ws:  # the screen, then the close
                            pass
                        assert ws.close_code == code, (bad[:40], ws.close_code)
            await tab.page.focus(".xterm-helper-textarea")
            await tab.press("Space")
            await tab.wait_for(BOOK_LINE_1)  # the page next to them never noticed
            assert srv.log_has("refused a web message from 127.0.0.1: not JSON")
            await tab.close()
            await srv.wait_no_children(timeout=5.0)
    finally:
        srv.stop()


async def test_a_vanished_browser_and_sigterm_leave_no_simulator(tmp_path: Path) -> None:
    srv = Server(tmp_path, "--no-ssh", "--web-port", "0", "--rate-limit", "100")
    try:
        async with aiohttp.ClientSession() as http:
            # A page that went silent without closing (a laptop lid shut): it never answers a ping.
            ws = await http.ws_connect(srv.url.replace("http", "ws") + "ws?width=80&height=24", autoping=False)
            assert srv.log_has("door=web pid=", timeout=20)
            await srv.wait_no_children(timeout=10.0)  # the heartbeat found it gone
            assert srv.log_has("the visitor left: connection lost")
            await ws.close()
        async with chromium() as browser:
            tab = await Tab.open(browser, srv.url)
            await tab.wait_for("iteration 0")
            assert srv.children()
            srv.proc.send_signal(signal.SIGTERM)
            await tab.wait_for("the server is shutting down; goodbye.")
            await asyncio.wait_for(tab.closed.wait(), 10)
            await tab.page.wait_for_selector("body.-closed", timeout=10_000)  # "Session ended. Start again"
            assert srv.proc.wait(15) == 0
            assert not srv.children()
    finally:
        srv.stop()
