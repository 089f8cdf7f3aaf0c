"""One server span per gateway request, named by the route template (never the raw path with ids),
continuing the caller's trace when a ``traceparent`` comes in."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from tradeloom.gateway_auth.middleware import RequestContextMiddleware

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"


def recorded() -> InMemorySpanExporter:
    """Spans of the globally installed SDK provider (installed here when no service did yet)."""
    if not isinstance(trace.get_tracer_provider(), TracerProvider):
        trace.set_tracer_provider(TracerProvider())
    provider = trace.get_tracer_provider()
    assert isinstance(provider, TracerProvider)
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return exporter


def app(native_tracing: bool) -> FastAPI:
    api = FastAPI(telemetry={"tracing": native_tracing})

    @api.get("/v1/backtests/{backtest_id}")
    async def backtest(backtest_id: str) -> dict[str, str]:
        return {"backtest_id": backtest_id}

    api.add_middleware(RequestContextMiddleware, max_body_bytes=1024)
    return api


@pytest.mark.parametrize("native_tracing", [True, False], ids=["fastapi-span", "own-span"])
async def test_span_names_are_route_templates_and_one_request_is_one_trace(native_tracing: bool) -> None:
    exporter = recorded()
    transport = httpx.ASGITransport(app=app(native_tracing))
    async with httpx.AsyncClient(transport=transport, base_url="http://gw") as http:
        parent = {"traceparent": f"00-{TRACE_ID}-00f067aa0ba902b7-01"}
        assert (await http.get("/v1/backtests/01a2b3c4", headers=parent)).status_code == 200
        assert (await http.get("/v1/backtests/99zz")).status_code == 200
        assert (await http.get("/v1/nothing/here")).status_code == 404
    spans = [s for s in exporter.get_finished_spans() if s.kind == trace.SpanKind.SERVER]
    assert [s.name for s in spans] == ["GET /v1/backtests/{backtest_id}"] * 2 + ["GET"]  # one per request
    assert all(s.attributes and s.attributes["tl.request_id"] for s in spans)
    assert format(spans[0].context.trace_id, "032x") == TRACE_ID  # continues the caller's trace
    assert len({s.context.trace_id for s in exporter.get_finished_spans()}) == 3  # one trace per request
