"""SSE /v1/backtests/{id}/events: from backtest.evt.* on real JetStream, owner-only, Last-Event-ID."""

from __future__ import annotations

import asyncio

from gateway_testkit import Api
from nats.aio.client import Client as NatsClient
from stream_testkit import publish_backtest, publish_completed

from tradeloom.shared.streams import ensure_streams
from tradeloom.shared.subjects import Subjects


def frames(body: str) -> list[dict[str, str]]:
    parsed = []
    for block in body.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if not line.startswith(":"))
        if fields:
            parsed.append(fields)
    return parsed


async def test_owner_streams_progress_then_resumes_with_last_event_id(
    api: Api, nc: NatsClient, nats_prefix: str
) -> None:
    await ensure_streams(nc.jetstream(), Subjects(nats_prefix))
    bob, bob_session = await api.user()
    _, alice_session = await api.user()
    first = await publish_backtest(nc, nats_prefix, "bt-sse-1", bob["id"], 10.0)
    second = await publish_backtest(nc, nats_prefix, "bt-sse-1", bob["id"], 60.0)
    url = "/v1/backtests/bt-sse-1/events"

    async def finish_later() -> int:
        await asyncio.sleep(0.3)  # live, after the replay
        return await publish_completed(nc, nats_prefix, "bt-sse-1", bob["id"])

    finisher = asyncio.create_task(finish_later())
    response = await api.http.get(url, headers=bob_session)  # ends after the terminal event
    done = await finisher
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
    got = frames(response.text)
    assert [(f["id"], f["event"]) for f in got] == [
        (str(first), "progress"), (str(second), "progress"), (str(done), "completed")
    ]  # fmt: skip
    assert '"percent":60.0' in got[1]["data"]

    resumed = await api.http.get(url, headers=bob_session | {"Last-Event-ID": str(second)})
    assert [f["id"] for f in frames(resumed.text)] == [str(done)]

    foreign = await api.http.get(url, headers=alice_session)
    assert foreign.status_code == 404 and foreign.json()["code"] == "not_found"
    # no event of it: only backtest-engine can tell unknown from just-submitted, and it is not
    # running here, so the answer is a retryable 503, never a guess (404 with it: test_routes_backtests)
    unknown = await api.http.get("/v1/backtests/bt-nobody/events", headers=bob_session)
    assert unknown.status_code == 503 and unknown.json()["retryable"] is True
    bad = await api.http.get(url, headers=bob_session | {"Last-Event-ID": "yesterday"})
    assert bad.status_code == 422 and bad.json()["details"]["fields"][0]["field"] == "header.Last-Event-ID"
    bad_id = await api.http.get("/v1/backtests/bt.1/events", headers=bob_session)
    assert bad_id.status_code == 422
