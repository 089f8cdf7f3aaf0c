"""The publisher's hand-written trade payload equals the pydantic model's JSON, and the consumer's
strict fast parse accepts only what ``TradesIngested`` accepts, with the same decimal values;
anything else goes through the model (accepted and normalised, or refused naming the field)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from tradeloom.market_data.domain.simulator import SimTrade
from tradeloom.market_data.sources.publisher import trades_event, trades_payload
from tradeloom.market_data.trade_batch import TradeColumns, _fast_columns, columns_from_payload
from tradeloom.shared.contracts.market_data import TradesIngested, TradeTick

decimals = st.decimals(allow_nan=False, allow_infinity=False, min_value=-(10**12), max_value=10**12).filter(
    lambda d: abs(d.adjusted()) < 1000
)  # longer exponents take the (slower, correct) model path
trade_strategy = st.builds(
    SimTrade,
    trade_id=st.text(min_size=1, max_size=64),
    ts_ns=st.integers(0, 2**63 - 1),
    price=decimals,
    amount=decimals,
    side=st.sampled_from(["buy", "sell"]),
)


def model_columns(payload: dict[str, Any]) -> TradeColumns:
    event = TradesIngested.model_validate(payload)
    return TradeColumns.from_trades(event.venue, event.symbol, event.trades)


def same_values(fast: TradeColumns, model: TradeColumns) -> None:
    assert (fast.venue, fast.symbol, fast.trade_ids, fast.ts_ns, fast.sides) == (
        model.venue,
        model.symbol,
        model.trade_ids,
        model.ts_ns,
        model.sides,
    )
    for ours, theirs in ((fast.prices, model.prices), (fast.amounts, model.amounts)):
        # equal value AND scale: Postgres numeric keeps the scale of the string it parses
        assert [Decimal(v).as_tuple() for v in ours] == [Decimal(v).as_tuple() for v in theirs]


@settings(max_examples=60, deadline=None)
@given(st.lists(trade_strategy, min_size=1, max_size=30))
def test_payload_equals_model_json_and_fast_parse_equals_model(trades: list[SimTrade]) -> None:
    payload = trades_payload("sim", "BTC/USDT", trades)
    assert payload == trades_event("sim", "BTC/USDT", trades).model_dump(mode="json")
    fast = _fast_columns(payload)
    assert fast is not None  # everything our publisher writes takes the fast path
    same_values(fast, model_columns(payload))


def good() -> dict[str, Any]:
    trade = {"trade_id": "1", "ts_ns": 5, "price": "65000.5", "amount": "1E-7", "side": "buy"}
    return {"venue": "sim", "symbol": "BTC/USDT", "trades": [trade]}


def with_trade(**changes: Any) -> dict[str, Any]:
    payload = good()
    payload["trades"][0].update(changes)
    return payload


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        (with_trade(price="NaN"), "price"),
        (with_trade(price="Infinity"), "price"),
        (with_trade(amount="-inf"), "amount"),
        (with_trade(price="abc"), "price"),
        (with_trade(price="1\n2"), "price"),
        (with_trade(price=None), "price"),
        (with_trade(ts_ns=-1), "ts_ns"),
        (with_trade(ts_ns="soon"), "ts_ns"),
        (with_trade(side="hold"), "side"),
        (with_trade(trade_id=""), "trade_id"),
        (with_trade(trade_id="x" * 65), "trade_id"),
        (with_trade(extra=1), "extra"),
        ({**good(), "trades": []}, "trades"),
        ({**good(), "trades": good()["trades"] * 5001}, "trades"),
        ({**good(), "other": 1}, "other"),
        ({"venue": "sim", "trades": good()["trades"]}, "symbol"),
    ],
)
def test_bad_payloads_are_refused_naming_the_field(payload: dict[str, Any], field: str) -> None:
    assert _fast_columns(payload) is None
    with pytest.raises(ValidationError) as refused:
        columns_from_payload(payload)
    assert any(field in map(str, error["loc"]) for error in refused.value.errors())


@pytest.mark.parametrize(
    "changes",
    [{"price": 1.5}, {"price": 7}, {"price": " 2.5 "}, {"amount": "1_000"}, {"ts_ns": 5.0}],
)
def test_what_the_fast_path_declines_the_model_decides(changes: dict[str, Any]) -> None:
    payload = with_trade(**changes)
    assert _fast_columns(payload) is None
    try:
        expected = model_columns(payload)
    except ValidationError:
        with pytest.raises(ValidationError):
            columns_from_payload(payload)
        return
    same_values(columns_from_payload(payload), expected)


def test_tradetick_and_simtrade_give_the_same_payload() -> None:
    tick = TradeTick(trade_id="a", ts_ns=1, price=Decimal("1.50"), amount=Decimal("2"), side="sell")
    sim = SimTrade("a", 1, Decimal("1.50"), Decimal("2"), "sell")
    assert trades_payload("v", "S/T", [tick]) == trades_payload("v", "S/T", [sim])


@pytest.mark.parametrize(
    "trade",
    [
        SimTrade("", 1, Decimal(1), Decimal(1), "buy"),
        SimTrade("a", -1, Decimal(1), Decimal(1), "buy"),
        SimTrade("a", 1, Decimal("NaN"), Decimal(1), "buy"),
        SimTrade("a", 1, Decimal(1), Decimal("Infinity"), "buy"),
        SimTrade("a", 1, Decimal(1), Decimal(1), "hold"),
    ],
)
def test_publisher_refuses_bad_trades_at_the_edge(trade: SimTrade) -> None:
    with pytest.raises(ValueError):
        trades_payload("sim", "BTC/USDT", [trade])
