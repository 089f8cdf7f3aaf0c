"""A large ``POST /v1/datasets`` ends in one clear outcome: the request waits for the commit it
started (201 with the dataset), and a retry with the same ``Idempotency-Key`` returns that dataset,
never a second one — also when the commit outlived the request (504) and stored the dataset later.
The gateway in-process and a REAL market-data runtime (default 50 MB limit).

Forwarded calls get a 1 s deadline here, so a commit that shared it (validating and storing
~8 MB takes seconds) would answer 504 while market-data went on to store the dataset: the bug.
Timings belong to ``bench/bench_dataset_upload.py``, not here.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from backends import market_data_runtime
from gateway_testkit import Api, ApiFactory
from nats.aio.client import Client as NatsClient
from test_routes_market_data import bars_csv, pieces

from tradeloom.gateway_auth.routes import datasets as routes_datasets
from tradeloom.shared.streams import ensure_streams
from tradeloom.shared.subjects import Subjects

ROWS = 220_000  # ≈ 8 MB of CSV


@pytest.fixture
async def big_api(
    make_api: ApiFactory, nc: NatsClient, nats_prefix: str, pg_server: Any, database_url: str, nats_url: str
) -> AsyncIterator[Api]:
    await ensure_streams(nc.jetstream(), Subjects(nats_prefix))
    api = await make_api(proxy_timeout_s=1.0)
    async with market_data_runtime(pg_server, database_url, nats_url, nats_prefix):
        yield api


async def test_a_large_upload_waits_for_its_commit_and_a_retry_returns_the_same_dataset(
    big_api: Api,
) -> None:
    api = big_api
    _, session = await api.user()
    csv = bars_csv(ROWS).encode()
    assert len(csv) > 15 * routes_datasets.PIECE_BYTES
    headers = {**session, "Content-Type": "text/csv", "Idempotency-Key": "big-upload-1"}
    params = {"name": "btc big", "symbol": "BTC/USDT"}
    made = await api.http.post(
        "/v1/datasets", headers=headers, params=params, content=pieces(csv), timeout=None
    )
    assert made.status_code == 201, made.text
    dataset = made.json()
    assert dataset["bar_count"] == ROWS and dataset["name"] == "btc big"

    retried = await api.http.post(
        "/v1/datasets", headers=headers, params=params, content=pieces(csv), timeout=None
    )
    assert retried.status_code == 201 and retried.headers["Idempotent-Replayed"] == "true", retried.text
    assert retried.json() == dataset
    listed = (await api.http.get("/v1/datasets", headers=session)).json()["datasets"]
    assert [d["dataset_id"] for d in listed] == [dataset["dataset_id"]]
    without_key = await api.http.post("/v1/datasets", headers=session, params=params, content=csv[:300])
    assert without_key.status_code == 409, without_key.text  # a dataset's name is unique per user


async def test_a_retry_after_a_commit_outlived_its_request_returns_the_stored_dataset(
    make_api: ApiFactory, big_api: Api
) -> None:
    """The residual case: a commit slower than ``DATASET_COMMIT_TIMEOUT_S`` (tiny here) answers 504,
    market-data still stores the dataset; the retry with the same key gets it, not a second one or a
    409, and without sending the file again."""
    hurried = await make_api(proxy_timeout_s=1.0, dataset_commit_timeout_s=0.01)
    _, session = await big_api.user()  # both gateway apps share the users' schema
    headers = {**session, "Content-Type": "text/csv", "Idempotency-Key": "slow-commit-1"}
    params = {"name": "btc slow", "symbol": "BTC/USDT"}
    csv = bars_csv(30_000).encode()
    timed_out = await hurried.http.post(
        "/v1/datasets", headers=headers, params=params, content=csv, timeout=None
    )
    assert timed_out.status_code == 504, timed_out.text

    listed: list[dict[str, Any]] = []
    deadline = time.monotonic() + 120
    while not listed and time.monotonic() < deadline:  # the commit goes on after the 504
        answer = await big_api.http.get("/v1/datasets", headers=session)
        if answer.status_code == 200:  # a 504 while market-data is still busy committing: ask again
            listed = answer.json()["datasets"]
        await asyncio.sleep(0.2)
    assert [d["name"] for d in listed] == ["btc slow"]

    retried = await big_api.http.post(
        "/v1/datasets", headers=headers, params=params, content=b"", timeout=None
    )
    assert retried.status_code == 201, retried.text
    assert retried.json()["dataset_id"] == listed[0]["dataset_id"] and retried.json()["bar_count"] == 30_000
    again = await big_api.http.post("/v1/datasets", headers=headers, params=params, content=b"", timeout=None)
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert len((await big_api.http.get("/v1/datasets", headers=session)).json()["datasets"]) == 1
    other = {**headers, "Idempotency-Key": "slow-commit-2"}
    assert (
        await big_api.http.post("/v1/datasets", headers=other, params=params, content=csv[:300])
    ).status_code == 409
