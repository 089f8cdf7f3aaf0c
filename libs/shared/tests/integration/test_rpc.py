"""Request/reply against a real NATS server: ServiceClient talking to ``serve()``."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from nats.aio.client import Client as NatsClient
from nats.micro.service import Service
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from pydantic import BaseModel, ConfigDict, Field

from tradeloom.shared.context import CallerContext, request_id_var
from tradeloom.shared.errors import NotFound, Timeout, Unavailable
from tradeloom.shared.nats_auth import admin_options
from tradeloom.shared.rpc import Operation, RemoteError, ServiceClient, serve
from tradeloom.shared.subjects import Subjects
from tradeloom.shared.telemetry import current_trace_ids

pytestmark = [pytest.mark.integration, pytest.mark.timeout(30)]

SERVICE = "order-book"


class QuoteRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    symbol: str = Field(min_length=3)
    depth: int = Field(default=1, ge=1, le=50)


class QuoteReply(BaseModel):
    symbol: str
    depth: int


class WhoReply(BaseModel):
    user_id: str | None
    roles: list[str]
    request_id: str | None
    request_id_var: str | None
    trace_id: str | None
    span_id: str | None


class Empty(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Harness:
    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.slow_calls = 0

    async def quote(self, _: CallerContext, body: QuoteRequest) -> QuoteReply:
        if body.symbol == "NOPE":
            raise NotFound("unknown symbol", details={"symbol": body.symbol})
        return QuoteReply(symbol=body.symbol, depth=body.depth)

    async def whoami(self, caller: CallerContext, _: Empty) -> WhoReply:
        trace_id, span_id = current_trace_ids()
        return WhoReply(
            user_id=caller.user_id,
            roles=sorted(caller.roles),
            request_id=caller.request_id,
            request_id_var=request_id_var.get(),
            trace_id=trace_id,
            span_id=span_id,
        )

    async def slow(self, _: CallerContext, __: Empty) -> Empty:
        self.slow_calls += 1
        await asyncio.wait_for(self.release.wait(), timeout=10)
        return Empty()


@pytest.fixture(scope="module", autouse=True)
def sdk_tracer_provider() -> None:
    """Services install an SDK provider (Telemetry); do the same so spans are real."""
    if not isinstance(trace.get_tracer_provider(), TracerProvider):
        trace.set_tracer_provider(TracerProvider())


@pytest_asyncio.fixture
async def served(nc: NatsClient, nats_prefix: str) -> AsyncIterator[tuple[Harness, ServiceClient]]:
    harness = Harness()
    subjects = Subjects(nats_prefix)
    micro: Service = await serve(
        nc,
        service=SERVICE,
        version="1.2.3",
        subjects=subjects,
        operations=[
            Operation("quote", QuoteRequest, QuoteReply, harness.quote),
            Operation("whoami", Empty, WhoReply, harness.whoami),
            Operation("slow", Empty, Empty, harness.slow),
        ],
    )
    try:
        yield harness, ServiceClient(nc, subjects)
    finally:
        harness.release.set()
        await micro.stop()


async def test_success(served: tuple[Harness, ServiceClient]) -> None:
    _, client = served
    reply = await client.call(SERVICE, "quote", QuoteRequest(symbol="BTC-USDT", depth=5), QuoteReply)
    assert reply == QuoteReply(symbol="BTC-USDT", depth=5)
    assert await client.call_raw(SERVICE, "quote", {"symbol": "ETH-USD"}) == {"symbol": "ETH-USD", "depth": 1}


async def test_validation_error_names_fields(served: tuple[Harness, ServiceClient]) -> None:
    _, client = served
    with pytest.raises(RemoteError) as caught:
        await client.call_raw(SERVICE, "quote", {"symbol": "X", "depth": 99, "colour": "red"})
    assert caught.value.code == "validation_error"
    assert {item["field"] for item in caught.value.details["fields"]} == {"symbol", "depth", "colour"}


async def test_domain_error_keeps_its_code(served: tuple[Harness, ServiceClient]) -> None:
    _, client = served
    with pytest.raises(RemoteError) as caught:
        await client.call(SERVICE, "quote", {"symbol": "NOPE"}, QuoteReply)
    assert caught.value.code == "not_found"
    assert caught.value.message == "unknown symbol"
    assert caught.value.details == {"symbol": "NOPE"}


async def test_no_responders_is_unavailable_at_once(nc: NatsClient, nats_prefix: str) -> None:
    """No responders is its own answer, not a timeout (how fast it comes: bench/bench_latencies.py)."""
    client = ServiceClient(nc, Subjects(nats_prefix))
    started = time.monotonic()
    with pytest.raises(Unavailable) as caught:
        await client.call_raw("nobody-home", "ping", timeout_s=60.0)
    assert not isinstance(caught.value, Timeout)  # the 60 s timeout never ran out
    assert caught.value.code == "unavailable"
    assert time.monotonic() - started < 2.0  # asked again twice (~70 ms), then given up


async def test_a_responder_that_subscribes_a_moment_late_still_answers(
    nc: NatsClient, nats_prefix: str
) -> None:
    """A replaced instance or a reconnect re-subscribes a moment after the request: not a 503."""
    subjects = Subjects(nats_prefix)
    harness = Harness()

    async def serve_late() -> Service:
        await asyncio.sleep(0.01)
        return await serve(
            nc,
            service="late",
            version="1.0.0",
            subjects=subjects,
            operations=[Operation("quote", QuoteRequest, QuoteReply, harness.quote)],
        )

    starting = asyncio.create_task(serve_late())
    reply = await ServiceClient(nc, subjects).call_raw("late", "quote", {"symbol": "BTC-USDT"})
    await (await starting).stop()
    assert reply == {"symbol": "BTC-USDT", "depth": 1}


async def test_slow_handler_is_a_timeout(served: tuple[Harness, ServiceClient]) -> None:
    harness, client = served
    with pytest.raises(Timeout) as caught:
        await client.call_raw(SERVICE, "slow", timeout_s=0.3)
    assert caught.value.code == "timeout"
    assert harness.slow_calls == 1


async def test_caller_headers_and_trace_reach_the_handler(
    served: tuple[Harness, ServiceClient], nc: NatsClient, nats_prefix: str
) -> None:
    _, client = served
    caller = CallerContext(user_id="u-17", roles=frozenset({"trader", "admin"}), request_id="req-abc")
    with TracerProvider().get_tracer("tests").start_as_current_span("gateway request") as span:
        reply = await client.call(SERVICE, "whoami", None, WhoReply, caller=caller)
        context = span.get_span_context()
    assert reply.user_id == "u-17"
    assert reply.roles == ["admin", "trader"]
    assert reply.request_id == "req-abc"
    assert reply.request_id_var == "req-abc"  # set for the handler's logs
    assert reply.trace_id == format(context.trace_id, "032x")  # the trace continues
    assert reply.span_id is not None and reply.span_id != format(context.span_id, "016x")

    # the reply echoes the request id in its headers
    raw = await nc.request(
        Subjects(nats_prefix).request(SERVICE, "whoami"), b"{}", timeout=2, headers={"tl-request-id": "r-2"}
    )
    assert raw.headers is not None and raw.headers.get("tl-request-id") == "r-2"


async def test_anonymous_call_has_empty_context(served: tuple[Harness, ServiceClient]) -> None:
    _, client = served
    reply = await client.call(SERVICE, "whoami", None, WhoReply)
    assert (reply.user_id, reply.roles, reply.request_id) == (None, [], None)


async def test_replicas_share_the_load_in_a_queue_group(nc: NatsClient, nats_prefix: str) -> None:
    subjects = Subjects(nats_prefix)
    answered: list[str] = []

    def replica(name: str) -> Operation[Empty, QuoteReply]:
        async def handler(_: CallerContext, __: Empty) -> QuoteReply:
            answered.append(name)
            return QuoteReply(symbol=name, depth=1)

        return Operation("which", Empty, QuoteReply, handler)

    services = [
        await serve(nc, service="replicated", version="1.0.0", subjects=subjects, operations=[replica(n)])
        for n in ("a", "b")
    ]
    try:
        client = ServiceClient(nc, subjects)
        for _ in range(40):
            await client.call("replicated", "which", None, QuoteReply)
    finally:
        for service in services:
            await service.stop()
    assert len(answered) == 40  # each request answered exactly once
    assert set(answered) == {"a", "b"}


async def test_closed_connection_is_unavailable(nats_url: str, nats_prefix: str) -> None:
    import nats

    client_nc = await nats.connect(nats_url, **admin_options())
    await client_nc.close()
    with pytest.raises(Unavailable):
        await ServiceClient(client_nc, Subjects(nats_prefix)).call_raw(SERVICE, "quote", {"symbol": "BTC"})


async def test_one_instance_answers_requests_concurrently(nc: NatsClient, nats_prefix: str) -> None:
    """Each handler waits until both are inside at once: sequential handling would time out."""
    subjects = Subjects(nats_prefix)
    inside = 0
    both_inside = asyncio.Event()

    async def handler(_: CallerContext, __: Empty) -> QuoteReply:
        nonlocal inside
        inside += 1
        if inside == 2:
            both_inside.set()
        await asyncio.wait_for(both_inside.wait(), timeout=3)
        return QuoteReply(symbol="x", depth=inside)

    service = await serve(
        nc,
        service="parallel",
        version="1.0.0",
        subjects=subjects,
        operations=[Operation("wait", Empty, QuoteReply, handler)],
    )
    try:
        client = ServiceClient(nc, subjects)
        replies = await asyncio.gather(
            *(client.call("parallel", "wait", None, QuoteReply, timeout_s=5) for _ in range(2))
        )
    finally:
        await service.stop()
    assert [reply.depth for reply in replies] == [2, 2]


async def test_a_full_operation_applies_backpressure(nc: NatsClient, nats_prefix: str) -> None:
    """With max_concurrency=1 the second request waits for the first instead of running beside it."""
    subjects = Subjects(nats_prefix)
    active = 0
    peak = 0

    async def handler(_: CallerContext, __: Empty) -> QuoteReply:
        nonlocal active, peak
        active += 1
        peak = max(peak, active)
        await asyncio.sleep(0.05)
        active -= 1
        return QuoteReply(symbol="x", depth=1)

    operation = Operation("one", Empty, QuoteReply, handler, max_concurrency=1)
    service = await serve(nc, service="single", version="1.0.0", subjects=subjects, operations=[operation])
    try:
        client = ServiceClient(nc, subjects)
        await asyncio.gather(*(client.call("single", "one", None, QuoteReply, timeout_s=5) for _ in range(4)))
    finally:
        await service.stop()
    assert peak == 1


async def test_a_request_whose_caller_gave_up_is_dropped_unworked(nc: NatsClient, nats_prefix: str) -> None:
    """One slot, held past the second request's deadline: the second is never handled (its caller
    timed out; working it would only make the requests behind it late too); the next one is."""
    subjects = Subjects(nats_prefix)
    release = asyncio.Event()
    seen: list[str] = []

    async def handler(_: CallerContext, body: QuoteRequest) -> QuoteReply:
        seen.append(body.symbol)
        if body.symbol == "HOLD":
            await asyncio.wait_for(release.wait(), timeout=5)
        return QuoteReply(symbol=body.symbol, depth=1)

    operation = Operation("q", QuoteRequest, QuoteReply, handler, max_concurrency=1)
    service = await serve(
        nc,
        service="deadlines",
        version="1.0.0",
        subjects=subjects,
        operations=[operation],
    )
    try:
        client = ServiceClient(nc, subjects)
        held = asyncio.create_task(client.call("deadlines", "q", {"symbol": "HOLD"}, QuoteReply, timeout_s=5))
        while seen != ["HOLD"]:
            await asyncio.sleep(0.01)
        with pytest.raises(Timeout):
            await client.call("deadlines", "q", {"symbol": "LATE"}, QuoteReply, timeout_s=0.2)
        release.set()
        assert (await held).symbol == "HOLD"
        assert (
            await client.call("deadlines", "q", {"symbol": "NEXT"}, QuoteReply, timeout_s=5)
        ).symbol == "NEXT"
    finally:
        await service.stop()
    assert seen == ["HOLD", "NEXT"]


async def test_past_max_waiting_a_request_is_refused_at_once_as_overloaded(
    nc: NatsClient, nats_prefix: str
) -> None:
    """One slot held, one request waiting (max_waiting=1): the next is answered 503 at once."""
    subjects = Subjects(nats_prefix)
    release = asyncio.Event()

    async def handler(_: CallerContext, body: QuoteRequest) -> QuoteReply:
        if body.symbol == "HOLD":
            await asyncio.wait_for(release.wait(), timeout=5)
        return QuoteReply(symbol=body.symbol, depth=1)

    operation = Operation("q", QuoteRequest, QuoteReply, handler, max_concurrency=1, max_waiting=1)
    service = await serve(nc, service="crowded", version="1.0.0", subjects=subjects, operations=[operation])
    try:
        client = ServiceClient(nc, subjects)
        held = asyncio.create_task(client.call("crowded", "q", {"symbol": "HOLD"}, QuoteReply, timeout_s=5))
        await asyncio.sleep(0.1)
        queued = asyncio.create_task(client.call("crowded", "q", {"symbol": "NEXT"}, QuoteReply, timeout_s=5))
        await asyncio.sleep(0.1)
        with pytest.raises(RemoteError) as refused:
            await client.call("crowded", "q", {"symbol": "MORE"}, QuoteReply, timeout_s=1)
        assert refused.value.code == "unavailable" and "overloaded" in str(refused.value)
        release.set()
        assert (await held).symbol == "HOLD" and (await queued).symbol == "NEXT"
    finally:
        await service.stop()
