"""Bad inputs get a clear error naming the field (nothing queued); another user's run is not_found."""

from __future__ import annotations

from typing import Any

import pytest

from tradeloom.shared.rpc import RemoteError


async def refused(harness: Any, body: dict[str, Any], user: str | None = "alice") -> RemoteError:
    with pytest.raises(RemoteError) as caught:
        await harness.call("submit", body, user=user)
    return caught.value


def fields(error: RemoteError) -> list[str]:
    return [item["field"] for item in error.details.get("fields", [])]


BAD_SUBMITS: list[tuple[dict[str, Any], str, str]] = [
    ({"strategy": "moon_shot"}, "strategy", "unknown built-in strategy"),
    ({"params": {"fast": 0}}, "params.fast", "at least 1"),
    ({"params": {"fast": 30, "slow": 20}}, "params.slow", "greater than fast"),
    ({"params": {"fast": 5, "window": 3}}, "params.window", "unknown parameter"),
    ({"params": {"fast": "5"}}, "params.fast", ""),
    ({"start": "2024-02-01T00:00:00Z", "end": "2024-01-01T00:00:00Z"}, "end", "after start"),
    ({"start": "2024-01-01T00:00:00"}, "start", "timezone"),
    ({"initial_cash": "-5"}, "initial_cash", "greater than 0"),
    ({"initial_cash": "NaN"}, "initial_cash", ""),
    ({"timeframe": "7m"}, "timeframe", "unknown timeframe"),
    ({"costs": {"commission_model": "tiered"}}, "costs.tiers", "at least one tier"),
    ({"costs": {"taker_rate": "1.5"}}, "costs.taker_rate", ""),
    ({"stop_loss": "1.5"}, "stop_loss", "fraction"),
    ({"fill": "whenever"}, "fill", ""),
    ({"colour": "blue"}, "colour", "Extra inputs"),
    ({"dataset_id": "0190f0a0"}, "dataset_id", "not both"),
    ({"symbol": None}, "symbol", "or a dataset_id"),
    ({"start": None}, "start", "required for market candles"),
    # optimisation spaces, validated against the strategy's schema
    ({"optimise": {"space": {"window": {"values": [3]}}}}, "optimise.space.window", "unknown parameter"),
    (
        {"optimise": {"space": {"fast": {"min": 0, "max": 9, "step": 1}}}},
        "optimise.space.fast.min",
        "at least 1",
    ),
    (
        {"optimise": {"space": {"fast": {"min": 9, "max": 5, "step": 1}}}},
        "optimise.space.fast.max",
        "at least min",
    ),
    ({"optimise": {"space": {"fast": {"min": 5, "max": 9}}}}, "optimise.space.fast.step", "needs a step"),
    (
        {"optimise": {"space": {"fast": {"min": 5, "max": 9, "step": 0.5}}}},
        "optimise.space.fast.step",
        "whole",
    ),
    ({"optimise": {"space": {"fast": {"min": 5, "max": 9, "step": 0}}}}, "optimise.space.fast.step", ""),
    ({"optimise": {"space": {"fast": {"values": [2.5]}}}}, "optimise.space.fast.values", "whole number"),
    (
        {"optimise": {"space": {"allow_short": {"min": 0, "max": 1, "step": 1}}}},
        "optimise.space.allow_short.min",
        "boolean",
    ),
    (
        {
            "optimise": {
                "space": {
                    "fast": {"min": 1, "max": 500, "step": 1},
                    "slow": {"min": 2, "max": 500, "step": 1},
                }
            }
        },
        "optimise.space",
        "combinations; at most 10000",
    ),
    (
        {"optimise": {"method": "random", "space": {"fast": {"min": 2, "max": 9}}}},
        "optimise.count",
        "needs count",
    ),
    (
        {"optimise": {"method": "random", "count": 10_001, "space": {"fast": {"min": 2, "max": 9}}}},
        "optimise.count",
        "less than or equal to 10000",  # the contract's MAX_COMBINATIONS, as the OpenAPI says
    ),
    ({"optimise": {"space": {"fast": {"values": [5]}}, "metric": "luck"}}, "optimise.metric", ""),
    ({"strategy": "dca", "params": {}, "optimise": {"space": {"interval": {"values": [5]}}}}, "strategy", ""),
    (
        {
            "optimise": {
                "space": {"fast": {"values": [5]}},
                "walk_forward": {"in_sample_bars": 1, "out_of_sample_bars": 5},
            }
        },
        "optimise.walk_forward.in_sample_bars",
        "",
    ),
]


