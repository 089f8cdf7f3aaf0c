"""The submit request becomes the simulator's config and costs (units, models, fractions, errors)."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

import pytest

from tradeloom.backtest_engine.domain.run_plan import PlanError, plan_run, to_ns
from tradeloom.quant.fills import CommissionModel, SizingMode, SlippageModel
from tradeloom.shared.contracts.backtest import SubmitBacktest


def request(**overrides: Any) -> SubmitBacktest:
    body: dict[str, Any] = {
        "strategy": "rsi_reversion",
        "symbol": "ETH/USDT",
        "timeframe": "15m",
        "start": "2024-01-01T00:00:00Z",
        "end": "2024-01-02T00:00:00+01:00",
    }
    return SubmitBacktest.model_validate(body | overrides)


def test_defaults_fill_the_strategy_schema_and_annualise_once_the_bars_are_known() -> None:
    plan = plan_run(request())
    assert plan.params == {
        "window": 14,
        "oversold": 30.0,
        "overbought": 70.0,
        "exit_level": 50.0,
        "allow_short": False,
    }
    assert math.isnan(plan.periods_per_year) and plan.annualisation is None  # set by with_bars
    assert plan.start_ns == 1_704_067_200 * 10**9
    assert plan.end_ns == plan.start_ns + 23 * 3600 * 10**9  # +01:00 converted to UTC
    assert plan.config.initial_cash == 10_000.0 and not plan.config.fill_on_close
    assert math.isnan(plan.config.stop_loss)


def test_costs_sizing_and_exits_map_onto_the_quant_models() -> None:
    plan = plan_run(
        request(
            costs={
                "commission_model": "tiered",
                "tiers": [
                    {"from_notional": "100000", "maker_rate": "0.0004", "taker_rate": "0.0006"},
                    {"from_notional": "0", "maker_rate": "0.0008", "taker_rate": "0.001"},
                ],
                "slippage_model": "volume_share",
                "slippage": "0.1",
                "volume_cap": "0.05",
            },
            sizing={"mode": "fixed_cash", "value": "2500", "whole_units": True},
            fill="close",
            stop_loss="0.05",
            take_profit="2",
        )
    )
    costs, config = plan.costs, plan.config
    assert costs.commission_model == CommissionModel.TIERED
    assert costs.tier_thresholds.tolist() == [0.0, 100_000.0]  # sorted by threshold
    assert costs.tier_taker_rates.tolist() == [0.001, 0.0006]
    assert costs.slippage_model == SlippageModel.VOLUME_SHARE and costs.volume_cap == 0.05
    assert config.sizing_mode == SizingMode.FIXED_CASH and config.sizing_value == 2500.0
    assert config.whole_units and config.fill_on_close
    assert config.stop_loss == 0.05 and config.take_profit == 2.0


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"params": {"oversold": 60}}, "params.exit_level"),
        ({"params": {"window": 2.5}}, "params.window"),
        ({"params": {"window": float("nan")}}, "params.window"),
        ({"end": "2024-01-01T00:00:00Z"}, "end"),
        ({"trailing_stop": "1"}, "trailing_stop"),
        ({"sizing": {"mode": "percent_equity", "value": "2"}}, "sizing.value"),
        ({"costs": {"commission_model": "tiered", "tiers": [{"from_notional": "5"}]}}, "costs.tiers"),
        ({"costs": {"slippage_model": "random", "slippage": "1"}}, "costs.slippage"),
        ({"max_entries_per_day": 0}, "max_entries_per_day"),
        (
            {"max_entries_per_day": 2, "optimise": {"space": {"window": {"values": [5, 9]}}}},
            "max_entries_per_day",
        ),
        ({"costs": {"slippage_model": "random", "slippage_seed": -1}}, "costs.slippage_seed"),
    ],
)
def test_plan_errors_name_the_field(overrides: dict[str, Any], field: str) -> None:
    try:
        body = request(**overrides)
    except Exception as error:  # refused by the contract model already
        assert field.split(".", maxsplit=1)[0] in str(error)
        return
    with pytest.raises(PlanError) as caught:
        plan_run(body)
    assert caught.value.field == field


def test_daily_entry_limit_maps_onto_the_simulator_config() -> None:
    assert plan_run(request(max_entries_per_day=3)).config.max_entries_per_day == 3
    assert plan_run(request()).config.max_entries_per_day == 0  # no limit


def test_random_slippage_maps_with_its_seed() -> None:
    costs = plan_run(
        request(costs={"slippage_model": "random", "slippage": "0.002", "slippage_seed": 42})
    ).costs
    assert (
        costs.slippage_model == SlippageModel.RANDOM and costs.slippage == 0.002 and costs.slippage_seed == 42
    )


def test_to_ns_is_exact_to_the_microsecond() -> None:
    moment = datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)
    assert to_ns(moment) == 1_714_979_289_123_456_000
