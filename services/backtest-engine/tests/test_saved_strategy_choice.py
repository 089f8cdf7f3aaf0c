"""A backtest names a built-in strategy or a saved one, exactly one, each with its own fields."""

from __future__ import annotations

from typing import Any

import pytest

from tradeloom.backtest_engine.saved_strategies import check_strategy_choice
from tradeloom.shared.contracts.backtest import SubmitBacktest
from tradeloom.shared.errors import ValidationFailed

DATA = {"dataset_id": "ds-1"}


def field_of(body: dict[str, Any]) -> str | None:
    try:
        check_strategy_choice(SubmitBacktest(**DATA, **body))
    except ValidationFailed as error:
        return str(error.details["fields"][0]["field"])
    return None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"strategy": "sma_cross", "params": {"fast": 3}}, None),
        ({"strategy_id": "s-1"}, None),
        ({"strategy_id": "s-1", "strategy_version": 2}, None),
        ({}, "strategy"),
        ({"strategy": "sma_cross", "strategy_id": "s-1"}, "strategy"),
        ({"strategy_id": "s-1", "params": {"fast": 3}}, "params"),
        ({"strategy": "sma_cross", "strategy_version": 2}, "strategy_version"),
    ],
)
def test_exactly_one_strategy_source(body: dict[str, Any], field: str | None) -> None:
    assert field_of(body) == field
