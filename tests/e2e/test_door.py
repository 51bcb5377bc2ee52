"""One door: the SSH and the web doors let visitors in through the same `admit()` (serve/door.py). A gate
added where the server builds its gates (gated_serve.py) turns away a real OpenSSH client in a real
terminal and a websocket client alike, with the gate's own words, and no simulator starts."""

from __future__ import annotations

import sys
from pathlib import Path

import aiohttp

from gated_serve import WORDS
from harness import Server, Tmux

LAUNCHER = Path(__file__).with_name("gated_serve.py")


async def test_a_gate_added_once_turns_away_both_an_openssh_client_and_a_websocket(tmp_path: Path) -> None:
    srv = Server(tmp_path, "--web-port", "0", "--rate-limit", "100", prefix=(sys.executable, str(LAUNCHER)))
    term = Tmux(tmp_path, 80, 24)
    try:
        term.start(["ssh", "-tt", "-p", str(srv.port), "-o", "StrictHostKeyChecking=no",
                    "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", "-o", "BatchMode=yes",
                    "student@127.0.0.1"])
        term.wait_for(WORDS, timeout=30)
        assert term.exit_status() == 1
        received = b""
        async with aiohttp.ClientSession() as http:
            async with http.ws_connect(srv.url.replace("http", "ws") + "ws?width=80&height=24") as ws:
                async for message in ws:
                    if message.type is aiohttp.WSMsgType.BINARY:
                        received += message.data
        assert WORDS.encode() in received
        assert ws.close_code is not None
        assert srv.log_has("door=ssh why=the test's gate") and srv.log_has("door=web why=the test's gate")
        assert not srv.children()  # nobody got a simulator
    finally:
        term.close()
        srv.stop()
