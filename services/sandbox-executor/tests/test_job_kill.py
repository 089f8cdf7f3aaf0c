"""kill -9: "a crashed job runs again once". The sandbox-executor process is killed while a job's
code runs; after a restart the job is delivered again, runs again, and finishes exactly once (one
``execution_finished``, one audit row, the stored reply). Where the OS cannot isolate the sandbox,
the service refuses the job instead, and that refusal is what the test then checks."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Any

import pytest
from nats.aio.client import Client
from nats.aio.msg import Msg
from sandbox_testkit import skip_after_refusal
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tradeloom.sandbox_executor import app
from tradeloom.sandbox_executor.jobs import JOBS_CONSUMER
from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.sandbox import ExecutionFinished, ExecutionStarted
from tradeloom.shared.envelope import Envelope
from tradeloom.shared.rpc import RemoteError, ServiceClient
from tradeloom.shared.streams import ensure_streams
from tradeloom.shared.subjects import Subjects
from tradeloom.shared.testing.polling import eventually
from tradeloom.shared.testing.processes import ServiceProcess
from tradeloom.shared.testing.sandbox_uids import uid_base
from tradeloom.shared.testing.schemas import migrate_service

# two service start-ups (up to 90 s each on a loaded machine) and a redelivery
pytestmark = pytest.mark.timeout(600)
ALICE = CallerContext(user_id="user-alice")
BACKOFF = {JOBS_CONSUMER.durable: (8.0, 8.0)}  # instead of 330 s; the job beats while it runs
PROBING = ("not prepared", "preparing", "probing")
JOB = {"code": "import time\ntime.sleep(3)\nresult = 6 * 7", "time_limit_s": 60}


async def test_a_job_whose_executor_is_killed_runs_again_and_finishes_once(
    nc: Client,
    nats_url: str,
    nats_prefix: str,
    database_url: str,
    db_schema: str,
    db_engine: AsyncEngine,
    tmp_path: Path,
) -> None:
    subjects = Subjects(nats_prefix)
    await ensure_streams(nc.jetstream(), subjects)
    await migrate_service(app, database_url, db_schema)
    events: list[Envelope] = []

    async def collect(message: Msg) -> None:
        events.append(Envelope.from_bytes(message.data))

    await nc.subscribe(subjects.event_filter("sandbox"), cb=collect)
    rpc = ServiceClient(nc, subjects)

    async def call(op: str, body: dict[str, Any]) -> dict[str, Any]:
        return await rpc.call_raw("sandbox-executor", op, body, caller=ALICE, timeout_s=20)

    def of(event: type[ExecutionStarted | ExecutionFinished], execution_id: str) -> list[Envelope]:
        """Distinct events (by id): a relay killed between publish and mark re-sends the same event,
        which JetStream drops as a duplicate but a core subscription sees twice."""
        found = {
            e.id: e
            for e in events
            if e.type == event.event_type() and e.data.get("execution_id") == execution_id
        }
        return list(found.values())

    settings: dict[str, object] = {
        "database_url": database_url, "nats_url": nats_url, "nats_prefix": nats_prefix,
        "db_schema": db_schema, "environment": "test", "uid_base": uid_base(232_000),
        "stdout_max_bytes": 4096,
    }  # fmt: skip
    with ServiceProcess("sandbox_executor", settings, tmp_path, BACKOFF) as service:
        await asyncio.to_thread(service.start)

        async def probed() -> dict[str, Any] | None:
            health = await call("health", {})
            return None if health["reason"] in PROBING else health

        health = await eventually(probed, "the sandbox probe finished", timeout=60)
        if not health["ready"]:  # no isolation on this OS: the job must be refused, not run
            try:
                await call("submit", JOB)
            except RemoteError as refused:
                assert refused.code == "sandbox_unavailable", refused
            else:
                raise AssertionError(f"a job was accepted without isolation: {health}")
            skip_after_refusal(health["reason"], "submit answers sandbox_unavailable")

        execution_id = str((await call("submit", JOB))["execution_id"])
        await eventually(lambda: of(ExecutionStarted, execution_id), "the job started")
        assert await asyncio.to_thread(service.kill) == -signal.SIGKILL
        assert of(ExecutionFinished, execution_id) == []

        await asyncio.to_thread(service.start)
        await eventually(lambda: of(ExecutionFinished, execution_id), "the job finished", timeout=120)
        js = nc.jetstream()

        async def settled() -> bool:  # the command acked and every event relayed: nothing more comes
            info = await js.consumer_info(subjects.stream(JOBS_CONSUMER.stream), JOBS_CONSUMER.durable)
            async with db_engine.connect() as conn:
                unsent = await conn.scalar(
                    text(f'SELECT count(*) FROM "{db_schema}".outbox WHERE published_at IS NULL')
                )
            return info.num_pending == 0 and info.num_ack_pending == 0 and unsent == 0

        await eventually(settled, "job command acked and outbox relayed", timeout=60)
        detail = await call("get", {"execution_id": execution_id})
    assert len(of(ExecutionStarted, execution_id)) == 2  # it really ran again
    [finished] = of(ExecutionFinished, execution_id)
    assert finished.data["success"] is True and finished.data["kind"] == "job"
    assert detail["summary"]["status"] == "finished" and detail["reply"]["result"] == 42
    async with db_engine.connect() as conn:
        audits = await conn.scalar(
            text(f'SELECT count(*) FROM "{db_schema}".audit WHERE execution_id = :id'), {"id": execution_id}
        )
    assert audits == 1
