"""Issue 15's market-data routes through the gateway, on one started stack (``md_api``: gateway +
a real market-data runtime with 60 BTC/USDT trades): trades by time range with signed cursors,
a Parquet dataset upload, and preprocessing into a new dataset with its derived columns."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pandas as pd
from gateway_testkit import Api
from test_routes_market_data import HOUR_MS, START_MS, bars_csv, fields, md_api, pieces

__all__ = ["md_api"]  # the fixture, shared with test_routes_market_data


async def test_trades_range_parquet_upload_and_preprocessing(md_api: Api) -> None:
    api = md_api
    _, session = await api.user()
    get = api.http.get
    start = api.start_ns  # type: ignore[attr-defined]

    ranged: list[list[str]] = []
    params: dict[str, Any] = {"symbol": "BTC/USDT", "limit": 25, "from": str(start + 30 * 10**9)}
    while True:  # trades 1..59 by time range, three pages through the gateway's signed cursors
        page = await get("/v1/market/trades/range", headers=session, params=params)
        assert page.status_code == 200, page.text
        ranged.append([t["trade_id"] for t in page.json()["trades"]])
        if page.json()["next_cursor"] is None:
            break
        params = {**params, "cursor": page.json()["next_cursor"]}
    assert [len(p) for p in ranged] == [25, 25, 9]
    assert [t for p in ranged for t in p] == [str(i) for i in range(1, 60)]
    window = await get(
        "/v1/market/trades/range",
        headers=session,
        params={"symbol": "BTC/USDT", "from": str(start + 60 * 10**9), "to": str(start + 120 * 10**9)},
    )
    assert [t["trade_id"] for t in window.json()["trades"]] == ["2", "3", "4"]
    for bad, field in (
        ({"from": "9", "to": "1"}, "query.from"),
        ({"cursor": "1:x"}, "query.cursor"),
        ({"limit": 5001}, "query.limit"),
    ):
        refused = await get("/v1/market/trades/range", headers=session, params={"symbol": "BTC/USDT", **bad})
        assert refused.status_code == 422 and field in fields(refused), refused.text
    unknown = await get("/v1/market/trades/range", headers=session, params={"symbol": "DOGE/USDT"})
    assert unknown.status_code == 404

    parquet = {**session, "Content-Type": "application/vnd.apache.parquet"}
    frame = pd.read_csv(io.StringIO(bars_csv(12_000)))  # > 510 kB of Parquet: two chunks of base64
    noise = np.random.default_rng(7).random((len(frame), 6))  # incompressible, so the file is large
    for i in range(6):
        frame[f"noise{i}"] = noise[:, i]
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    assert 520_000 < len(buffer.getvalue()) < 2_000_000
    made = await api.http.post(
        "/v1/datasets", headers=parquet, params={"name": "pq"}, content=pieces(buffer.getvalue())
    )
    assert made.status_code == 201 and made.json()["bar_count"] == 12_000, made.text
    assert made.json()["start_ns"] == START_MS * 10**6
    not_pq = await api.http.post("/v1/datasets", headers=parquet, params={"name": "np"}, content=b"a,b\n1,2")
    assert not_pq.status_code == 422 and fields(not_pq) == ["body"], not_pq.text

    source = made.json()["dataset_id"]
    steps = [{"op": "returns"}, {"op": "indicator", "indicator": "rsi", "params": {"window": 14}}]
    pre = await api.http.post(f"/v1/datasets/{source}/preprocess", headers=session, json={"steps": steps})
    assert pre.status_code == 201 and pre.json()["columns"] == ["returns", "rsi"], pre.text
    assert pre.json()["dataset"]["bar_count"] == 12_000 and pre.json()["source_dataset_id"] == source
    url = f"/v1/datasets/{pre.json()['dataset']['dataset_id']}/derived"
    first = await get(url, headers=session, params={"limit": 2})
    assert first.status_code == 200 and first.json()["columns"]["returns"][0] is None, first.text
    assert [s["step"]["op"] for s in first.json()["steps"]] == ["returns", "indicator"]
    second = await get(url, headers=session, params={"limit": 2, "cursor": first.json()["next_cursor"]})
    assert second.json()["open_ns"][0] == first.json()["open_ns"][1] + HOUR_MS * 10**6
    bad_step = await api.http.post(
        f"/v1/datasets/{source}/preprocess", headers=session, json={"steps": [{"op": "smooth"}]}
    )
    assert bad_step.status_code == 422, bad_step.text
    bad_param = await api.http.post(
        f"/v1/datasets/{source}/preprocess",
        headers=session,
        json={"name": "x", "steps": [{"op": "indicator", "indicator": "rsi", "params": {"window": 0}}]},
    )
    assert bad_param.status_code == 422, bad_param.text
    assert any("window" in f for f in fields(bad_param)), bad_param.text
