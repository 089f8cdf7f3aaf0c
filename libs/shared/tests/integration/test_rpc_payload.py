"""Messages over the connection's ``max_payload``: a clear 413 both ways, never a hang or a dead link.

A server of its own with a small ``max_payload`` (16 KiB) stands in for the platform's 8 MiB limit.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator

import nats
import pytest
import pytest_asyncio
from nats.aio.client import Client as NatsClient
from pydantic import BaseModel, ConfigDict, Field

from tradeloom.shared.context import CallerContext
from tradeloom.shared.errors import STATUS_BY_CODE, PayloadTooLarge, Unavailable
from tradeloom.shared.nats_config import MAX_PAYLOAD
from tradeloom.shared.rpc import Operation, RemoteError, ServiceClient, message_size, serve
from tradeloom.shared.subjects import Subjects
from tradeloom.shared.testing.nats_server import NatsServer
from tradeloom.shared.testing.polling import eventually

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

SERVICE = "echo"
SMALL = 16 * 1024


class Fill(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = ""
    reply_bytes: int = Field(default=0, ge=0)


class Filled(BaseModel):
    text: str


async def fill(_: CallerContext, body: Fill) -> Filled:
    return Filled(text="x" * body.reply_bytes if body.reply_bytes else body.text)


async def answers(caller: ServiceClient) -> bool:
    """The service answers (CI once saw no responders on the first request right after ``serve``)."""
    try:
        return await caller.call_raw(SERVICE, "fill", {"text": "ready"}) == {"text": "ready"}
    except Unavailable:
        return False


@pytest.fixture(scope="module")
def small_server() -> Iterator[NatsServer]:
    with NatsServer(max_payload=SMALL) as server:
        yield server


@pytest_asyncio.fixture
async def client(
    small_server: NatsServer, nats_prefix: str
) -> AsyncIterator[tuple[NatsClient, ServiceClient]]:
    service_nc = await nats.connect(small_server.url, **small_server.client_options())
    caller_nc = await nats.connect(small_server.url, **small_server.client_options())
    subjects = Subjects(nats_prefix)
    micro = await serve(
        service_nc,
        service=SERVICE,
        version="1.0.0",
        subjects=subjects,
        operations=[Operation("fill", Fill, Filled, fill)],
    )
    caller = ServiceClient(caller_nc, subjects)
    await eventually(lambda: answers(caller), "the echo service answering")
    try:
        yield service_nc, caller
    finally:
        await micro.stop()
        await caller_nc.close()
        await service_nc.close()


async def test_the_platform_server_uses_the_platform_limit(nc: NatsClient) -> None:
    assert nc.max_payload == MAX_PAYLOAD == 8 * 1024 * 1024


async def test_a_request_over_max_payload_is_payload_too_large(
    client: tuple[NatsClient, ServiceClient],
) -> None:
    _, caller = client
    assert caller.nc.max_payload == SMALL  # learnt from the server's INFO, not hard-coded
    with pytest.raises(PayloadTooLarge) as caught:
        await caller.call_raw(SERVICE, "fill", {"text": "y" * SMALL})
    error = caught.value
    assert error.code == "payload_too_large" and STATUS_BY_CODE[error.code] == 413
    assert error.details["max_payload_bytes"] == SMALL
    assert error.details["size_bytes"] > SMALL
    assert str(SMALL) in error.message and str(error.details["size_bytes"]) in error.message
    # nothing was sent: the connection is fine and the next call is answered
    assert await caller.call_raw(SERVICE, "fill", {"text": "ok"}) == {"text": "ok"}


async def test_headers_count_against_the_limit(client: tuple[NatsClient, ServiceClient]) -> None:
    """The payload alone fits, payload and headers do not: refused before the server would cut us off."""
    _, caller = client
    body = b'{"text":"' + b"z" * (SMALL - 20) + b'"}'
    assert len(body) <= SMALL < message_size(body, {"traceparent": "00-" + "a" * 50})
    with pytest.raises(PayloadTooLarge):
        await caller.call_raw(
            SERVICE, "fill", {"text": "z" * (SMALL - 20)}, caller=CallerContext(user_id="u" * 64)
        )
    assert not caller.nc.is_closed and caller.nc.is_connected


async def test_a_reply_over_max_payload_is_reply_too_large_at_once(
    client: tuple[NatsClient, ServiceClient],
) -> None:
    service_nc, caller = client
    started = time.monotonic()
    with pytest.raises(RemoteError) as caught:
        await caller.call_raw(SERVICE, "fill", {"reply_bytes": 2 * SMALL}, timeout_s=10.0)
    assert time.monotonic() - started < 5.0  # answered, not timed out
    error = caught.value
    assert error.code == "reply_too_large" and STATUS_BY_CODE[error.code] == 413
    assert error.details["max_payload_bytes"] == SMALL and error.details["size_bytes"] > 2 * SMALL
    assert "fewer items" in error.message
    # the service's connection survived and still answers
    assert service_nc.is_connected
    assert await caller.call_raw(SERVICE, "fill", {"reply_bytes": 100}) == {"text": "x" * 100}


async def test_a_reply_just_under_the_limit_is_delivered(client: tuple[NatsClient, ServiceClient]) -> None:
    _, caller = client
    reply = await caller.call_raw(SERVICE, "fill", {"reply_bytes": SMALL - 200})
    assert len(reply["text"]) == SMALL - 200


def test_message_size_counts_the_header_block() -> None:
    assert message_size(b"x" * 10) == 10
    assert message_size(b"x" * 10, {"a": "b"}) == 10 + len(b"NATS/1.0\r\na: b\r\n\r\n")
