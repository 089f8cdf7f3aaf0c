"""/v1/market/* and /v1/datasets/* end to end: the gateway app in-process (default body limits),
a REAL market-data runtime (its ``build()``, own migrated schema) on the same NATS and Postgres
behind it; a slow fake (``rpc.serve``) for the 504."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest
from backends import market_data_runtime
from gateway_testkit import Api, ApiFactory
from nats.aio.client import Client as NatsClient
from sqlalchemy import text

from tradeloom.gateway_auth.routes import datasets as routes_datasets
from tradeloom.market_data.sources.publisher import MarketPublisher
from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.market_data import CandlesReply, CandlesRequest, TradeTick
from tradeloom.shared.publish import EventPublisher
from tradeloom.shared.rpc import Operation, RemoteError, ServiceClient, serve
from tradeloom.shared.streams import ensure_streams
from tradeloom.shared.subjects import Subjects

MINUTE = 60 * 10**9
HOUR_MS = 3_600_000
START_MS = 1_704_067_200_000  # 2024-01-01T00:00:00Z


def bars_csv(n: int, start_ms: int = START_MS, step_ms: int = HOUR_MS) -> str:
    lines = ["timestamp,open,high,low,close,volume"]
    for i in range(n):
        o = 100 + (i % 13)
        c = o + (1 if i % 2 else -1)
        lines.append(f"{start_ms + i * step_ms},{o},{max(o, c) + 0.5},{min(o, c) - 0.5},{c},{1 + i % 5}")
    return "\n".join(lines) + "\n"


async def pieces(data: bytes, size: int = 65_536) -> AsyncIterator[bytes]:
    """The body sent in pieces, as a browser or curl would stream it."""
    for i in range(0, len(data), size):
        yield data[i : i + size]


@pytest.fixture
async def md_api(
    make_api: ApiFactory, nc: NatsClient, nats_prefix: str, pg_server: Any, database_url: str, nats_url: str
) -> AsyncIterator[Api]:
    """Gateway (default body limit) + market-data with BTC/USDT (60 trades) and ETH/USDT (a book)."""
    subjects = Subjects(nats_prefix)
    await ensure_streams(nc.jetstream(), subjects)
    # a forwarded call's deadline well above the default 2 s: CI's loaded box once took longer
    # than that for a fresh market-data's first range query (the 504 path has its own test)
    api = await make_api(proxy_timeout_s=10)
    async with market_data_runtime(
        pg_server,
        database_url,
        nats_url,
        nats_prefix,
        sim_symbols=["BTC/USDT", "ETH/USDT", "BTC/USDT:USDT"],
        sim_trades_per_s=0,
        dataset_max_bytes=2_000_000,
    ) as md_runtime:
        api.md_schema = md_runtime.settings.db_schema  # type: ignore[attr-defined]
        now = time.time_ns()
        start = now - now % MINUTE - 30 * MINUTE
        trades = [
            TradeTick(
                trade_id=str(i),
                ts_ns=start + i * 30 * 10**9,
                price=Decimal(100 + i % 7),
                amount=Decimal("0.5"),
                side="sell" if i % 2 else "buy",
            )
            for i in range(60)
        ]
        publisher = MarketPublisher(EventPublisher(nc.jetstream(), subjects, "test"), 25)
        await publisher.publish_trades("sim", "BTC/USDT", trades)
        client = ServiceClient(nc, subjects)
        for _ in range(150):
            try:
                latest = await client.call_raw("market-data", "latest_price", {"symbol": "BTC/USDT"})
                book = await client.call_raw("market-data", "order_book", {"symbol": "ETH/USDT"})
                if latest["trade_id"] == "59" and book["bids"]:
                    break
            except RemoteError:
                pass
            await asyncio.sleep(0.1)
        api.start_ns = start  # type: ignore[attr-defined]
        yield api


def fields(response: Any) -> list[str]:
    return [f["field"] for f in response.json()["details"].get("fields", [])]


async def test_market_routes_happy_paths_pagination_and_bad_inputs(md_api: Api) -> None:
    api = md_api
    _, session = await api.user()
    get = api.http.get
    price = await get("/v1/market/price", headers=session, params={"symbol": "btc-usdt"})
    assert price.status_code == 200, price.text
    assert price.json() == {
        "venue": "sim",
        "symbol": "BTC/USDT",
        "price": "103",
        "ts_ns": price.json()["ts_ns"],
        "trade_id": "59",
    }

    first = await get("/v1/market/candles", headers=session, params={"symbol": "BTC/USDT", "limit": 20})
    assert first.status_code == 200 and len(first.json()["candles"]) == 20, first.text
    cursor = first.json()["next_cursor"]
    assert cursor and "." in cursor  # the gateway's signed cursor, not the service's
    rest = await get(
        "/v1/market/candles", headers=session, params={"symbol": "BTC/USDT", "limit": 20, "cursor": cursor}
    )
    assert len(rest.json()["candles"]) == 10 and rest.json()["next_cursor"] is None
    assert rest.json()["candles"][0]["open_ns"] == first.json()["candles"][-1]["open_ns"] + MINUTE
    start = api.start_ns  # type: ignore[attr-defined]
    iso_from = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(start // 10**9))
    window = await get(
        "/v1/market/candles",
        headers=session,
        params={"symbol": "BTC/USDT", "from": iso_from, "to": str(start + 4 * MINUTE)},
    )
    assert [c["open_ns"] for c in window.json()["candles"]] == [start + k * MINUTE for k in range(5)]
    hourly = await get(
        "/v1/market/candles", headers=session, params={"symbol": "BTC/USDT", "timeframe": "1h"}
    )
    assert sum(c["trade_count"] for c in hourly.json()["candles"]) == 60

    recent = await get("/v1/market/trades", headers=session, params={"symbol": "BTC/USDT", "limit": 3})
    assert [t["trade_id"] for t in recent.json()["trades"]] == ["59", "58", "57"]
    stats = await get("/v1/market/stats", headers=session, params={"symbol": "BTC/USDT"})
    assert stats.status_code == 200 and stats.json()["trade_count"] == 60 and stats.json()["high"] == "106"
    overview = await get("/v1/market/overview", headers=session)
    assert [i["symbol"] for i in overview.json()["items"]] == ["BTC/USDT"]
    book = await get(
        "/v1/market/book", headers=session, params={"symbol": "ETH/USDT", "depth": 5, "band_bps": "50"}
    )
    assert book.status_code == 200 and len(book.json()["bids"]) == 5, book.text
    assert Decimal(book.json()["analytics"]["spread"]) > 0
    listed = await get("/v1/market/instruments", headers=session, params={"venue": "sim", "kind": "spot"})
    assert [i["symbol"] for i in listed.json()["instruments"]] == ["BTC/USDT", "ETH/USDT"]

    # a read-only API key reads market data
    key = await api.http.post("/v1/api-keys", headers=session, json={"name": "ro", "scopes": ["read"]})
    ro = {"X-API-Key": key.json()["key"]}
    assert (await get("/v1/market/price", headers=ro, params={"symbol": "BTC/USDT"})).status_code == 200
    assert (await get("/v1/market/price", params={"symbol": "BTC/USDT"})).status_code == 401

    async def problem(path: str, params: dict[str, Any], status: int, field: str | None = None) -> None:
        response = await get(path, headers=session, params=params)
        assert response.status_code == status, (path, params, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        if field:
            assert field in fields(response), response.text

    await problem("/v1/market/candles", {"symbol": "DOGE/USDT"}, 404)
    await problem("/v1/market/price", {"symbol": "BTC/USDT", "venue": "nowhere"}, 404)
    await problem("/v1/market/book", {"symbol": "DOGE/USDT"}, 404)
    await problem("/v1/market/stats", {"symbol": "DOGE/USDT"}, 404)
    await problem("/v1/market/trades", {"symbol": "DOGE/USDT"}, 404)
    await problem("/v1/market/candles", {"symbol": "BTC/USDT", "timeframe": "7m"}, 422, "query.timeframe")
    await problem(
        "/v1/market/candles",
        {"symbol": "BTC/USDT", "from": "2024-01-02", "to": "2024-01-01"},
        422,
        "query.from",
    )
    await problem("/v1/market/candles", {"symbol": "BTC/USDT", "from": "yesterday"}, 422, "query.from")
    await problem(
        "/v1/market/candles", {"symbol": "BTC/USDT", "cursor": cursor[:-2] + "xx"}, 422, "query.cursor"
    )
    await problem("/v1/market/candles", {"symbol": "B T C"}, 422, "query.symbol")
    await problem("/v1/market/candles", {"symbol": "BTC/USDT", "limit": 5001}, 422, "query.limit")
    await problem("/v1/market/book", {"symbol": "BTC/USDT", "band_bps": "NaN"}, 422, "query.band_bps")
    await problem("/v1/market/instruments", {"kind": "swap"}, 422, "query.kind")
    # perpetuals: funding history (none yet: no trade to mark at) and mark price
    funding = await get("/v1/market/funding-rates", headers=session, params={"symbol": "BTC/USDT:USDT"})
    assert funding.status_code == 200 and funding.json()["items"] == [], funding.text
    await problem("/v1/market/mark-price", {"symbol": "BTC/USDT:USDT"}, 404)  # no trade yet
    await problem("/v1/market/funding-rates", {"symbol": "BTC/USDT"}, 404)  # spot: no funding
    await problem("/v1/market/funding-rates", {"symbol": "BTC/USDT:USDT", "limit": 0}, 422, "query.limit")


async def test_dataset_upload_streamed_then_list_inspect_bars_resample_delete(md_api: Api) -> None:
    api = md_api
    _, session = await api.user()
    csv = bars_csv(30_000).encode()  # ~1.1 MB: three 512 KiB pieces to market-data
    assert len(csv) > 2 * routes_datasets.PIECE_BYTES
    headers = {**session, "Content-Type": "text/csv", "Idempotency-Key": "up-1"}
    made = await api.http.post(
        "/v1/datasets", headers=headers, params={"name": "btc 1h", "symbol": "btc-usdt"}, content=pieces(csv)
    )
    assert made.status_code == 201, made.text
    dataset = made.json()
    assert dataset["bar_count"] == 30_000 and dataset["symbol"] == "BTC/USDT"
    assert dataset["interval_ns"] == HOUR_MS * 10**6 and dataset["start_ns"] == START_MS * 10**6
    again = await api.http.post(
        "/v1/datasets", headers=headers, params={"name": "btc 1h", "symbol": "btc-usdt"}, content=b"not read"
    )
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == dataset
    reused = await api.http.post("/v1/datasets", headers=headers, params={"name": "other"}, content=csv[:200])
    assert reused.status_code == 422 and fields(reused) == ["header.Idempotency-Key"]
    dup = await api.http.post("/v1/datasets", headers=session, params={"name": "btc 1h"}, content=csv[:300])
    assert dup.status_code == 409, dup.text

    dataset_id = dataset["dataset_id"]
    listed = await api.http.get("/v1/datasets", headers=session)
    assert [d["dataset_id"] for d in listed.json()["datasets"]] == [dataset_id]
    inspected = await api.http.get(f"/v1/datasets/{dataset_id}", headers=session)
    assert inspected.status_code == 200 and inspected.json()["gap_count"] == 0

    url = f"/v1/datasets/{dataset_id}/bars"
    params: dict[str, Any] = {"from": "2024-01-01T10:00:00+00:00", "to": "2024-01-02T09:00:00Z", "limit": 10}
    page1 = await api.http.get(url, headers=session, params=params)
    assert page1.status_code == 200 and len(page1.json()["candles"]) == 10, page1.text
    assert page1.json()["candles"][0]["open_ns"] == (START_MS + 10 * HOUR_MS) * 10**6
    seen = list(page1.json()["candles"])
    cursor = page1.json()["next_cursor"]
    while cursor:
        page = await api.http.get(url, headers=session, params={**params, "cursor": cursor})
        seen += page.json()["candles"]
        cursor = page.json()["next_cursor"]
    assert len(seen) == 24 and seen[-1]["open_ns"] == (START_MS + 33 * HOUR_MS) * 10**6
    other_list = await api.http.get(
        "/v1/market/candles",
        headers=session,
        params={"symbol": "BTC/USDT", "cursor": page1.json()["next_cursor"]},
    )
    assert other_list.status_code == 422 and fields(other_list) == ["query.cursor"]
    backwards = await api.http.get(url, headers=session, params={"from": "2024-01-03", "to": "2024-01-02"})
    assert backwards.status_code == 422 and fields(backwards) == ["query.from"]

    coarse = await api.http.post(
        f"/v1/datasets/{dataset_id}/resample", headers=session, json={"timeframe": "4h", "name": "btc 4h"}
    )
    assert coarse.status_code == 201 and coarse.json()["bar_count"] == 7_500, coarse.text
    bad_tf = await api.http.post(
        f"/v1/datasets/{dataset_id}/resample", headers=session, json={"timeframe": "7m"}
    )
    assert bad_tf.status_code == 422 and fields(bad_tf) == ["body.timeframe"], bad_tf.text
    extra = await api.http.post(
        f"/v1/datasets/{dataset_id}/resample", headers=session, json={"timeframe": "4h", "owner": "x"}
    )
    assert extra.status_code == 422 and fields(extra) == ["body.owner"]

    key = await api.http.post("/v1/api-keys", headers=session, json={"name": "ro", "scopes": ["read"]})
    ro = {"X-API-Key": key.json()["key"]}
    assert (await api.http.get(f"/v1/datasets/{dataset_id}", headers=ro)).status_code == 200
    assert (await api.http.delete(f"/v1/datasets/{dataset_id}", headers=ro)).status_code == 403
    assert (
        await api.http.post("/v1/datasets", headers=ro, params={"name": "x"}, content=csv[:300])
    ).status_code == 403

    deleted = await api.http.delete(f"/v1/datasets/{dataset_id}", headers=session)
    assert deleted.json() == {"dataset_id": dataset_id, "deleted": True}
    assert (await api.http.get(f"/v1/datasets/{dataset_id}", headers=session)).status_code == 404


async def test_dataset_upload_refusals(md_api: Api) -> None:
    api = md_api
    _, session = await api.user()
    csv = bars_csv(10).splitlines()
    csv[3] = csv[3].replace(",", ",999,", 1).rsplit(",", 1)[0]  # open 999 above high
    csv[6] = csv[5]  # duplicate time
    bad = await api.http.post("/v1/datasets", headers=session, params={"name": "bad"}, content="\n".join(csv))
    assert bad.status_code == 422, bad.text
    details = bad.json()["details"]
    assert details["bad_row_count"] == 2 and [r["line"] for r in details["rows"]] == [4, 7]
    assert fields(bad) == ["body"]
    assert (await api.http.get("/v1/datasets", headers=session)).json()["datasets"] == []

    too_big = bars_csv(70_000).encode()  # over the service's 2,000,000-byte limit
    over = await api.http.post(
        "/v1/datasets", headers=session, params={"name": "big"}, content=pieces(too_big)
    )
    assert over.status_code == 413 and over.json()["details"]["max_bytes"] == 2_000_000, over.text
    as_json = await api.http.post(
        "/v1/datasets",
        headers={**session, "Content-Type": "application/json"},
        params={"name": "j"},
        content=b"{}",
    )
    assert as_json.status_code == 415 and as_json.json()["code"] == "unsupported_media_type"
    latin1 = await api.http.post(
        "/v1/datasets", headers=session, params={"name": "l"}, content="time\n\xe9".encode("latin-1")
    )
    assert latin1.status_code == 422 and fields(latin1) == ["body"]
    nul = await api.http.post("/v1/datasets", headers=session, params={"name": "n"}, content=b"time\x00\n1")
    assert nul.status_code == 422 and fields(nul) == ["body"]
    cols = await api.http.post(
        "/v1/datasets", headers=session, params={"name": "c", "columns": "[1]"}, content=b"x"
    )
    assert cols.status_code == 422 and fields(cols) == ["query.columns"]
    name = await api.http.post("/v1/datasets", headers=session, params={"name": "a/b"}, content=b"x")
    assert name.status_code == 422 and fields(name) == ["query.name"]
    missing = await api.http.post("/v1/datasets", headers=session, content=b"x")
    assert missing.status_code == 422 and fields(missing) == ["query.name"]
    mapped = "When,o,h,l,c,Qty\n2024-01-01T00:00:00,1,2,0.5,1.5,3\n2024-01-01T01:00:00,1,2,0.5,1.5,3\n"
    ok = await api.http.post(
        "/v1/datasets",
        headers=session,
        content=mapped,
        params={"name": "mapped", "columns": '{"time": "When", "volume": "Qty"}', "timezone": "Europe/Paris"},
    )
    assert ok.status_code == 201 and ok.json()["start_ns"] == (START_MS - HOUR_MS) * 10**6, ok.text
    # every refused upload was aborted by the gateway: nothing staged waits for the prune task
    async with api.engine.connect() as conn:
        staged = await conn.execute(text(f'SELECT count(*) FROM "{api.md_schema}".dataset_uploads'))  # type: ignore[attr-defined]
        assert staged.scalar_one() == 0


async def test_user_b_gets_404_on_every_dataset_object_route(md_api: Api) -> None:
    api = md_api
    _, bob = await api.user()
    made = await api.http.post("/v1/datasets", headers=bob, params={"name": "bobs"}, content=bars_csv(30))
    dataset_id = made.json()["dataset_id"]
    _, alice = await api.user()
    openapi = (await api.http.get("/v1/openapi.json")).json()
    routes = [
        (m.upper(), p) for p, ops in openapi["paths"].items() if p.startswith("/v1/datasets/{") for m in ops
    ]
    assert len(routes) == 6
    valid = {
        "/v1/datasets/{dataset_id}/resample": {"json": {"timeframe": "4h"}},
        "/v1/datasets/{dataset_id}/preprocess": {"json": {"steps": [{"op": "returns"}]}},
    }
    for method, path in routes:
        response = await api.http.request(
            method, path.format(dataset_id=dataset_id), headers=alice, **valid.get(path, {})
        )
        assert response.status_code == 404, (method, path, response.text)
        assert response.json()["code"] == "not_found"
    assert (await api.http.get("/v1/datasets", headers=alice)).json()["datasets"] == []
    mine = await api.http.get(f"/v1/datasets/{dataset_id}", headers=bob)
    assert mine.status_code == 200 and mine.json()["bar_count"] == 30


async def test_market_data_down_is_503_and_slow_is_504(
    make_api: ApiFactory, nc: NatsClient, nats_prefix: str
) -> None:
    api = await make_api(proxy_timeout_s=0.3)
    _, session = await api.user()
    down = await api.http.get("/v1/market/candles", headers=session, params={"symbol": "BTC/USDT"})
    assert (
        down.status_code == 503 and down.json()["code"] == "unavailable" and down.json()["retryable"] is True
    )
    upload = await api.http.post("/v1/datasets", headers=session, params={"name": "x"}, content=b"a")
    assert upload.status_code == 503

    async def slow(_: CallerContext, body: CandlesRequest) -> CandlesReply:
        await asyncio.sleep(1.0)
        return CandlesReply(venue="sim", symbol=body.symbol, timeframe=body.timeframe, candles=[])

    op = Operation("candles", CandlesRequest, CandlesReply, slow)
    service = await serve(
        nc, service="market-data", version="0.0.0", subjects=Subjects(nats_prefix), operations=[op]
    )
    try:
        late = await api.http.get("/v1/market/candles", headers=session, params={"symbol": "BTC/USDT"})
        assert (
            late.status_code == 504 and late.json()["code"] == "timeout" and late.json()["retryable"] is True
        )
    finally:
        await service.stop()
