"""Daily PnL (route and export), the trade list's filters and sorting, the open trade's count, and
the backtests of a saved strategy listed and counted. Real NATS, Postgres and market-data."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest
from saved_kit import saved_body, saved_versions

from tradeloom.backtest_engine.domain.run_plan import plan_run, with_bars
from tradeloom.backtest_engine.domain.simulation import BarArrays, run_backtest
from tradeloom.quant.metrics import daily_pnl
from tradeloom.quant.simulator import ExitReason, TradeColumn
from tradeloom.shared.contracts.backtest import SubmitBacktest
from tradeloom.shared.contracts.strategy import StrategyVersionInfo, StrategyVersionRef
from tradeloom.shared.rpc import RemoteError

HOUR_NS = 3_600 * 1_000_000_000
REASONS = {int(r): r.name.lower() for r in ExitReason}


async def pages(harness: Any, op: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = await harness.call(op, body | {"cursor": cursor})
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items


async def refused(harness: Any, op: str, body: dict[str, Any]) -> str:
    with pytest.raises(RemoteError) as caught:
        await harness.call(op, body)
    assert caught.value.code == "validation_error", caught.value
    return str(caught.value.details["fields"][0]["field"])


async def test_daily_pnl_positions_trade_filters_counters_and_the_open_trade(
    harness: Any, market: Any
) -> None:
    parts = await harness.start_service()
    body = harness.body(
        params={"fast": 5, "slow": 20, "allow_short": True}, stop_loss="0.01", max_entries_per_day=2
    )
    backtest_id = await harness.submit(**{k: v for k, v in body.items() if k != "strategy"})
    await harness.events.wait_for(backtest_id, "completed")
    bars = market.bars
    arrays = BarArrays(bars["time"], bars["open"], bars["high"], bars["low"], bars["close"], bars["volume"])
    expected = run_backtest(
        with_bars(plan_run(SubmitBacktest.model_validate(body)), bars["time"], HOUR_NS), arrays
    )
    table = expected.trades
    assert {1.0, -1.0} <= set(table[:, 0]) and 1 in table[:, int(TradeColumn.EXIT_REASON)]

    # daily PnL: paged, equal to tradeloom.quant's, with its summary
    days, pnl = daily_pnl(expected.equity, bars["time"], 10_000.0)
    first = await harness.call("daily_pnl", {"backtest_id": backtest_id, "limit": 7})
    daily = await pages(harness, "daily_pnl", {"backtest_id": backtest_id, "limit": 7})
    assert [d["day_ns"] for d in daily] == days.tolist() and first["days"] == days.size == 25
    assert [float(d["pnl"]) for d in daily] == pnl.tolist()
    assert daily[0]["day"] == datetime.fromtimestamp(int(days[0]) // 10**9, UTC).date().isoformat()
    assert first["profitable_days"] == pytest.approx(expected.metrics["profitable_days"])
    assert float(first["largest_winning_day"]) == expected.metrics["largest_winning_day"] == pnl.max()
    assert float(first["largest_losing_day"]) == expected.metrics["largest_losing_day"] == pnl.min()
    assert first["winning_days"] == int((pnl > 0).sum()) and first["losing_days"] == int((pnl < 0).sum())
    ready = await harness.call("export", {"backtest_id": backtest_id, "kind": "daily_pnl"})
    store = await parts.runtime.js.object_store(ready["bucket"])
    lines = (await store.get(ready["object_name"])).data.decode().splitlines()
    assert lines[0] == "day,day_ns,pnl" and ready["rows"] == 25 == len(lines) - 1
    assert [float(line.split(",")[2]) for line in lines[1:]] == pnl.tolist()

    # position, open trades and gross exposure per bar, like the equity curve
    held = await harness.call("positions", {"backtest_id": backtest_id, "max_points": 2000})
    assert expected.position is not None and expected.exposure is not None
    assert held["total_points"] == 600 and held["position"]["t_ns"] == bars["time"].tolist()
    assert held["position"]["values"] == expected.position.tolist()
    assert held["gross_exposure"]["values"] == (np.abs(expected.position) * bars["close"]).tolist()
    assert held["open_trades"]["values"] == (expected.position != 0).astype(float).tolist()
    assert min(held["position"]["values"]) < 0 < max(held["position"]["values"])
    small = await harness.call("positions", {"backtest_id": backtest_id, "max_points": 50})
    assert len(small["position"]["values"]) == 50 == len(small["open_trades"]["t_ns"])

    # the open trade: in trade_count, not in metrics.trades; named counters with the daily limit's hits
    results = await harness.call("results", {"backtest_id": backtest_id})
    assert results["counters"] == expected.counters and expected.counters is not None
    assert set(results["counters"]) == {"crosses_above", "crosses_below", "entries", "daily_limit_hits"}
    assert results["counters"]["daily_limit_hits"] > 0
    assert results["counters"]["entries"] == len(table) and len(table) <= 2 * 25
    is_open = table[:, int(TradeColumn.EXIT_REASON)] == int(ExitReason.END_OF_DATA)
    assert results["open_trades"] == int(is_open.sum())
    assert results["trade_count"] - results["open_trades"] == results["metrics"]["trades"]

    # filters against the same table filtered by numpy; sorting pages by (key, seq)
    ref = {"backtest_id": backtest_id, "limit": 3}
    seq = np.arange(len(table))
    pnls = table[:, int(TradeColumn.PNL)]
    entry_ns = bars["time"][table[:, int(TradeColumn.ENTRY_INDEX)].astype(int)]
    lo, hi = entry_ns[2], entry_ns[-3]
    cases = [
        ({"side": "short"}, table[:, 0] < 0),
        ({"outcome": "winners"}, pnls > 0),
        ({"outcome": "losers", "side": "long"}, (pnls < 0) & (table[:, 0] > 0)),
        ({"exit_reason": "stop_loss"}, table[:, int(TradeColumn.EXIT_REASON)] == 1),
        ({"from_ns": int(lo), "to_ns": int(hi)}, (entry_ns >= lo) & (entry_ns <= hi)),
        ({"min_pnl": "-20", "max_pnl": "15.5"}, (pnls >= -20) & (pnls <= 15.5)),
    ]  # fmt: skip
    for filters, mask in cases:
        got = await pages(harness, "trades", ref | filters)
        assert [t["seq"] for t in got] == seq[mask].tolist(), filters
    by_pnl = await pages(harness, "trades", ref | {"sort_by": "pnl", "descending": True})
    assert [t["seq"] for t in by_pnl] == sorted(seq.tolist(), key=lambda i: (-pnls[i], -i))
    duration = table[:, 2] - table[:, 1]
    by_duration = await pages(harness, "trades", ref | {"sort_by": "duration_bars", "side": "long"})
    longs = [i for i in seq.tolist() if table[i, 0] > 0]
    assert [t["seq"] for t in by_duration] == sorted(longs, key=lambda i: (duration[i], i))
    assert {REASONS[int(r)] for r in table[:, int(TradeColumn.EXIT_REASON)]} >= {
        t["exit_reason"] for t in by_pnl
    }

    # bad filters name their field
    assert await refused(harness, "trades", ref | {"min_pnl": "10", "max_pnl": "5"}) == "max_pnl"
    assert await refused(harness, "trades", ref | {"from_ns": 10, "to_ns": 5}) == "from_ns"
    assert await refused(harness, "trades", ref | {"sort_by": "colour"}) == "sort_by"
    assert await refused(harness, "trades", ref | {"side": "up"}) == "side"
    assert await refused(harness, "trades", ref | {"sort_by": "pnl", "cursor": "12"}) == "cursor"
    assert await refused(harness, "daily_pnl", {"backtest_id": backtest_id, "cursor": "x"}) == "cursor"
    assert await refused(harness, "daily_pnl", {"backtest_id": backtest_id, "cursor": "9" * 30}) == "cursor"
    assert await refused(harness, "trades", ref | {"sort_by": "pnl", "cursor": "nan|3"}) == "cursor"
    assert await refused(harness, "trades", ref | {"cursor": "9" * 20}) == "cursor"


async def test_backtests_of_a_saved_strategy_are_listed_and_counted(harness: Any, start_market: Any) -> None:
    await start_market()

    def version(body: StrategyVersionRef) -> StrategyVersionInfo:
        return StrategyVersionInfo(strategy_id=body.strategy_id, version=body.version or 1,
                                   template="sma_cross", params={"fast": 5, "slow": 20},
                                   created_at=datetime.now(UTC))  # fmt: skip

    async with saved_versions(harness, version):
        await harness.start_service()
        saved = saved_body(harness)
        mine = [await harness.call("submit", saved | {"strategy_id": "s-1"}) for _ in range(3)]
        await harness.call("submit", saved | {"strategy_id": "s-2"})
        await harness.submit()
        listed = await harness.call("list", {"strategy_id": "s-1", "limit": 2})
        assert listed["total"] == 3 and len(listed["items"]) == 2
        rest = await harness.call("list", {"strategy_id": "s-1", "cursor": listed["next_cursor"]})
        ids = [item["backtest_id"] for item in listed["items"] + rest["items"]]
        assert ids == [reply["backtest_id"] for reply in reversed(mine)] and rest["total"] == 3
        assert all(item["strategy_id"] == "s-1" for item in listed["items"])
        assert (await harness.call("list", {}))["total"] == 5
        assert (await harness.call("list", {"strategy_id": "s-3"})) == {
            "items": [],
            "next_cursor": None,
            "total": 0,
        }
        await harness.settled()
