"""One order, one trace (issue 17): a market order placed through the gateway on a real stack
(gateway-auth, order-router, risk-monitor, market-data with a fast synthetic market) produces ONE
trace, exported by the services over OTLP/HTTP (the standard ``OTEL_*`` variables) to an in-process
receiver, whose spans cover the gateway's request, risk-monitor's check, order-router's submit, the
paper match on a later market trade and the gateway's fan-out of the fill to the client's socket.

The same stack then serves the trading-metrics check: each service's ``/metrics`` after that flow.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import Stack, running_stack
from tests.e2e.journey_kit import FAST_MARKET, SYMBOL, session, socket
from tradeloom.shared.testing.nats_server import NatsServer
from tradeloom.shared.testing.otlp_receiver import OtlpReceiver, ReceivedSpan
from tradeloom.shared.testing.polling import eventually
from tradeloom.shared.testing.postgres_server import PostgresServer

pytestmark = pytest.mark.e2e
SERVICES = ("market-data", "risk-monitor", "order-router", "gateway-auth")
WAIT_S = 120.0  # a deadline for a loaded CI box, not the expected time


@pytest.fixture(scope="module")
def receiver() -> Iterator[OtlpReceiver]:
    running = OtlpReceiver()
    yield running
    running.close()


@pytest.fixture(scope="module")
def trading(
    nats_server: NatsServer,
    pg_server: PostgresServer,
    receiver: OtlpReceiver,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Stack]:
    prefix = f"t{uuid.uuid4().hex[:8]}"
    log_dir: Path = tmp_path_factory.mktemp("order-trace")
    env = FAST_MARKET | receiver.environment()
    with running_stack(nats_server, pg_server, prefix, log_dir, env, services=SERVICES) as stack:
        stack.wait_ready(timeout_s=WAIT_S)
        yield stack


@pytest.fixture(scope="module")
def placed_order(trading: Stack) -> dict[str, Any]:
    """One user's market buy, filled and seen on the ``fills`` channel (run once per module)."""

    async def place() -> dict[str, Any]:
        ws_url = trading.gateway_url.replace("http://", "ws://") + "/v1/ws"
        async with httpx.AsyncClient(base_url=trading.gateway_url, timeout=30) as http:
            headers, token, _ = await session(http, f"trace-{uuid.uuid4().hex[:8]}@example.com")
            account = await http.post("/v1/accounts", json={"name": "traced"}, headers=headers)
            assert account.status_code == 201, account.text
            async with socket(ws_url, token, ("fills",)) as ws:
                body = {"account_id": account.json()["account_id"], "symbol": SYMBOL, "side": "buy",
                        "type": "market", "quantity": "0.01"}  # fmt: skip
                placed = await http.post("/v1/orders", json=body, headers=headers)
                assert placed.status_code == 201, placed.text
                order: dict[str, Any] = placed.json()
                assert order["status"] != "rejected", order
                await eventually(
                    lambda: ws.fills_of({order["order_id"]}), "the fill on the socket", timeout=WAIT_S
                )
                return order

    return asyncio.run(place())


def _of_order(spans: list[ReceivedSpan]) -> list[ReceivedSpan]:
    return [s for s in spans if s.service == "gateway-auth" and s.name == "POST /v1/orders"]


def test_an_order_makes_one_trace_from_the_gateway_to_the_fan_out(
    placed_order: dict[str, Any], receiver: OtlpReceiver
) -> None:
    wanted = {
        ("gateway-auth", "POST /v1/orders"),
        ("order-router", "svc.order-router.orders_submit"),
        ("risk-monitor", "svc.risk-monitor.check"),
        ("order-router", "paper match"),
        ("gateway-auth", "fan-out fills"),
    }

    def covered() -> set[tuple[str, str]]:
        roots = _of_order(receiver.spans())
        if len(roots) != 1:
            return set()
        return {(s.service, s.name) for s in receiver.spans() if s.trace_id == roots[0].trace_id}

    asyncio.run(eventually(lambda: wanted <= covered(), "the order's spans exported", timeout=WAIT_S))
    spans = receiver.spans()
    (root,) = _of_order(spans)
    in_trace = [s for s in spans if s.trace_id == root.trace_id]
    assert root.parent_id == "", "the gateway's request span starts the trace"
    ids = {s.span_id for s in in_trace}
    assert all(s.parent_id in ids for s in in_trace if s is not root), "every span hangs off the trace"
    (match,) = [s for s in in_trace if s.name == "paper match"]
    assert match.attributes["order.id"] == placed_order["order_id"]
    # the submit's spans are in no other trace: one order, one trace
    submits = [s for s in spans if s.name == "svc.order-router.orders_submit"]
    assert {s.trace_id for s in submits} == {root.trace_id}
