"""Abandoned dataset uploads: the explicit abort operation and the periodic prune task, over real
NATS and Postgres (the service runs in-process with its own prune task)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from nats.aio.client import Client
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tradeloom.market_data.app import build
from tradeloom.market_data.settings import MarketDataSettings
from tradeloom.market_data.store.datasets_store import prune_uploads
from tradeloom.shared.context import CallerContext
from tradeloom.shared.rpc import RemoteError, ServiceClient
from tradeloom.shared.streams import ensure_streams
from tradeloom.shared.subjects import Subjects

CSV = "timestamp,open,high,low,close,volume\n1704067200,1,2,0.5,1.5,3\n1704070800,1,2,0.5,1.5,3\n"
ALICE, BOB = CallerContext(user_id="alice"), CallerContext(user_id="bob")


async def staged(engine: AsyncEngine, schema: str, upload_id: str) -> tuple[int, int]:
    """(upload rows, chunk rows) stored for ``upload_id``."""
    async with engine.connect() as connection:
        counts = await connection.execute(
            text(
                f'SELECT (SELECT count(*) FROM "{schema}".dataset_uploads WHERE upload_id = '
                f'CAST(:u AS uuid)), (SELECT count(*) FROM "{schema}".dataset_upload_chunks '
                "WHERE upload_id = CAST(:u AS uuid))"
            ),
            {"u": upload_id},
        )
        uploads, chunks = counts.one()
    return int(uploads), int(chunks)


async def backdate(
    engine: AsyncEngine, schema: str, upload_id: str, seconds: int, *, idle_too: bool = True
) -> None:
    """Begun ``seconds`` ago; idle as long too, unless ``idle_too`` is False (still streaming)."""
    activity = ", last_activity_at = now() - make_interval(secs => :s)" if idle_too else ""
    async with engine.begin() as connection:
        await connection.execute(
            text(
                f'UPDATE "{schema}".dataset_uploads SET created_at = now() - make_interval(secs => :s)'
                f"{activity} WHERE upload_id = CAST(:u AS uuid)"
            ),
            {"u": upload_id, "s": seconds},
        )


@pytest.fixture
async def service(
    md_schema: str, md_settings: Callable[..., MarketDataSettings], nc: Client, nats_prefix: str
) -> Any:
    """A running service pruning every 0.05 s uploads idle for over 10 minutes, and a caller."""
    subjects = Subjects(nats_prefix)
    await ensure_streams(nc.jetstream(), subjects)
    runtime = build(md_settings(md_schema, dataset_upload_ttl_s=600, dataset_prune_interval_s=0.05))
    await runtime.start()
    client = ServiceClient(nc, subjects)

    async def call(op: str, body: dict[str, Any], caller: CallerContext = ALICE) -> dict[str, Any]:
        return await client.call_raw("market-data", op, body, caller=caller, timeout_s=5)

    try:
        yield runtime, call
    finally:
        await runtime.stop()


async def test_abort_removes_staged_rows_and_refuses_later_chunks(
    service: Any, md_schema: str, db_engine: AsyncEngine
) -> None:
    _, call = service

    async def error(op: str, body: dict[str, Any], caller: CallerContext = ALICE) -> RemoteError:
        with pytest.raises(RemoteError) as caught:
            await call(op, body, caller)
        return caught.value

    upload_id = (await call("datasets_upload_begin", {"name": "abandoned"}))["upload_id"]
    for seq in range(2):
        await call("datasets_upload_chunk", {"upload_id": upload_id, "seq": seq, "data": CSV})
    assert await staged(db_engine, md_schema, upload_id) == (1, 2)

    # another user's upload does not exist for bob; no user at all is unauthorized
    assert (await error("datasets_upload_abort", {"upload_id": upload_id}, BOB)).code == "not_found"
    anonymous = await error("datasets_upload_abort", {"upload_id": upload_id}, CallerContext())
    assert anonymous.code == "unauthorized"
    assert await staged(db_engine, md_schema, upload_id) == (1, 2)

    assert await call("datasets_upload_abort", {"upload_id": upload_id}) == {
        "upload_id": upload_id,
        "aborted": True,
    }
    assert await staged(db_engine, md_schema, upload_id) == (0, 0)

    late = await error("datasets_upload_chunk", {"upload_id": upload_id, "seq": 2, "data": CSV})
    assert late.code == "not_found" and late.details == {"upload_id": upload_id}
    assert "aborted" in late.message
    assert (await error("datasets_upload_commit", {"upload_id": upload_id})).code == "not_found"
    assert (await error("datasets_upload_abort", {"upload_id": upload_id})).code == "not_found"
    assert (await error("datasets_upload_abort", {"upload_id": "not-a-uuid"})).code == "not_found"
    missing = await error("datasets_upload_abort", {})
    assert missing.code == "validation_error" and missing.details["fields"][0]["field"] == "upload_id"
    extra = await error("datasets_upload_abort", {"upload_id": upload_id, "force": True})
    assert extra.details["fields"][0]["field"] == "force"

    # the name is free again: a new upload of it goes through to a dataset
    again = (await call("datasets_upload_begin", {"name": "abandoned"}))["upload_id"]
    await call("datasets_upload_chunk", {"upload_id": again, "seq": 0, "data": CSV})
    assert (await call("datasets_upload_commit", {"upload_id": again}))["bar_count"] == 2


async def test_prune_task_removes_only_expired_uploads_never_datasets(
    service: Any, md_schema: str, db_engine: AsyncEngine
) -> None:
    runtime, call = service
    done = (await call("datasets_upload_begin", {"name": "finished"}))["upload_id"]
    await call("datasets_upload_chunk", {"upload_id": done, "seq": 0, "data": CSV})
    dataset = await call("datasets_upload_commit", {"upload_id": done})
    async with db_engine.begin() as connection:  # a finished dataset older than any TTL
        await connection.execute(
            text(f"UPDATE \"{md_schema}\".datasets SET created_at = now() - interval '30 days'")
        )
    expired = (await call("datasets_upload_begin", {"name": "expired"}))["upload_id"]
    await call("datasets_upload_chunk", {"upload_id": expired, "seq": 0, "data": CSV})
    old_but_active = (await call("datasets_upload_begin", {"name": "old-but-active"}))["upload_id"]
    fresh = (await call("datasets_upload_begin", {"name": "fresh"}, BOB))["upload_id"]
    await backdate(db_engine, md_schema, expired, 601)
    # begun two hours ago but still streaming (its last chunk is recent): it stays. (Backdating its
    # activity too and then sending a chunk would race the pruner, which runs every 0.05 s.)
    await backdate(db_engine, md_schema, old_but_active, 7200, idle_too=False)
    await call("datasets_upload_chunk", {"upload_id": old_but_active, "seq": 0, "data": CSV})

    for _ in range(200):  # the task prunes every 0.05 s; wait for it, bounded
        if await staged(db_engine, md_schema, expired) == (0, 0):
            break
        await asyncio.sleep(0.05)
    assert await staged(db_engine, md_schema, expired) == (0, 0)
    assert await staged(db_engine, md_schema, old_but_active) == (1, 1)
    assert await staged(db_engine, md_schema, fresh) == (1, 0)
    assert runtime.registry.get_sample_value("tl_md_dataset_uploads_pruned_total") == 1.0
    listed = (await call("datasets_list", {}))["datasets"]
    assert [d["dataset_id"] for d in listed] == [dataset["dataset_id"]]
    inspected = await call("datasets_inspect", {"dataset_id": dataset["dataset_id"]})
    assert inspected["bar_count"] == 2
    chunk = {"upload_id": expired, "seq": 1, "data": CSV}
    with pytest.raises(RemoteError) as caught:
        await call("datasets_upload_chunk", chunk)
    assert caught.value.code == "not_found" and "pruned" in caught.value.message


async def test_prune_uploads_statement_counts_what_it_deleted(md_schema: str, db_engine: AsyncEngine) -> None:
    async with db_engine.begin() as connection:
        await connection.execute(
            text(
                f'INSERT INTO "{md_schema}".dataset_uploads (upload_id, owner, name, last_activity_at) '
                "VALUES (gen_random_uuid(), 'a', 'x', now() - interval '2 hours'), "
                "(gen_random_uuid(), 'a', 'y', now() - interval '59 minutes'), "
                "(gen_random_uuid(), 'b', 'z', now())"
            )
        )
        assert await prune_uploads(connection, md_schema, 3600) == 1
        assert await prune_uploads(connection, md_schema, 3600) == 0
        assert await prune_uploads(connection, md_schema, 60) == 1
        remaining = await connection.execute(text(f'SELECT name FROM "{md_schema}".dataset_uploads'))
        assert remaining.scalars().all() == ["z"]
