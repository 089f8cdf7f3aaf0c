"""Portfolio backtests through the service (real NATS and Postgres): a 3-symbol basket submitted
with weights, run as a job, and the stored trades, equity and metrics equal
``tradeloom.quant.portfolio.run_portfolio`` called directly on the same candles."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from typing import Any

import numpy as np
import pytest
from fake_candles import packed_page

from tradeloom.quant.portfolio import SymbolBars, run_portfolio
from tradeloom.quant.portfolio.kernel import (
    ENTRY_BAR,
    ENTRY_PRICE,
    EXIT_BAR,
    EXIT_PRICE,
    PNL,
    SIZE,
    SYMBOL,
)
from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.market_data_columns import CandleColumnsRequest
from tradeloom.shared.contracts.market_data_packed import CandlesPackedHeader
from tradeloom.shared.errors import NotFound
from tradeloom.shared.rpc import Operation, RawReply, RemoteError, serve

SYMBOLS = ("AAA/USDT", "BBB/USDT", "CCC/USDT")
WEIGHTS = ["0.5", "0.3", "0.2"]
PARAMS = {"fast": 5, "slow": 20}


class BasketMarket:
    """``svc.market-data.candles_packed`` for several symbols (one page per request, cursors)."""

    def __init__(self, bars: dict[str, dict[str, np.ndarray]]) -> None:
        self.bars = bars

    async def columns(self, _: CallerContext, body: CandleColumnsRequest) -> RawReply:
        bars = self.bars.get(body.symbol)
        if bars is None:
            raise NotFound(f"unknown symbol {body.symbol}", details={"symbol": body.symbol})
        return packed_page(bars, body)


@pytest.fixture
async def basket(harness: Any, make_walk: Any) -> AsyncIterator[dict[str, dict[str, np.ndarray]]]:
    """Three hourly walks; the third misses 30 bars (aligned as NaN closes: skipped there)."""
    bars = {s: make_walk(600, seed=21 + i) for i, s in enumerate(SYMBOLS)}
    keep = np.ones(600, dtype=bool)
    keep[200:230] = False
    bars[SYMBOLS[2]] = {k: v[keep] for k, v in bars[SYMBOLS[2]].items()}
    market = BasketMarket(bars)
    op = Operation("candles_packed", CandleColumnsRequest, CandlesPackedHeader, market.columns)
    service = await serve(harness.nc, service="market-data", version="0.0.0", subjects=harness.subjects,
                          operations=[op])  # fmt: skip
    try:
        yield bars
    finally:
        await service.stop()


def request(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "strategy": "sma_cross",
        "params": PARAMS,
        "symbols": [{"symbol": s, "venue": "sim"} for s in SYMBOLS],
        "weights": WEIGHTS,
        "timeframe": "1h",
        "start": "2024-01-01T00:00:00Z",
        "end": "2024-02-01T00:00:00Z",
        "initial_cash": "10000",
        "fee": "0.001",
    }
    return body | overrides


async def all_trades(harness: Any, backtest_id: str, user: str = "alice") -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = await harness.call("trades", {"backtest_id": backtest_id, "limit": 10, "cursor": cursor}, user)
        records += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return records


def close(stored: float | None, expected: float) -> bool:
    if stored is None:
        return not math.isfinite(expected)
    return math.isclose(stored, expected, rel_tol=1e-9, abs_tol=1e-12)


async def test_basket_through_the_service_equals_quant_portfolio(harness: Any, basket: Any) -> None:
    await harness.start_service()
    for bad, field in (({"weights": ["0.5", "0.6", "0.1"]}, "weights"), ({"weights": ["1"]}, "weights"),
                       ({"symbols": [{"venue": "sim"}]}, "symbols.0.symbol")):  # fmt: skip
        with pytest.raises(RemoteError) as caught:
            await harness.call("submit_portfolio", request(**bad))
        assert caught.value.code == "validation_error"
        assert [f["field"] for f in caught.value.details["fields"]] == [field]

    reply = await harness.call("submit_portfolio", request())
    backtest_id = reply["backtest_id"]
    await harness.events.wait_for(backtest_id, "completed", timeout_s=60)
    phases = [e.data["phase"] for e in harness.events.of(backtest_id, "progress")]
    assert phases[0] == "fetching" and "simulating" in phases and phases[-1] == "storing"
    status = await harness.call("status", {"backtest_id": backtest_id})
    assert (
        status["kind"] == "portfolio"
        and status["status"] == "completed"
        and status["strategy"] == "sma_cross"
    )
    listed = await harness.call("list", {"kind": "portfolio"})
    assert [item["backtest_id"] for item in listed["items"]] == [backtest_id]

    results = await harness.call("results", {"backtest_id": backtest_id})
    members = [
        SymbolBars(s, b["time"], b["open"], b["high"], b["low"], b["close"]) for s, b in basket.items()
    ]
    ppy = results["annualisation"]["periods_per_year"]
    direct = run_portfolio("sma_cross", PARAMS, members, weights=[float(w) for w in WEIGHTS],
                           initial_cash=10_000.0, fee=0.001, periods_per_year=ppy)  # fmt: skip
    assert results["bar_count"] == direct.time.size == 600
    assert ppy == pytest.approx(365 * 24)
    assert float(results["final_equity"]) == pytest.approx(float(direct.equity[-1]), rel=1e-12)
    assert results["trade_count"] == direct.trades.shape[0] > 10
    for name, expected in direct.metrics.items():
        assert close(results["metrics"][name], expected), name
    portfolio = results["portfolio"]
    assert [m["symbol"] for m in portfolio["symbols"]] == list(SYMBOLS)
    assert [m["weight"] for m in portfolio["symbols"]] == [0.5, 0.3, 0.2]
    assert portfolio["symbols"][0]["allocation"] == "5000.0"
    assert portfolio["open_trades"] == int((direct.trades[:, EXIT_BAR] < 0).sum())
    for member in portfolio["symbols"]:
        for name, expected in direct.symbol_metrics[member["symbol"]].items():
            assert close(member["metrics"][name], expected), (member["symbol"], name)

    trades = await all_trades(harness, backtest_id)
    assert len(trades) == direct.trades.shape[0]
    for record, row in zip(trades, direct.trades, strict=True):
        assert record["symbol"] == SYMBOLS[int(row[SYMBOL])]
        assert record["entry_index"] == int(row[ENTRY_BAR])
        assert record["entry_ns"] == int(direct.time[int(row[ENTRY_BAR])])
        exit_bar = int(row[EXIT_BAR])
        assert record["exit_reason"] == ("signal" if exit_bar >= 0 else "end_of_data")
        assert record["exit_index"] == (exit_bar if exit_bar >= 0 else 599)
        for field, column in (("size", SIZE), ("entry_price", ENTRY_PRICE), ("exit_price", EXIT_PRICE),
                              ("pnl", PNL)):  # fmt: skip
            assert float(record[field]) == pytest.approx(float(row[column]), rel=1e-12), field
        assert record["mae"] <= 0 <= record["mfe"]

    curves = await harness.call("equity", {"backtest_id": backtest_id, "max_points": 2000})
    assert curves["total_points"] == 600 and curves["equity"]["t_ns"] == direct.time.tolist()
    assert np.allclose(curves["equity"]["values"], direct.equity, rtol=1e-12)
    daily = await harness.call("daily_pnl", {"backtest_id": backtest_id})
    assert sum(float(d["pnl"]) for d in daily["items"]) == pytest.approx(direct.equity[-1] - 10_000.0)

    with pytest.raises(RemoteError) as no_positions:  # no single position series for a basket
        await harness.call("positions", {"backtest_id": backtest_id})
    assert no_positions.value.code == "conflict"

    with pytest.raises(RemoteError) as other:  # ownership: another user's run does not exist for them
        await harness.call("results", {"backtest_id": backtest_id}, user="bob")
    assert other.value.code == "not_found"
