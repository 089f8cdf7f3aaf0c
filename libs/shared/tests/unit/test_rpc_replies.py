"""``ServiceClient.call`` reads a reply as ``serve`` writes it in one pass, and anything else as before."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from tradeloom.shared.rpc import RemoteError, ServiceClient
from tradeloom.shared.subjects import Subjects


class Quote(BaseModel):
    symbol: str
    depth: int


@dataclass
class Reply:
    data: bytes


class OneReply:
    """Stands in for the NATS client: answers every request with ``payload``."""

    max_payload = 1024 * 1024

    def __init__(self, payload: bytes) -> None:
        self.payload = payload

    async def request(self, subject: str, payload: bytes, **_: Any) -> Reply:
        return Reply(self.payload)


async def call(payload: bytes) -> Quote:
    client = ServiceClient(OneReply(payload), Subjects("test"))  # type: ignore[arg-type]
    return await client.call("quotes", "quote", {"symbol": "BTC"}, Quote)


async def test_a_data_reply_is_validated_into_the_model() -> None:
    assert await call(b'{"data":{"symbol":"BTC","depth":"3"}}') == Quote(symbol="BTC", depth=3)


async def test_a_reply_with_more_than_data_is_read_as_before() -> None:
    assert await call(b'{"data":{"symbol":"BTC","depth":3},"note":"x"}') == Quote(symbol="BTC", depth=3)


async def test_a_reply_outside_the_model_is_a_validation_error() -> None:
    with pytest.raises(ValidationError, match="depth"):
        await call(b'{"data":{"symbol":"BTC"}}')


async def test_an_error_reply_is_a_remote_error() -> None:
    with pytest.raises(RemoteError) as caught:
        await call(b'{"error":{"code":"not_found","message":"no such symbol","details":{"symbol":"BTC"}}}')
    assert (caught.value.code, caught.value.message) == ("not_found", "no such symbol")
    assert caught.value.details == {"symbol": "BTC"}


@pytest.mark.parametrize("payload", [b"not json", b'{"data":[1]}', b'{"data":{"symbol":"BTC"'])
async def test_a_reply_that_is_not_a_data_object_is_internal(payload: bytes) -> None:
    with pytest.raises(RemoteError) as caught:
        await call(payload)
    assert caught.value.code == "internal"
