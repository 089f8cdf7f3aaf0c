"""Portfolio requests validated like single runs, each bad input naming its field (pure, no I/O)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from tradeloom.backtest_engine.domain.portfolio_plan import plan_portfolio
from tradeloom.backtest_engine.domain.run_plan import PlanError
from tradeloom.shared.contracts.backtest_portfolio import SubmitPortfolioBacktest

BASKET = [{"symbol": "AAA/USDT"}, {"symbol": "BBB/USDT"}, {"symbol": "CCC/USDT"}]


def body(**overrides: Any) -> SubmitPortfolioBacktest:
    values: dict[str, Any] = {
        "strategy": "sma_cross",
        "params": {"fast": 5, "slow": 20},
        "symbols": BASKET,
        "start": "2024-01-01T00:00:00Z",
        "end": "2024-02-01T00:00:00Z",
    }
    return SubmitPortfolioBacktest.model_validate(values | overrides)


def test_equal_weights_by_default_and_given_weights_kept() -> None:
    plan = plan_portfolio(body())
    assert plan.labels == ["AAA/USDT", "BBB/USDT", "CCC/USDT"] and plan.timeframe == "1h"
    assert np.allclose(plan.weights, 1 / 3) and [leg.symbol for leg in plan.legs] == plan.labels
    given = plan_portfolio(body(weights=["0.5", "0.3", "0.2"]))
    assert given.weights.tolist() == [0.5, 0.3, 0.2]


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"weights": ["0.5", "0.6", "0.1"]}, "weights", "at most 1"),
        ({"weights": ["0.5", "0.3"]}, "weights", "one weight per symbol"),
        ({"weights": ["0.5", "0", "0.2"]}, "weights", "> 0"),
        ({"weights": ["0.5", "-0.1", "0.2"]}, "weights", "> 0"),
        ({"symbols": [*BASKET, {"symbol": "AAA/USDT"}]}, "symbols", "each symbol once"),
        ({"symbols": [BASKET[0], {"venue": "sim"}]}, "symbols.1.symbol", "or a dataset_id"),
        ({"symbols": [BASKET[0], {"dataset_id": "d1", "symbol": "X/Y"}]}, "symbols.1.dataset_id", "not both"),
        ({"strategy": "moon_shot"}, "strategy", "unknown built-in"),
        ({"params": {"fast": 30, "slow": 20}}, "params.slow", "greater than fast"),
        ({"timeframe": "7m"}, "timeframe", "unknown timeframe"),
        ({"end": "2023-01-01T00:00:00Z"}, "end", "after start"),
    ],
)
def test_bad_baskets_name_the_field(overrides: dict[str, Any], field: str, words: str) -> None:
    with pytest.raises(PlanError) as caught:
        plan_portfolio(body(**overrides))
    assert caught.value.field == field and words in caught.value.message


def test_dataset_members_need_no_range() -> None:
    plan = plan_portfolio(body(symbols=[{"dataset_id": "d1"}, {"dataset_id": "d2"}], start=None, end=None))
    assert plan.labels == ["d1", "d2"] and plan.timeframe is None
    assert [leg.dataset_id for leg in plan.legs] == ["d1", "d2"]
