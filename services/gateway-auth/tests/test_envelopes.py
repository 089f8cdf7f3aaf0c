"""Events decoded and serialised once per gateway, not per socket (feed.Envelopes), sending the
same bytes a socket sent when it serialised each message itself."""

from __future__ import annotations

import json

import pytest

from tradeloom.gateway_auth.feed import Envelopes, StreamItem

RAW = json.dumps(
    {"type": "md.evt.trade.v1", "id": "e1", "data": {"symbol": "BTC/USDT", "price": "101.5", "note": "é"}}
).encode()


def test_equal_bytes_are_decoded_once_and_share_one_text() -> None:
    envelopes = Envelopes(max_entries=2)
    first, text = envelopes.decode(RAW)
    again, same = envelopes.decode(bytes(bytearray(RAW)))  # another copy, as each socket receives
    assert again is first and same is text
    envelopes.decode(b'{"a": 1}')
    envelopes.decode(b'{"b": 2}')  # over max_entries: the oldest are forgotten, memory stays bounded
    assert envelopes.decode(RAW)[0] is not first
    with pytest.raises(ValueError):
        envelopes.decode(b"not json")


def test_a_message_text_is_the_json_of_the_message() -> None:
    envelope, text = Envelopes().decode(RAW)
    for item in (StreamItem("prices.BTC/USDT", "MD_TRADES", 42, envelope, text),
                 StreamItem("prices.BTC/USDT", "MD_TRADES", 42, envelope)):  # fmt: skip
        assert item.text() == json.dumps(item.message(), separators=(",", ":"))
        assert json.loads(item.text())["event"] == json.loads(RAW)
