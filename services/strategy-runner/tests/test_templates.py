"""The pure template rules: known templates only, params validated with defaults, errors name the field."""

import pytest

from tradeloom.quant.strategies import BUILTIN_STRATEGIES, LOT_STRATEGIES
from tradeloom.strategy_runner.domain.templates import TemplateError, checked_params, known_templates


def test_templates_are_the_builtins_backtest_engine_runs() -> None:
    assert known_templates() == sorted(BUILTIN_STRATEGIES)
    for lot in LOT_STRATEGIES:  # multi-lot strategies are not runnable by backtest-engine's plan
        with pytest.raises(TemplateError) as caught:
            checked_params(lot, {})
        assert caught.value.field == "template"


def test_params_get_defaults_and_bad_ones_name_the_field() -> None:
    assert checked_params("sma_cross", {"fast": 5.0}) == {"fast": 5, "slow": 20, "allow_short": False}
    with pytest.raises(TemplateError) as caught:
        checked_params("nope", {})
    assert caught.value.field == "template" and "sma_cross" in caught.value.message
    for raw, field in (
        ({"fast": 0}, "params.fast"),
        ({"fast": 2.5}, "params.fast"),
        ({"allow_short": 1}, "params.allow_short"),
        ({"speed": 3}, "params.speed"),
    ):
        with pytest.raises(TemplateError) as caught:
            checked_params("sma_cross", raw)
        assert caught.value.field == field, raw
