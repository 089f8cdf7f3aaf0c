"""The first real route: GET /v1/system/status through the gateway, all eight services as processes."""

from __future__ import annotations

import httpx
import pytest

from tests.e2e.conftest import Stack
from tradeloom.shared.contracts.catalog import SERVICES

pytestmark = pytest.mark.e2e


def test_all_services_up_then_one_down_is_degraded_without_waiting_for_it(stack: Stack) -> None:
    """A stopped service is reported ``down`` as ``unavailable`` (no responders), not after a request
    timeout; how long the status call takes is a benchmark, not an assert."""
    statuses = stack.wait_all_up()
    assert statuses == dict.fromkeys(SERVICES, "up")
    body = stack.status().json()
    for item in body["services"]:
        assert item["version"] == "0.1.0"
        assert item["latency_ms"] is not None and item["latency_ms"] >= 0
        assert item["uptime_s"] >= 0
    response = stack.status()
    assert response.headers["x-request-id"]

    assert stack.stop("market-data") == 0  # SIGTERM: a clean, zero-status shutdown

    response = stack.status(timeout_s=60.0)
    assert response.status_code == 200
    by_name = {item["service"]: item for item in response.json()["services"]}
    assert by_name["market-data"]["status"] == "down"
    assert "unavailable" in by_name["market-data"]["error"]
    assert response.json()["status"] == "degraded"
    assert all(by_name[name]["status"] == "up" for name in SERVICES if name != "market-data")


def test_request_id_is_echoed_and_unknown_route_is_problem_json(stack: Stack) -> None:
    stack.wait_all_up()

    response = httpx.get(f"{stack.gateway_url}/v1/system/status", headers={"X-Request-ID": "abc-123"})
    assert response.headers["x-request-id"] == "abc-123"
    missing = httpx.get(f"{stack.gateway_url}/v1/nothing-here")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert missing.json()["code"] == "not_found"
    assert missing.headers["x-request-id"]
