"""Hedge position mode's contract fields are optional with defaults that keep the old meaning: a
message written before them reads as one-way mode, and the new values are checked."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from tradeloom.shared.contracts.orders import FillInfo, OrderSubmit
from tradeloom.shared.contracts.orders_perps import FundingPaid
from tradeloom.shared.contracts.risk import RiskCheckRequest
from tradeloom.shared.contracts.risk_monitor import PositionInfo
from tradeloom.shared.contracts.risk_perps import PerpSettingsInfo, PerpSettingsPut

ORDER: dict[str, Any] = {"account_id": "a1", "symbol": "BTC/USDT:USDT", "side": "buy", "type": "market",
                         "quantity": "1"}  # fmt: skip
SETTING: dict[str, Any] = {"account_id": "a1", "symbol": "BTC/USDT:USDT", "leverage": "10"}


def test_old_messages_read_as_one_way_mode() -> None:
    assert OrderSubmit.model_validate(ORDER).position_side is None
    assert PerpSettingsPut.model_validate(SETTING).position_mode is None  # unchanged on put
    info = PerpSettingsInfo.model_validate(
        SETTING | {"margin_mode": "cross", "maintenance_margin_rate": "0.005"}
    )
    assert info.position_mode == "one_way"
    fill = {"fill_id": "f", "order_id": "o", "account_id": "a1", "venue": "sim", "venue_fill_id": "v",
            "symbol": "BTC/USDT:USDT", "side": "buy", "price": "100", "quantity": "1", "fee": "0",
            "fee_asset": "USDT", "liquidity": "taker", "trade_id": "t",
            "filled_at": "2026-12-06T00:00:00Z"}  # fmt: skip
    assert FillInfo.model_validate(fill).position_side is None
    position = {"account_id": "a1", "symbol": "BTC/USDT:USDT", "quantity": "1", "average_entry": "100",
                "realised_pnl": "0", "fees": "0", "updated_at": "2026-12-06T00:00:00Z"}  # fmt: skip
    assert PositionInfo.model_validate(position).position_side is None
    check = {"user_id": "u", "account_id": "a1", "order_id": "o", "client_order_id": "c", "venue": "sim",
             "symbol": "BTC/USDT:USDT", "side": "buy", "type": "market", "quantity": "1",
             "notional": "100"}  # fmt: skip
    assert RiskCheckRequest.model_validate(check).position_side is None


def test_new_values_are_checked() -> None:
    assert OrderSubmit.model_validate(ORDER | {"position_side": "short"}).position_side == "short"
    assert PerpSettingsPut.model_validate(SETTING | {"position_mode": "hedge"}).position_mode == "hedge"
    with pytest.raises(ValidationError, match="position_side"):
        OrderSubmit.model_validate(ORDER | {"position_side": "both"})
    with pytest.raises(ValidationError, match="position_mode"):
        PerpSettingsPut.model_validate(SETTING | {"position_mode": "dual"})
    funding = FundingPaid(user_id="u", account_id="a1", venue="sim", symbol="BTC/USDT:USDT",
                          settle_asset="USDT", funding_time_ns=1, quantity=Decimal(-1),
                          contract_size=Decimal(1),
                          mark_price=Decimal(100), rate=Decimal("0.0001"), amount=Decimal("0.01"),
                          position_side="short")  # fmt: skip
    assert funding.model_dump(mode="json")["position_side"] == "short"