async def test_bad_submit_is_refused_naming_the_field(harness: Any) -> None:
    """One service for every case (each case is a separate request; nothing may be queued)."""
    await harness.start_service()
    for overrides, field, words in BAD_SUBMITS:
        error = await refused(harness, harness.body(**overrides))
        assert error.code == "validation_error", overrides
        assert field in fields(error), (overrides, fields(error), error.message)
        assert words in error.message + str(error.details), overrides
    assert (await harness.call("list", {}))["items"] == []


async def test_submit_without_a_user_is_unauthorized(harness: Any) -> None:
    await harness.start_service()
    error = await refused(harness, harness.body(), user=None)
    assert error.code == "unauthorized"


async def test_unknown_symbol_is_recorded_as_a_failed_run(harness: Any, market: Any) -> None:
    await harness.start_service()
    backtest_id = await harness.submit(symbol="NOPE/USDT")
    failed = await harness.events.wait_for(backtest_id, "failed")
    assert failed.data["error_code"] == "market_data_not_found"
    assert "NOPE/USDT" in failed.data["error"]
    status = await harness.call("status", {"backtest_id": backtest_id})
    assert status["status"] == "failed" and status["error_code"] == "market_data_not_found"
    with pytest.raises(RemoteError) as caught:
        await harness.call("results", {"backtest_id": backtest_id})
    assert caught.value.code == "conflict"


async def test_range_without_candles_fails_with_no_data(harness: Any, market: Any) -> None:
    await harness.start_service()
    backtest_id = await harness.submit(start="2020-01-01T00:00:00Z", end="2020-02-01T00:00:00Z")
    failed = await harness.events.wait_for(backtest_id, "failed")
    assert failed.data["error_code"] == "no_data"


async def test_another_users_backtest_is_not_found(harness: Any, market: Any) -> None:
    await harness.start_service()
    backtest_id = await harness.submit(user="alice")
    await harness.events.wait_for(backtest_id, "completed")
    for op, body in [
        ("status", {"backtest_id": backtest_id}),
        ("results", {"backtest_id": backtest_id}),
        ("trades", {"backtest_id": backtest_id}),
        ("equity", {"backtest_id": backtest_id}),
        ("export", {"backtest_id": backtest_id}),
        ("cancel", {"backtest_id": backtest_id}),
        ("delete", {"backtest_id": backtest_id}),
        ("compare", {"backtest_ids": [backtest_id]}),
        ("optimisation", {"backtest_id": backtest_id}),
        ("optimisation_rows", {"backtest_id": backtest_id}),
        ("optimisation_heatmap", {"backtest_id": backtest_id, "x": "fast", "y": "slow"}),
    ]:
        with pytest.raises(RemoteError) as caught:
            await harness.call(op, body, user="mallory")
        assert caught.value.code == "not_found", op
    assert (await harness.call("list", {}, user="mallory"))["items"] == []
    assert (await harness.call("status", {"backtest_id": backtest_id}))["status"] == "completed"


async def test_bad_trades_cursor_is_refused(harness: Any, market: Any) -> None:
    await harness.start_service()
    backtest_id = await harness.submit()
    await harness.events.wait_for(backtest_id, "completed")
    with pytest.raises(RemoteError) as caught:
        await harness.call("trades", {"backtest_id": backtest_id, "cursor": "abc"})
    assert caught.value.code == "validation_error" and "cursor" in caught.value.message
