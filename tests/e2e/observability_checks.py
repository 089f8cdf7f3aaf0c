"""What an operator sees of a trading flow (issue 17), checked on a running stack after it:

- ``one_order_one_trace``: an order placed through the gateway is ONE trace, exported over OTLP to
  an in-process receiver, whose spans cover the gateway's request, order-router's submit,
  risk-monitor's check, the paper match on a later market trade and the gateway's fan-out of the
  fill to the client's socket;
- ``trading_metrics``: each service's ``/metrics`` carries its trading figures.
"""

from __future__ import annotations

from collections import defaultdict

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.conftest import Stack
from tradeloom.shared.testing.otlp_receiver import OtlpReceiver, ReceivedSpan
from tradeloom.shared.testing.polling import eventually

ORDER_SPANS = {
    ("gateway-auth", "POST /v1/orders"),
    ("order-router", "svc.order-router.orders_submit"),
    ("risk-monitor", "svc.risk-monitor.check"),
    ("order-router", "paper match"),
    ("gateway-auth", "fan-out fills"),
}
Samples = dict[str, list[tuple[dict[str, str], float]]]


def _trace_of(spans: list[ReceivedSpan], order_id: str) -> list[ReceivedSpan]:
    """The spans of the trace holding the order's paper match (empty until it is exported)."""
    matches = [s for s in spans if s.name == "paper match" and s.attributes.get("order.id") == order_id]
    if not matches:
        return []
    return [s for s in spans if s.trace_id == matches[0].trace_id]


async def one_order_one_trace(receiver: OtlpReceiver, order_id: str, timeout_s: float) -> None:
    def covered() -> bool:
        return {(s.service, s.name) for s in _trace_of(receiver.spans(), order_id)} >= ORDER_SPANS

    await eventually(covered, f"the spans of order {order_id} exported in one trace", timeout=timeout_s)
    spans = _trace_of(receiver.spans(), order_id)
    roots = [s for s in spans if s.parent_id == ""]
    assert [(r.service, r.name) for r in roots] == [("gateway-auth", "POST /v1/orders")], roots
    assert len([s for s in spans if s.name == "svc.order-router.orders_submit"]) == 1, "one submit"
    assert {s.trace_id for s in receiver.spans() if s.attributes.get("order.id") == order_id} == {
        spans[0].trace_id
    }, "every match of the order continues its one trace"


def scrape(stack: Stack, service: str) -> Samples:
    """The samples of a service's ``/metrics`` by name: (labels, value) each."""
    text = httpx.get(f"{stack.health_url(service)}/metrics", timeout=10).text
    samples: Samples = defaultdict(list)
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[sample.name].append((dict(sample.labels), sample.value))
    return samples


def total(samples: Samples, name: str, **labels: str) -> float:
    return sum(v for found, v in samples.get(name, []) if labels.items() <= found.items())


async def trading_metrics(stack: Stack, *, bots: int, timeout_s: float) -> None:
    """After the journey (each user: a backtest, a bot, fills, an approaching alert, a risk-refused
    entry, an order refused while halted, the bot stopped)."""
    router = scrape(stack, "order-router")
    assert total(router, "tl_orders_submitted_total", outcome="new") >= 2, router["tl_orders_submitted_total"]
    assert total(router, "tl_orders_submitted_total", outcome="rejected") >= 1
    assert total(router, "tl_orders_submitted_total", outcome="refused", reason="trading_halted") >= 1
    assert total(router, "tl_order_fills_total", venue="sim") >= 3
    assert {labels["consumer"] for labels, _ in router["tl_consumer_pending"]} >= {"order_router_paper"}
    risk = scrape(stack, "risk-monitor")
    assert total(risk, "tl_risk_checks_total", result="approved") >= 2
    assert total(risk, "tl_risk_checks_total", result="refused") >= 1
    assert total(risk, "tl_risk_check_seconds_count") == total(risk, "tl_risk_checks_total")
    assert total(risk, "tl_risk_alerts_total", limit="max_position_notional", level="approaching") >= 1
    backtests = scrape(stack, "backtest-engine")
    assert total(backtests, "tl_backtest_runs_total", status="completed") >= 1
    assert total(backtests, "tl_backtest_bars_total") >= 30

    def bots_stopped() -> bool:
        return total(scrape(stack, "strategy-runner"), "tl_bots", state="stopped") >= bots

    await eventually(bots_stopped, "tl_bots counts the stopped bots", timeout=timeout_s)
