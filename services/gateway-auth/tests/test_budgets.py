"""Code execution and backtest submission budgets: charged only for valid requests, kept apart, and
``/v1/sandbox/limits`` describes the bucket the gateway enforces. ``/v1/sandbox/health`` is public."""

from __future__ import annotations

from typing import Any

from gateway_testkit import Api, ApiFactory

RUN = {"code": "result = 1"}
INVALID_RUNS: list[dict[str, Any]] = [
    {"code": ""},
    {"code": "print(1)", "memory_mb": 1},
    {"code": "print(1)", "sudo": True},
    {"input": 1},
]
BACKTEST = {"strategy": "sma_cross", "params": {"fast": 5, "slow": 20}, "dataset_id": "ds-1"}
INVALID_BACKTESTS: list[dict[str, Any]] = [
    BACKTEST | {"initial_cash": "-1"},
    BACKTEST | {"strategy": "x" * 500},
    BACKTEST | {"dataset_id": "ds\x00"},
    BACKTEST | {"surprise": 1},
]


async def test_invalid_requests_do_not_spend_the_budgets(make_api: ApiFactory) -> None:
    """No backend runs here: a valid request gets past the budget and then 503 (nobody answers)."""
    api = await make_api(rate_code_capacity=2, rate_code_per_s=0.001, rate_backtests_capacity=2)
    _, session = await api.user()
    for _ in range(2):
        for body in INVALID_RUNS:
            for path in ("/v1/sandbox/execute", "/v1/sandbox/jobs"):
                refused = await api.http.post(path, headers=session, json=body)
                assert refused.status_code == 422, (path, body, refused.text)
        for body in INVALID_BACKTESTS:
            refused = await api.http.post("/v1/backtests", headers=session, json=body)
            assert refused.status_code in (400, 422), (body, refused.text)
    runs = [
        (await api.http.post("/v1/sandbox/execute", headers=session, json=RUN)).status_code for _ in range(3)
    ]
    assert runs == [503, 503, 429], runs
    tests = [
        (await api.http.post("/v1/backtests", headers=session, json=BACKTEST)).status_code for _ in range(3)
    ]
    assert tests == [503, 503, 429], tests  # its own budget: the code bucket is empty by now


async def test_execution_and_backtest_budgets_are_apart(make_api: ApiFactory) -> None:
    api = await make_api(rate_code_capacity=1, rate_code_per_s=0.001, rate_backtests_capacity=1)
    _, session = await api.user()
    assert (await api.http.post("/v1/backtests", headers=session, json=BACKTEST)).status_code == 503
    limited = await api.http.post("/v1/backtests", headers=session, json=BACKTEST)
    assert limited.status_code == 429 and "backtest submissions" in limited.json()["detail"]
    assert (await api.http.post("/v1/sandbox/jobs", headers=session, json=RUN)).status_code == 503
    limited = await api.http.post("/v1/sandbox/execute", headers=session, json=RUN)
    assert limited.status_code == 429 and "code executions" in limited.json()["detail"]


async def test_limits_describe_the_enforced_bucket(make_api: ApiFactory, sandbox: object) -> None:
    api = await make_api(rate_code_capacity=3, rate_code_per_s=0.02)
    _, session = await api.user()
    limits = (await api.http.get("/v1/sandbox/limits", headers=session)).json()
    assert limits["rate_limit"] == {"bucket": "code", "burst": 3, "per_minute": 1.2}
    assert limits["quotas"]["executions_per_minute"] == 1  # the gateway's 1.2/min, not the sandbox's 30
    codes = []
    for _ in range(limits["rate_limit"]["burst"] + 1):
        codes.append((await api.http.post("/v1/sandbox/execute", headers=session, json=RUN)).status_code)
    assert codes == [200] * limits["rate_limit"]["burst"] + [429], codes
    # the same caller's limits with the default bucket: 5 at once, 6 a minute
    default = await make_api(client_ip="198.51.100.31")
    _, other = await default.user()
    limits = (await default.http.get("/v1/sandbox/limits", headers=other)).json()
    assert limits["rate_limit"] == {"bucket": "code", "burst": 5, "per_minute": 6.0}
    assert limits["quotas"]["executions_per_minute"] == 6


async def test_a_service_refusal_gives_the_token_back(api: Api, sandbox: object) -> None:
    """A request the sandbox refuses as invalid before running it (code over its size limit)."""
    assert api.gateway.settings.rate_code_capacity == 5
    _, session = await api.user()
    too_big = {"code": "x = 1\n" * 9000}
    for _ in range(8):
        refused = await api.http.post("/v1/sandbox/execute", headers=session, json=too_big)
        assert refused.status_code == 413 and refused.json()["code"] == "code_too_large"
    assert (await api.http.post("/v1/sandbox/execute", headers=session, json=RUN)).status_code == 200


async def test_sandbox_health_is_public_and_minimal(api: Api, sandbox: object) -> None:
    health = await api.http.get("/v1/sandbox/health")
    assert health.status_code == 200, health.text
    assert health.json() == {"ready": True, "reason": "isolation is set up", "features": {}}
    _, session = await api.user()
    assert (await api.http.get("/v1/sandbox/health", headers=session)).json()["features"] == {}
    spec = (await api.http.get("/v1/openapi.json")).json()
    assert "security" not in spec["paths"]["/v1/sandbox/health"]["get"]


async def test_sandbox_health_without_a_sandbox_is_503(api: Api) -> None:
    health = await api.http.get("/v1/sandbox/health")
    assert health.status_code == 503 and health.json()["retryable"] is True
