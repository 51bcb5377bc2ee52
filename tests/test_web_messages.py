"""The browser door's message check: what textual-serve's page sends passes, anything else is named."""

from __future__ import annotations

import json

import pytest
from aiohttp import WSMsgType
from hypothesis import given
from hypothesis import strategies as st

from knobtui.serve.web import ProtocolError, parse_message


def text(message: object) -> tuple[str, object]:
    return parse_message(WSMsgType.TEXT, json.dumps(message))


def test_the_pages_own_messages() -> None:
    assert text(["stdin", " "]) == ("stdin", " ")
    assert text(["resize", {"width": 111, "height": 29}]) == ("resize", (111, 29))
    assert text(["ping", "1764180000000"]) == ("ping", "1764180000000")
    assert text(["focus"]) == ("focus", None)
    assert text(["blur"]) == ("blur", None)


@pytest.mark.parametrize("message, why", [
    ("not json", "not JSON"),
    ("[" * 60_000, "not JSON"),
    ('{"stdin": "x"}', "not a [type, ...] list"),
    ("[]", "not a [type, ...] list"),
    ("[1, 2]", "not a [type, ...] list"),
    ('["stdin"]', "stdin without text"),
    ('["stdin", 5]', "stdin without text"),
    ('["resize", {"width": "80", "height": 24}]', "resize without a whole width and height"),
    ('["resize", {"width": true, "height": 24}]', "resize without a whole width and height"),
    ('["resize", [80, 24]]', "resize without a whole width and height"),
    ('["open_url", {"url": "https://example.com"}]', "unknown type 'open_url'"),
    ('["\\u001b[31mred", 1]', "unknown type '\\\\x1b[31mred'"),
])
def test_anything_else_is_refused_with_a_reason(message: str, why: str) -> None:
    with pytest.raises(ProtocolError) as caught:
        parse_message(WSMsgType.TEXT, message)
    assert str(caught.value) == why


def test_binary_frames_are_refused() -> None:
    with pytest.raises(ProtocolError, match="a binary message"):
        parse_message(WSMsgType.BINARY, b"\x00")


@given(st.text(max_size=200))
def test_no_text_raises_anything_but_a_protocol_error(data: str) -> None:
    try:
        parse_message(WSMsgType.TEXT, data)
    except ProtocolError:
        pass
