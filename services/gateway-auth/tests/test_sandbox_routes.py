"""/v1/sandbox/* end to end: the gateway app in-process, a real sandbox-executor runtime behind it."""

from __future__ import annotations

import asyncio
from typing import Any

from gateway_testkit import Api, ApiFactory


async def _job_result(api: Api, session: dict[str, str], execution_id: str) -> dict[str, Any]:
    for _ in range(200):
        detail = await api.http.get(f"/v1/sandbox/jobs/{execution_id}", headers=session)
        assert detail.status_code == 200, detail.text
        if detail.json()["summary"]["status"] == "finished":
            return dict(detail.json())
        await asyncio.sleep(0.05)
    raise AssertionError("the job did not finish")


async def test_execute_jobs_history_limits_health_through_the_gateway(
    make_api: ApiFactory, sandbox: object
) -> None:
    api = await make_api(rate_code_capacity=50)
    user, session = await api.user()
    ran = await api.http.post(
        "/v1/sandbox/execute",
        headers=session,
        json={"code": "print(input_data * 2)\nresult = 7", "input": 21},
    )
    assert ran.status_code == 200, ran.text
    assert ran.json()["stdout"] == "42\n" and ran.json()["result"] == 7 and ran.json()["success"] is True

    raised = await api.http.post("/v1/sandbox/execute", headers=session, json={"code": "1/0"})
    assert raised.status_code == 200 and raised.json()["error"]["type"] == "ZeroDivisionError"

    queued = await api.http.post("/v1/sandbox/jobs", headers=session, json={"code": "result = 1 + 1"})
    assert queued.status_code == 202 and queued.json()["status"] == "queued"
    finished = await _job_result(api, session, queued.json()["execution_id"])
    assert finished["reply"]["result"] == 2

    first = await api.http.get("/v1/sandbox/executions", headers=session, params={"limit": 2})
    assert first.status_code == 200 and len(first.json()["items"]) == 2 and first.json()["next_cursor"]
    rest = await api.http.get(
        "/v1/sandbox/executions", headers=session, params={"limit": 2, "cursor": first.json()["next_cursor"]}
    )
    assert rest.status_code == 200 and len(rest.json()["items"]) == 1 and rest.json()["next_cursor"] is None
    seen = {i["execution_id"] for i in first.json()["items"] + rest.json()["items"]}
    assert queued.json()["execution_id"] in seen and ran.json()["execution_id"] in seen

    limits = await api.http.get("/v1/sandbox/limits", headers=session)
    assert limits.status_code == 200 and limits.json()["code_max_chars"] == 50_000
    health = await api.http.get("/v1/sandbox/health", headers=session)
    assert health.status_code == 200 and health.json()["ready"] is True

    # the call was audited as a forwarded state-changing call
    audit = (await api.http.get("/v1/users/me/audit", headers=session)).json()["items"]
    assert "sandbox-executor.execute" in {entry["action"] for entry in audit}, audit
    assert user["id"]


async def test_sandbox_error_codes_map_to_statuses(make_api: ApiFactory, sandbox: object) -> None:
    api = await make_api(rate_code_capacity=50)
    _, session = await api.user()

    async def post(body: dict[str, Any]) -> Any:
        return await api.http.post("/v1/sandbox/execute", headers=session, json=body)

    syntax = await post({"code": "def broken(:\n  pass"})
    assert syntax.status_code == 400 and syntax.json()["code"] == "syntax_error"
    assert syntax.json()["details"]["line"] == 1 and "column" in syntax.json()["details"]
    slow = await post({"code": "while True:\n    pass", "time_limit_s": 1})
    assert slow.status_code == 408 and slow.json()["code"] == "time_limit"
    big = await post({"code": "x = 1\n" * 9000})
    assert big.status_code == 413 and big.json()["code"] == "code_too_large"
    bad = await post({"code": "print(1)", "memory_mb": 1})
    assert bad.status_code == 422 and bad.json()["details"]["fields"][0]["field"] == "body.memory_mb"
    unknown = await post({"code": "print(1)", "sudo": True})
    assert unknown.status_code == 422 and unknown.json()["details"]["fields"][0]["field"] == "body.sudo"
    for blank in ("", " \n\t  ", "\r\n"):  # whitespace only is empty code, for a job as well
        for route in ("/v1/sandbox/execute", "/v1/sandbox/jobs"):
            refused = await api.http.post(route, headers=session, json={"code": blank})
            assert refused.status_code == 422, (route, blank, refused.text)
            assert refused.json()["details"]["fields"][0]["field"] == "body.code"
    missing = await api.http.get("/v1/sandbox/jobs/no-such-execution", headers=session)
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
    tampered = await api.http.get("/v1/sandbox/executions", headers=session, params={"cursor": "abc.def"})
    assert tampered.status_code == 422 and tampered.json()["details"]["fields"][0]["field"] == "query.cursor"
    huge = await api.http.get("/v1/sandbox/executions", headers=session, params={"limit": 10_000})
    assert huge.status_code == 422


async def test_sandbox_scopes_code_bucket_and_idempotency(make_api: ApiFactory, sandbox: object) -> None:
    api = await make_api(rate_code_capacity=4, rate_code_per_s=0.01)
    _, session = await api.user()
    read_key = (
        await api.http.post("/v1/api-keys", headers=session, json={"name": "r", "scopes": ["read"]})
    ).json()["key"]
    refused = await api.http.post("/v1/sandbox/execute", headers={"X-API-Key": read_key}, json={"code": "1"})
    assert refused.status_code == 403 and refused.json()["details"]["scope"] == "trade"
    assert (await api.http.get("/v1/sandbox/limits", headers={"X-API-Key": read_key})).status_code == 200

    headers = session | {"Idempotency-Key": "run-1"}
    once = await api.http.post("/v1/sandbox/execute", headers=headers, json={"code": "result = 5"})
    again = await api.http.post("/v1/sandbox/execute", headers=headers, json={"code": "result = 5"})
    assert once.status_code == again.status_code == 200
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json()["execution_id"] == once.json()["execution_id"]  # ran once
    other = await api.http.post("/v1/sandbox/execute", headers=headers, json={"code": "result = 6"})
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"
    codes = [
        (await api.http.post("/v1/sandbox/execute", headers=session, json={"code": "pass"})).status_code
        for _ in range(4)
    ]
    # the strict code bucket: 4 runs in all; the refusal (403, 422) and the replay were not charged
    assert codes == [200, 200, 200, 429], codes
