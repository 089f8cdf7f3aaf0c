"""``svc.market-data.candles_columns`` and ``candles_packed`` over real NATS and Postgres: the same
candles as the ``candles`` op (each decimal as its float64), the same cursors, errors naming the
field, a full page well under NATS' 1 MiB."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import numpy as np
import pytest
from nats.aio.client import Client

from tradeloom.market_data.app import build
from tradeloom.market_data.candle_columns import decode_columns, encode_columns
from tradeloom.market_data.settings import MarketDataSettings
from tradeloom.shared.contracts.market_data import CandlesRequest
from tradeloom.shared.contracts.market_data_columns import CandleColumnsReply, CandleColumnsRequest
from tradeloom.shared.contracts.market_data_packed import MAGIC, PACKED_COLUMNS, unpack_frame
from tradeloom.shared.db import create_engine
from tradeloom.shared.rpc import RemoteError, ServiceClient
from tradeloom.shared.streams import ensure_streams
from tradeloom.shared.subjects import Subjects

MINUTE = 60 * 10**9
START = 1_704_067_200 * 10**9
N = 12_345  # a full page of 10,000 and a partial one
MIB = 1024 * 1024


def random_candles(n: int) -> list[tuple[Any, ...]]:
    """Rows of ``market_data.candles``: prices with up to 9 decimals (most not exact in binary)."""
    rng = random.Random(5)
    rows = []
    for i in range(n):
        o = Decimal(rng.randint(1, 10**14)) / 10**9
        c = Decimal(rng.randint(1, 10**14)) / 10**9
        h, lo = max(o, c) + Decimal("0.000000001"), min(o, c)
        volume = Decimal(rng.randint(0, 10**12)) / 10**8
        count = rng.randint(0, 2**31 - 1)
        rows.append(("sim", "BTC/USDT", "1m", START + i * MINUTE, o, h, lo, c, volume, count, 0, "", 0, ""))
    return rows


async def store_candles(database_url: str, schema: str, rows: list[tuple[Any, ...]]) -> None:
    engine = create_engine(database_url)
    try:
        async with engine.begin() as connection:
            driver = (await connection.get_raw_connection()).driver_connection
            assert driver is not None
            await driver.copy_records_to_table(
                "candles", schema_name=schema, records=rows,
                columns=["venue", "symbol", "tf", "open_ns", "open", "high", "low", "close", "volume",
                         "trade_count", "first_ts_ns", "first_tid", "last_ts_ns", "last_tid"],
            )  # fmt: skip
    finally:
        await engine.dispose()


async def call(client: ServiceClient, op: str, body: dict[str, Any]) -> dict[str, Any]:
    return await client.call_raw("market-data", op, body, timeout_s=10)


async def all_pages(client: ServiceClient, op: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    pages = [await call(client, op, body)]
    while pages[-1]["next_cursor"] is not None:
        pages.append(await call(client, op, body | {"cursor": pages[-1]["next_cursor"]}))
    return pages


def json_columns(pages: list[dict[str, Any]]) -> dict[str, np.ndarray]:
    """The ``candles`` op's pages as arrays: each decimal string as the float64 nearest to it."""
    candles = [c for page in pages for c in page["candles"]]
    out = {name: np.array([c[name] for c in candles], dtype=np.int64) for name in ("open_ns", "trade_count")}
    for name in ("open", "high", "low", "close", "volume"):
        out[name] = np.array([float(Decimal(c[name])) for c in candles], dtype=np.float64)
    return out


def binary_columns(pages: list[dict[str, Any]]) -> dict[str, np.ndarray]:
    decoded = [decode_columns(page) for page in pages]
    for page, columns in zip(pages, decoded, strict=True):
        assert CandleColumnsReply.model_validate(page).count == len(columns["open_ns"])
    return {name: np.concatenate([d[name] for d in decoded]) for name in decoded[0]}


async def packed_pages(
    client: ServiceClient, body: dict[str, Any]
) -> list[tuple[Any, dict[str, np.ndarray]]]:
    """Every ``candles_packed`` frame of ``body`` (header, arrays), following the cursor."""
    pages = []
    cursor = None
    while True:
        frame = await client.call_binary(
            "market-data", "candles_packed", body | {"cursor": cursor}, timeout_s=10
        )
        header, views = unpack_frame(frame)
        assert [(c.name, c.dtype) for c in header.columns] == list(PACKED_COLUMNS)
        arrays = {c.name: np.frombuffer(v, dtype=c.dtype) for c, v in zip(header.columns, views, strict=True)}
        pages.append((header, arrays))
        cursor = header.next_cursor
        if cursor is None:
            return pages


def packed_columns(pages: list[tuple[Any, dict[str, np.ndarray]]]) -> dict[str, np.ndarray]:
    return {name: np.concatenate([arrays[name] for _, arrays in pages]) for name, _ in PACKED_COLUMNS}


def assert_same(got: dict[str, np.ndarray], want: dict[str, np.ndarray]) -> None:
    assert set(got) == set(want)
    for name, values in want.items():
        np.testing.assert_array_equal(got[name], values, err_msg=name)


def test_the_request_has_the_rules_of_the_candles_request_but_the_limit() -> None:
    def rules(model: type[Any]) -> dict[str, Any]:
        properties = dict(model.model_json_schema()["properties"])
        properties.pop("limit")
        return properties

    assert rules(CandleColumnsRequest) == rules(CandlesRequest)
    limit = CandleColumnsRequest.model_json_schema()["properties"]["limit"]
    assert (limit["minimum"], limit["maximum"], limit["default"]) == (1, 10_000, 10_000)
    assert CandleColumnsRequest.model_config == CandlesRequest.model_config


