"""Dataset CSV validation (a file of known bad rows), and the dataset operations end to end."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from nats.aio.client import Client

from tradeloom.market_data.app import build
from tradeloom.market_data.domain.datasets import DatasetFormatError, parse_ohlcv_csv
from tradeloom.market_data.settings import MarketDataSettings
from tradeloom.shared.context import CallerContext
from tradeloom.shared.rpc import RemoteError, ServiceClient
from tradeloom.shared.streams import ensure_streams
from tradeloom.shared.subjects import Subjects

H = 3600 * 10**9
T0 = 1_704_067_200 * 10**9  # 2024-01-01T00:00:00Z

BAD_FILE = """Date,Open,High,Low,Close,Volume
2024-01-01T00:00:00Z,100,110,90,105,10
2024-01-01T01:00:00Z,105,104,100,103,5
2024-01-01T02:00:00Z,103,108,104,105,5
2024-01-01T02:00:00Z,103,108,100,105,5
2024-01-01T01:30:00Z,103,108,100,105,5
2024-01-01T03:00:00Z,NaN,108,100,105,5
2024-01-01T04:00:00Z,103,108,100,105,-1
not a time,103,108,100,105,1
2024-01-01T05:00:00Z,103,108,100,abc,1
2024-01-01T06:00:00Z,103,108
"""


def test_file_of_known_bad_rows_reports_each_row_and_why() -> None:
    parsed = parse_ohlcv_csv(BAD_FILE)
    assert [(bad.line, bad.column, bad.reason) for bad in parsed.bad_rows] == [
        (3, "High", "high below max(open, close)"),
        (4, "Low", "low above min(open, close)"),
        (5, "Date", "duplicate timestamp"),
        (6, "Date", "time goes backwards"),
        (7, "Open", "open is NaN (NaN/infinity not allowed)"),
        (8, "Volume", "volume is -1: it must be in [0, 1000000000000000000]"),
        (9, "Date", "time: Invalid isoformat string: 'not a time'"),
        (10, "Close", "close is not a number: 'abc'"),
        (11, None, "expected at least 6 columns, found 3"),
    ]
    assert parsed.bad_row_count == 9


def test_prices_out_of_range_and_inverted_bars_name_row_and_column() -> None:
    rows = [
        "0,100,110,90,105,1",  # line 2: good
        "3600,-5,110,90,105,1",  # negative open
        "7200,100,0,90,105,1",  # zero high
        "10800,100,110,90,1e308,1",  # absurd close
        "14400,100,110,1e-20,105,1",  # price too small to compute with
        "18000,100,90,110,100,1",  # high below low
        "21600,120,110,90,105,1",  # open above high
        "25200,100,110,90,80,1",  # close below low
        "28800,100,110,90,105,1e30",  # absurd volume
        "32400,100,110,90,105,inf",  # infinite volume
        "1e400,100,110,90,105,1",  # an epoch time no clock reaches
        "99999999999,100,110,90,105,1",  # seconds past 2262: beyond int64 nanoseconds
    ]
    parsed = parse_ohlcv_csv("T,O,H,L,C,V\n" + "\n".join(rows) + "\n", {"time": "T", "volume": "V"})
    assert len(parsed.bars) == 1 and parsed.bad_row_count == 11
    assert [(bad.line, bad.column) for bad in parsed.bad_rows] == [
        (3, "O"),
        (4, "H"),
        (5, "C"),
        (6, "L"),
        (7, "H"),
        (8, "H"),
        (9, "L"),
        (10, "V"),
        (11, "V"),
        (12, "T"),
        (13, "T"),
    ]
    reasons = [bad.reason for bad in parsed.bad_rows]
    assert reasons[0] == "open is -5: a price must be in [0.000000000001, 1000000000000000]"
    assert reasons[4] == "high 90 below low 110"


def test_a_field_over_the_csv_limit_is_a_bad_row_not_a_crash() -> None:
    huge = "9" * 200_000  # the csv module refuses fields over 131,072 characters
    text = f"time,open,high,low,close,volume\n0,1,1,1,1,1\n3600,{huge},1,1,1,1\n7200,1,1,1,1,1\n"
    parsed = parse_ohlcv_csv(text)
    assert [bar.open_ns for bar in parsed.bars] == [0, 7200 * 10**9]
    assert [(bad.line, bad.column) for bad in parsed.bad_rows] == [(3, None)]
    assert "field larger than field limit" in parsed.bad_rows[0].reason
    long_time = "x" * 100_000  # under the limit: read, refused, and quoted only in part
    parsed = parse_ohlcv_csv(f"time,open,high,low,close,volume\n{long_time},1,1,1,1,1\n")
    assert parsed.bad_rows[0].column == "time" and len(parsed.bad_rows[0].reason) <= 200


def test_columns_timezones_and_epoch_units() -> None:
    text = "when,o,h,l,c,qty\n2024-01-01 01:00:00,1,2,0.5,1.5,3\n2024-01-01 02:00:00+00:00,1,2,0.5,1.5,3\n"
    parsed = parse_ohlcv_csv(text, {"time": "when", "volume": "qty"}, "Europe/Paris")
    assert [b.open_ns for b in parsed.bars] == [T0, T0 + 2 * H]  # 01:00 Paris is 00:00 UTC
    for stamp in ("1704067200", "1704067200000", "1704067200000000", "1704067200000000000"):
        bars = parse_ohlcv_csv(f"timestamp,open,high,low,close,volume\n{stamp},1,1,1,1,0\n").bars
        assert bars[0].open_ns == T0 and bars[0].volume == Decimal(0)
    with pytest.raises(DatasetFormatError, match="volume"):
        parse_ohlcv_csv("time,open,high,low,close\n1,1,1,1,1\n")
    with pytest.raises(DatasetFormatError) as caught:
        parse_ohlcv_csv("time,open,high,low,close,volume\n", timezone="Mars/Olympus")
    assert caught.value.field == "timezone"


def csv_of(hours: list[int]) -> str:
    lines = ["timestamp,open,high,low,close,volume"]
    for h in hours:
        lines.append(f"{(T0 + h * H) // 10**6},{100 + h},{102 + h},{99 + h},{101 + h},{h + 1}")
    return "\n".join(lines) + "\n"


async def test_dataset_operations(
    md_schema: str, md_settings: Callable[..., MarketDataSettings], nc: Client, nats_prefix: str
) -> None:
    subjects = Subjects(nats_prefix)
    await ensure_streams(nc.jetstream(), subjects)
    runtime = build(md_settings(md_schema, dataset_max_bytes=4096))
    await runtime.start()
    client = ServiceClient(nc, subjects)
    alice, bob = CallerContext(user_id="alice"), CallerContext(user_id="bob")

    async def call(op: str, body: dict[str, Any], caller: CallerContext = alice) -> dict[str, Any]:
        return await client.call_raw("market-data", op, body, caller=caller, timeout_s=5)

    async def upload(name: str, text: str, caller: CallerContext = alice, **commit: Any) -> dict[str, Any]:
        started = await call("datasets_upload_begin", {"name": name, "symbol": "btc-usdt"}, caller)
        pieces = [text[i : i + 500] for i in range(0, len(text), 500)]
        for seq, piece in enumerate(pieces):
            await call(
                "datasets_upload_chunk",
                {"upload_id": started["upload_id"], "seq": seq, "data": piece},
                caller,
            )
        return await call("datasets_upload_commit", {"upload_id": started["upload_id"], **commit}, caller)

    async def error(op: str, body: dict[str, Any], caller: CallerContext = alice) -> RemoteError:
        with pytest.raises(RemoteError) as caught:
            await call(op, body, caller)
        return caught.value

    try:
        hours = [h for h in range(30) if h not in (5, 6, 20)]  # two gaps
        created = await upload("btc-1h", csv_of(hours))
        assert (created["bar_count"], created["start_ns"], created["interval_ns"]) == (27, T0, H)
        assert created["symbol"] == "BTC/USDT"
        inspected = await call("datasets_inspect", {"dataset_id": created["dataset_id"]})
        assert inspected["gap_count"] == 2
        assert [(g["after_ns"], g["missing_bars"]) for g in inspected["gaps"]] == [
            (T0 + 4 * H, 2),
            (T0 + 19 * H, 1),
        ]
        resampled = await call("datasets_resample", {"dataset_id": created["dataset_id"], "timeframe": "4h"})
        assert (
            resampled["name"] == "btc-1h-4h"
            and resampled["bar_count"] == 8
            and resampled["interval_ns"] == 4 * H
        )
        assert [d["name"] for d in (await call("datasets_list", {}))["datasets"]] == ["btc-1h", "btc-1h-4h"]

        refused = await error(
            "datasets_upload_commit",
            {"upload_id": (await call("datasets_upload_begin", {"name": "bad"}))["upload_id"]},
        )
        assert refused.code == "validation_error"  # empty upload: no header
        started = await call("datasets_upload_begin", {"name": "bad2"})
        await call("datasets_upload_chunk", {"upload_id": started["upload_id"], "seq": 0, "data": BAD_FILE})
        bad = await error("datasets_upload_commit", {"upload_id": started["upload_id"]})
        assert bad.code == "validation_error" and bad.details["bad_row_count"] == 9
        assert bad.details["rows"][0] == {
            "line": 3,
            "column": "High",
            "reason": "high below max(open, close)",
        }
        assert len((await call("datasets_list", {}))["datasets"]) == 2  # nothing partial stored

        too_big = await call("datasets_upload_begin", {"name": "big"})
        big = await error(
            "datasets_upload_chunk", {"upload_id": too_big["upload_id"], "seq": 0, "data": "x" * 5000}
        )
        assert big.code == "validation_error" and big.details["fields"][0]["field"] == "data"
        out_of_order = await error(
            "datasets_upload_chunk", {"upload_id": too_big["upload_id"], "seq": 3, "data": "x"}
        )
        assert out_of_order.details["fields"][0]["field"] == "seq"
        assert (await error("datasets_upload_begin", {"name": "btc-1h"})).code == "conflict"
        wrong_tf = await error("datasets_resample", {"dataset_id": created["dataset_id"], "timeframe": "7m"})
        assert wrong_tf.details["fields"][0]["field"] == "timeframe"
        month = await error("datasets_resample", {"dataset_id": created["dataset_id"], "timeframe": "1M"})
        assert month.details["fields"][0]["field"] == "timeframe" and "no fixed width" in month.message
        finer = await error("datasets_resample", {"dataset_id": created["dataset_id"], "timeframe": "15m"})
        assert finer.details["fields"][0]["field"] == "timeframe"

        # ownership: bob sees nothing of alice's and gets not_found for her ids
        assert (await call("datasets_list", {}, bob))["datasets"] == []
        for op in ("datasets_inspect", "datasets_delete"):
            assert (await error(op, {"dataset_id": created["dataset_id"]}, bob)).code == "not_found"
        assert (
            await error(
                "datasets_upload_chunk", {"upload_id": too_big["upload_id"], "seq": 0, "data": "a"}, bob
            )
        ).code == "not_found"
        assert (await error("datasets_list", {}, CallerContext())).code == "unauthorized"
        assert (await error("datasets_inspect", {"dataset_id": "not-a-uuid"})).code == "not_found"

        assert (await call("datasets_delete", {"dataset_id": created["dataset_id"]}))["deleted"] is True
        assert (await error("datasets_inspect", {"dataset_id": created["dataset_id"]})).code == "not_found"
    finally:
        await runtime.stop()


async def test_dataset_bars_pages_like_candles_and_is_owner_checked(
    md_schema: str, md_settings: Callable[..., MarketDataSettings], nc: Client, nats_prefix: str
) -> None:
    subjects = Subjects(nats_prefix)
    await ensure_streams(nc.jetstream(), subjects)
    runtime = build(md_settings(md_schema))
    await runtime.start()
    client = ServiceClient(nc, subjects)
    alice, bob = CallerContext(user_id="alice"), CallerContext(user_id="bob")

    async def call(op: str, body: dict[str, Any], caller: CallerContext = alice) -> dict[str, Any]:
        return await client.call_raw("market-data", op, body, caller=caller, timeout_s=5)

    async def error(op: str, body: dict[str, Any], caller: CallerContext = alice) -> RemoteError:
        with pytest.raises(RemoteError) as caught:
            await call(op, body, caller)
        return caught.value

    try:
        started = await call("datasets_upload_begin", {"name": "paged", "symbol": "BTC/USDT"})
        await call(
            "datasets_upload_chunk",
            {"upload_id": started["upload_id"], "seq": 0, "data": csv_of(list(range(25)))},
        )
        dataset_id = (await call("datasets_upload_commit", {"upload_id": started["upload_id"]}))["dataset_id"]

        seen: list[dict[str, Any]] = []
        cursor = None
        pages = 0
        while True:
            reply = await call("datasets_bars", {"dataset_id": dataset_id, "limit": 10, "cursor": cursor})
            assert (reply["interval_ns"], reply["start_ns"], reply["end_ns"]) == (H, T0, T0 + 24 * H)
            seen.extend(reply["candles"])
            pages += 1
            cursor = reply["next_cursor"]
            if cursor is None:
                break
        assert pages == 3 and [c["open_ns"] for c in seen] == [T0 + h * H for h in range(25)]
        assert seen[3] == {
            "open_ns": T0 + 3 * H,
            "open": "103",
            "high": "105",
            "low": "102",
            "close": "104",
            "volume": "4",
            "trade_count": 0,
        }
        ranged = await call(
            "datasets_bars", {"dataset_id": dataset_id, "from_ns": T0 + 5 * H, "to_ns": T0 + 7 * H}
        )
        assert [c["open_ns"] for c in ranged["candles"]] == [T0 + 5 * H, T0 + 6 * H, T0 + 7 * H]
        assert ranged["next_cursor"] is None

        assert (await error("datasets_bars", {"dataset_id": dataset_id}, bob)).code == "not_found"
        assert (await error("datasets_bars", {"dataset_id": "nope"})).code == "not_found"
        assert (
            await error("datasets_bars", {"dataset_id": dataset_id}, CallerContext())
        ).code == "unauthorized"
        bad_cursor = await error("datasets_bars", {"dataset_id": dataset_id, "cursor": "x1"})
        assert bad_cursor.details["fields"][0]["field"] == "cursor"
        backwards = await error("datasets_bars", {"dataset_id": dataset_id, "from_ns": 5, "to_ns": 1})
        assert backwards.details["fields"][0]["field"] == "from_ns"
        too_many = await error("datasets_bars", {"dataset_id": dataset_id, "limit": 5001})
        assert too_many.code == "validation_error" and too_many.details["fields"][0]["field"] == "limit"
    finally:
        await runtime.stop()
