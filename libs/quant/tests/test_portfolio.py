"""Portfolio backtests (``tradeloom.quant.portfolio``): the Numba kernel equals its plain-Python
reference (random signals, partial fills when cash runs short, NaN closes), and equals vectorbt's
grouped portfolio with shared cash trade for trade; basket validation names the field."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import vectorbt as vbt  # installed by make install: a broken import must fail, not skip

from tradeloom.quant.portfolio import (
    BasketError,
    SymbolBars,
    basket_weights,
    run_portfolio,
    simulate_portfolio,
)
from tradeloom.quant.portfolio.kernel import ENTRY_BAR, ENTRY_PRICE, EXIT_BAR, EXIT_PRICE, PNL, SIZE, SYMBOL
from tradeloom.quant.reference.portfolio import simulate_portfolio as reference

CASH = 10_000.0


def basket(bars: int, symbols: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, (bars, symbols)), axis=0))
    return close, rng.random((bars, symbols)) < 0.08, rng.random((bars, symbols)) < 0.08


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_kernel_equals_the_plain_reference(seed: int) -> None:
    close, entries, exits = basket(400, 5, seed)
    close[10:20, 2] = np.nan  # a symbol without bars for a while
    allocation = np.array([0.3, 0.3, 0.2, 0.25, 0.3]) * CASH  # over-allocated: partial fills happen
    got = simulate_portfolio(close, entries, exits, allocation, CASH, 0.001)
    want = reference(close, entries, exits, allocation, CASH, 0.001)
    for a, b in zip(got, want, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-9)
    assert got[3].shape[0] > 20 and np.any(got[1] < 1.0)  # many trades, cash ran out at times


@pytest.mark.parametrize("fee", [0.0, 0.001])
def test_equals_vectorbt_grouped_portfolio_with_shared_cash(fee: float) -> None:
    close, entries, exits = basket(500, 4, 11)
    weights = np.array([0.4, 0.3, 0.2, 0.1])
    equity, _, _, trades = simulate_portfolio(close, entries, exits, weights * CASH * 1.5, CASH, fee)
    index = pd.date_range("2024-01-01", periods=close.shape[0], freq="D")
    frame = lambda values: pd.DataFrame(values, index=index, columns=list("abcd"))  # noqa: E731
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pf = vbt.Portfolio.from_signals(
            frame(close), frame(entries), frame(exits), size=weights * CASH * 1.5, size_type="value",
            direction="longonly", fees=fee, init_cash=CASH, group_by=True, cash_sharing=True,
            call_seq="default", freq="D",
        )  # fmt: skip
        records = pf.trades.records
    np.testing.assert_allclose(equity, pf.value().to_numpy(), rtol=1e-9)
    theirs = np.column_stack([
        records["col"], records["entry_idx"], np.where(records["status"] == 1, records["exit_idx"], -1),
        records["size"], records["entry_price"], records["exit_price"], records["pnl"],
    ])  # fmt: skip
    ours = trades[:, [SYMBOL, ENTRY_BAR, EXIT_BAR, SIZE, ENTRY_PRICE, EXIT_PRICE, PNL]]
    ours = ours[np.lexsort((ours[:, 1], ours[:, 0]))]
    theirs = theirs[np.lexsort((theirs[:, 1], theirs[:, 0]))]
    assert ours.shape == theirs.shape and ours.shape[0] > 30
    np.testing.assert_array_equal(ours[:, :3], theirs[:, :3])
    np.testing.assert_allclose(ours[:, 3:], theirs[:, 3:], rtol=1e-9)


def test_run_portfolio_applies_a_builtin_to_a_basket() -> None:
    close, _, _ = basket(600, 3, 5)
    time = np.arange(600, dtype=np.int64) * 86_400 * 10**9
    bars = [SymbolBars(s, time, *([close[:, j]] * 4)) for j, s in enumerate("xyz")]
    result = run_portfolio("sma_cross", {"fast": 5, "slow": 20}, bars, weights=None, initial_cash=CASH,
                           fee=0.001, periods_per_year=365.0)  # fmt: skip
    assert result.weights.tolist() == pytest.approx([1 / 3] * 3)
    assert result.metrics["total_return"] == pytest.approx(result.equity[-1] / CASH - 1)
    closed = result.trades[result.trades[:, EXIT_BAR] >= 0]
    assert sum(m["trades"] for m in result.symbol_metrics.values()) == closed.shape[0]
    assert sum(m["pnl"] for m in result.symbol_metrics.values()) == pytest.approx(result.equity[-1] - CASH)


@pytest.mark.parametrize(
    ("symbols", "weights", "field"),
    [
        ([], None, "symbols"),
        (["a", "a"], None, "symbols"),
        (["a", "b"], [0.5], "weights"),
        (["a", "b"], [0.5, 0.0], "weights"),
        (["a", "b"], [0.7, 0.4], "weights"),
    ],
)
def test_bad_baskets_name_the_field(symbols: list[str], weights: list[float] | None, field: str) -> None:
    with pytest.raises(BasketError) as caught:
        basket_weights(symbols, weights)
    assert caught.value.field == field