def test_encoding_of_no_rows_and_of_exact_values() -> None:
    empty = encode_columns([])
    assert set(empty.values()) == {""}
    row = (2**62 + 1, 0.1, 1e300, -0.0, 65000.5, 1.5, 2**40)
    decoded = decode_columns(encode_columns([row]))
    assert [decoded[name][0] for name in decoded] == list(row)  # int64 keeps every nanosecond
    assert decoded["open_ns"].dtype == np.int64 and decoded["open"].dtype == np.float64


async def test_candles_columns_equal_the_candles_op(
    md_schema: str, md_settings: Callable[..., MarketDataSettings], nc: Client, nats_prefix: str,
    database_url: str,
) -> None:  # fmt: skip
    subjects = Subjects(nats_prefix)
    await ensure_streams(nc.jetstream(), subjects)
    await store_candles(database_url, md_schema, random_candles(N))
    runtime = build(md_settings(md_schema, sim_symbols=["BTC/USDT"], sim_trades_per_s=0))
    await runtime.start()
    client = ServiceClient(nc, subjects)
    try:
        for _ in range(100):  # the start task registers the sim instruments
            try:
                await call(client, "candles_columns", {"symbol": "BTC/USDT", "limit": 1})
                break
            except RemoteError:
                await asyncio.sleep(0.1)

        exact = json_columns(await all_pages(client, "candles", {"symbol": "BTC/USDT", "limit": 5000}))
        assert len(exact["open_ns"]) == N
        pages = await all_pages(client, "candles_columns", {"symbol": "BTC/USDT"})
        assert [p["count"] for p in pages] == [10_000, N - 10_000]
        assert_same(binary_columns(pages), exact)

        # a window, paged with the same limit: the same cursors as the candles op
        window = {
            "symbol": "btc-usdt",
            "from_ns": START + 17 * MINUTE,
            "to_ns": START + 60 * MINUTE,
            "limit": 7,
        }
        json_pages = await all_pages(client, "candles", window)
        column_pages = await all_pages(client, "candles_columns", window)
        assert [p["next_cursor"] for p in column_pages] == [p["next_cursor"] for p in json_pages]
        assert_same(binary_columns(column_pages), json_columns(json_pages))
        assert binary_columns(column_pages)["open_ns"][0] == START + 17 * MINUTE

        empty = await call(client, "candles_columns", {"symbol": "BTC/USDT", "timeframe": "1h",
                                                       "from_ns": 0, "to_ns": START - 1})  # fmt: skip
        assert (empty["count"], empty["open"], empty["next_cursor"]) == (0, "", None)

        # candles_packed: the same pages, cursors and values as one binary frame each
        packed = await packed_pages(client, {"symbol": "BTC/USDT"})
        assert [h.count for h, _ in packed] == [10_000, N - 10_000]
        assert_same(packed_columns(packed), exact)
        packed_window = await packed_pages(client, window)
        assert [h.next_cursor for h, _ in packed_window] == [p["next_cursor"] for p in json_pages]
        assert_same(packed_columns(packed_window), json_columns(json_pages))
        (none, arrays), *_ = await packed_pages(client, {"symbol": "BTC/USDT", "timeframe": "1h",
                                                         "from_ns": 0, "to_ns": START - 1})  # fmt: skip
        assert none.count == 0 and none.next_cursor is None and len(arrays["open"]) == 0
        frame = await nc.request(
            subjects.request("market-data", "candles_packed"), b'{"symbol": "BTC/USDT"}', timeout=10
        )
        assert frame.data[:4] == MAGIC and len(frame.data) < 0.55 * MIB  # 7 × 80,000 bytes + header

        # the encoded reply of a full page, as NATS carries it
        message = await nc.request(
            subjects.request("market-data", "candles_columns"),
            json.dumps({"symbol": "BTC/USDT"}).encode(),
            timeout=10,
        )
        assert json.loads(message.data)["data"]["count"] == 10_000
        assert len(message.data) < 0.75 * MIB  # 7 × base64(80,000 bytes) ≈ 747 kB

        bad: list[tuple[dict[str, Any], str, str]] = [
            ({"symbol": "DOGE/USDT"}, "not_found", ""),
            ({"symbol": "BTC/USDT", "timeframe": "7m"}, "validation_error", "timeframe"),
            ({"symbol": "BTC/USDT", "from_ns": 5, "to_ns": 4}, "validation_error", "from_ns"),
            ({"symbol": "BTC/USDT", "cursor": "x"}, "validation_error", "cursor"),
            ({"symbol": "B T C"}, "validation_error", "symbol"),
            ({"symbol": "BTC/USDT", "limit": 10_001}, "validation_error", "limit"),
            ({"symbol": "BTC/USDT", "limit": 0}, "validation_error", "limit"),
            ({"symbol": "BTC/USDT", "extra": 1}, "validation_error", "extra"),
        ]
        for body, code, field in bad:
            with pytest.raises(RemoteError) as caught:
                await call(client, "candles_columns", body)
            assert caught.value.code == code, (body, caught.value.message)
            if field:
                assert field in [f["field"] for f in caught.value.details["fields"]], body
            with pytest.raises(RemoteError) as packed_error:  # errors stay JSON
                await client.call_binary("market-data", "candles_packed", body, timeout_s=10)
            assert packed_error.value.code == code, body
    finally:
        await runtime.stop()
