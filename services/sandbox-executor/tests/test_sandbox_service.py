"""sandbox-executor over real NATS and Postgres: execute, error codes, quotas, audit, history, jobs."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import nats
import pytest
from sandbox_testkit import skip_after_refusal
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tradeloom.sandbox_executor.api import SandboxApi
from tradeloom.sandbox_executor.app import build, build_parts
from tradeloom.sandbox_executor.settings import SandboxExecutorSettings
from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.sandbox import ExecuteRequest, ExecutionFinished, ExecutionStarted
from tradeloom.shared.envelope import Envelope
from tradeloom.shared.migrations import find_migrations, migrate
from tradeloom.shared.nats_auth import admin_options
from tradeloom.shared.rpc import RemoteError, ServiceClient
from tradeloom.shared.runtime import ServiceRuntime
from tradeloom.shared.streams import ensure_streams
from tradeloom.shared.subjects import Subjects
from tradeloom.shared.testing.polling import eventually
from tradeloom.shared.testing.ports import free_port
from tradeloom.shared.testing.sandbox_uids import uid_base

SERVICE = "sandbox-executor"
ALICE, BOB = CallerContext(user_id="user-alice"), CallerContext(user_id="user-bob")
Call = Callable[..., Awaitable[dict[str, Any]]]


async def start_service(
    database_url: str, nats_url: str, schema: str, prefix: str, **overrides: Any
) -> ServiceRuntime:
    settings = SandboxExecutorSettings(
        database_url=database_url,
        nats_url=nats_url,
        db_schema=schema,
        nats_prefix=prefix,
        environment="test",
        health_port=free_port(),
        uid_base=overrides.pop("uid_base", uid_base(220_000)),
        stdout_max_bytes=4096,
        **overrides,
    )
    await asyncio.to_thread(
        migrate,
        settings.sqlalchemy_url,
        schema,
        find_migrations(sys.modules[build.__module__].__file__ or ""),
    )
    runtime, handlers = build_parts(settings)
    runtime.sandbox_api = handlers  # type: ignore[attr-defined]  # for tests that bypass NATS
    await runtime.start()
    return runtime


@pytest.fixture
async def service(
    database_url: str, nats_url: str, db_schema: str, nats_prefix: str
) -> AsyncIterator[Callable[..., Awaitable[tuple[ServiceRuntime, Call]]]]:
    """Start a service with given setting overrides; returns it with a ``call(op, body, caller)``."""
    client = await nats.connect(nats_url, **admin_options())
    await ensure_streams(client.jetstream(), Subjects(nats_prefix))
    started: list[ServiceRuntime] = []

    async def make(wait_ready: bool = True, **overrides: Any) -> tuple[ServiceRuntime, Call]:
        runtime = await start_service(database_url, nats_url, db_schema, nats_prefix, **overrides)
        started.append(runtime)
        rpc = ServiceClient(client, Subjects(nats_prefix))

        async def call(
            op: str, body: dict[str, Any] | None = None, caller: CallerContext = ALICE
        ) -> dict[str, Any]:
            return await rpc.call_raw(SERVICE, op, body or {}, caller=caller, timeout_s=20)

        for _ in range(200):  # the sandbox probe runs in a task after start
            if runtime.operations and (await call("health"))["reason"] not in (
                "not prepared",
                "preparing",
                "probing",
            ):
                break
            await asyncio.sleep(0.05)
        health = await call("health")
        if wait_ready and not health["ready"]:  # no isolation on this OS: it must refuse to run
            refused = await error_of(call, "execute", {"code": "print(1)"})
            assert refused.code == "sandbox_unavailable", refused
            skip_after_refusal(health["reason"], "execute answers sandbox_unavailable")
        return runtime, call

    yield make
    for runtime in started:
        await runtime.stop()
    await client.close()


async def error_of(call: Call, op: str, body: dict[str, Any], caller: CallerContext = ALICE) -> RemoteError:
    with pytest.raises(RemoteError) as caught:
        await call(op, body, caller)
    return caught.value


async def test_execute_audit_history_and_ownership(
    service: Any, db_engine: AsyncEngine, db_schema: str
) -> None:
    _, call = await service()
    assert (await call("health"))["features"]["pool"] == "2 ready single-use workers"  # the default path
    ok = await call("execute", {"code": "print(2)\nresult = input_data * 2", "input": 21, "time_limit_s": 5})
    assert ok["success"] and ok["stdout"] == "2\n" and ok["result"] == 42
    failed = await call("execute", {"code": "raise KeyError('k')"})
    assert failed["success"] is False and failed["error"]["type"] == "KeyError"
    history = await call("history", {"limit": 10})
    assert [item["execution_id"] for item in history["items"]] == [failed["execution_id"], ok["execution_id"]]
    assert history["items"][1]["outcome"] == "ok" and history["items"][0]["outcome"] == "error"
    assert (await call("history", {}, BOB))["items"] == []
    assert (await error_of(call, "get", {"execution_id": ok["execution_id"]}, BOB)).code == "not_found"
    assert (await call("get", {"execution_id": ok["execution_id"]}))["summary"]["status"] == "finished"
    async with db_engine.connect() as conn:
        rows = (
            await conn.execute(
                text(f'SELECT user_id, outcome, code_sha256, cpu_s, memory_mb FROM "{db_schema}".audit')
            )
        ).all()
    assert {(row.user_id, row.outcome) for row in rows} == {("user-alice", "ok"), ("user-alice", "error")}
    assert all(len(row.code_sha256) == 64 and row.cpu_s > 0 and row.memory_mb == 512 for row in rows)


async def test_bad_inputs_map_to_their_codes(service: Any) -> None:
    _, call = await service()
    cases = [
        ({"code": ""}, "validation_error", "code"),
        ({"code": " \n\t "}, "validation_error", "code"),
        ({"code": "x", "time_limit_s": 0}, "validation_error", "time_limit_s"),
        ({"code": "x", "time_limit_s": 301}, "validation_error", "time_limit_s"),
        ({"code": "x", "memory_mb": 63}, "validation_error", "memory_mb"),
        ({"code": "x", "memory_mb": 2049}, "validation_error", "memory_mb"),
        ({"code": "x", "shell": True}, "validation_error", "shell"),
    ]
    for body, code, field in cases:
        error = await error_of(call, "execute", body)
        assert error.code == code and error.details["fields"][0]["field"] == field, (body, error.details)
    too_large = await error_of(call, "execute", {"code": "#" * 50_001})
    assert too_large.code == "code_too_large" and too_large.details["limit"] == 50_000
    syntax = await error_of(call, "execute", {"code": "a = 1\nif a\n    pass"})
    assert syntax.code == "syntax_error" and syntax.details["line"] == 2 and syntax.details["column"] >= 1
    slow = await error_of(
        call, "execute", {"code": "print('a', flush=True)\nimport time\ntime.sleep(9)", "time_limit_s": 1}
    )
    assert slow.code == "time_limit" and slow.details["stdout"] == "a\n"
    big = await error_of(
        call,
        "execute",
        {"code": "x = bytearray(200 * 2**20)\nx[::4096] = b'1' * len(x[::4096])", "memory_mb": 64},
    )
    assert big.code == "memory_limit"
    assert (await error_of(call, "execute", {"code": "print(1)"}, CallerContext())).code == "unauthorized"


async def test_concurrency_cpu_and_rate_quotas(service: Any, db_engine: AsyncEngine, db_schema: str) -> None:
    runtime, call = await service(quota_concurrent=1, rate_per_minute=3)
    # NATS micro handles one request at a time per endpoint; replicas run in parallel. Two calls
    # at once are what two replicas see, so they go to the handlers directly here.
    handlers: SandboxApi = runtime.sandbox_api  # type: ignore[attr-defined]
    slow = asyncio.create_task(
        handlers.execute(ALICE, ExecuteRequest(code="import time\ntime.sleep(3)", time_limit_s=30))
    )

    async def running() -> bool:
        async with db_engine.connect() as conn:
            query = f"SELECT count(*) FROM \"{db_schema}\".executions WHERE status = 'running'"
            return bool(await conn.scalar(text(query)))

    await eventually(running, "the slow execution holds alice's only slot")
    busy = await error_of(call, "execute", {"code": "print(1)"})
    assert busy.code == "quota_exceeded" and busy.details["quota"] == "concurrent_executions"
    assert (await slow).success
    for _ in range(2):
        await call("execute", {"code": "print(1)"})
    limited = await error_of(call, "execute", {"code": "print(1)"})
    assert limited.code == "rate_limited" and limited.details["limit"] == 3
    limits = await call("limits")
    assert limits["quotas"]["concurrent_max"] == 1 and limits["quotas"]["cpu_seconds_used_today"] > 0
    assert limits["time_limit_s"] == {"min": 1, "max": 300, "default": 30}


async def test_daily_cpu_quota(service: Any) -> None:
    _, call = await service(quota_cpu_seconds_per_day=0.001)
    await call("execute", {"code": "print(1)"})
    spent = await error_of(call, "execute", {"code": "print(1)"})
    assert spent.code == "quota_exceeded" and spent.details["quota"] == "cpu_seconds_per_day"
    assert (await call("execute", {"code": "print(1)"}, BOB))["success"]  # per user


async def test_job_runs_from_the_work_queue_with_events(
    service: Any, nats_url: str, nats_prefix: str
) -> None:
    _, call = await service()
    queued = await call("submit", {"code": "result = sum(range(10))", "time_limit_s": 5})
    assert queued["status"] == "queued"
    subjects = Subjects(nats_prefix)
    observer = await nats.connect(nats_url, **admin_options())
    try:
        events = await observer.jetstream().pull_subscribe(
            subjects.event_filter("sandbox"), stream=subjects.stream("SANDBOX_EVENTS")
        )
        seen: dict[str, Envelope] = {}
        for _ in range(40):
            try:
                for message in await events.fetch(10, timeout=0.5):
                    envelope = Envelope.from_bytes(message.data)
                    seen[envelope.type] = envelope
            except (TimeoutError, nats.errors.TimeoutError):
                pass
            if ExecutionFinished.event_type() in seen:
                break
    finally:
        await observer.close()
    started = seen[ExecutionStarted.event_type()].unwrap(ExecutionStarted)
    finished = seen[ExecutionFinished.event_type()].unwrap(ExecutionFinished)
    assert started.execution_id == finished.execution_id == queued["execution_id"]
    assert finished.kind == "job" and finished.success and finished.user_id == "user-alice"
    detail = await call("get", {"execution_id": queued["execution_id"]})
    assert detail["summary"]["status"] == "finished" and detail["reply"]["result"] == 45
    assert (await error_of(call, "get", {"execution_id": queued["execution_id"]}, BOB)).code == "not_found"


async def test_service_fails_closed_without_isolation(
    service: Any, db_engine: AsyncEngine, db_schema: str
) -> None:
    _, call = await service(wait_ready=False, bwrap_path="/nonexistent/bwrap", uid_base=uid_base(221_000))
    health = await call("health")
    assert health["ready"] is False and "bwrap not found" in health["reason"]
    refused = await error_of(call, "execute", {"code": "print(1)"})
    assert refused.code == "sandbox_unavailable" and "bwrap" in refused.message
    assert (await error_of(call, "submit", {"code": "print(1)"})).code == "sandbox_unavailable"
    async with db_engine.connect() as conn:
        outcomes = (await conn.execute(text(f'SELECT outcome, error_code FROM "{db_schema}".audit'))).all()
        ran = (await conn.execute(text(f'SELECT count(*) FROM "{db_schema}".executions'))).scalar_one()
    assert {tuple(row) for row in outcomes} == {("rejected", "sandbox_unavailable")} and ran == 0
