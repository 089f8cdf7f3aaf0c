"""risk-monitor's settings for linear perpetuals per account and symbol (``svc.risk-monitor.perp_*``).

A perpetual is named with its settle asset (``BTC/USDT:USDT``). Each account holds, per perpetual,
a leverage (1..125) and a margin mode (``cross``, the default, or ``isolated``); positions, equity
and the pre-trade check use them for margin used and free and the liquidation price estimate.
Error codes: ``validation_error`` 422 naming the field, ``not_found`` 404 (another user's account).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from tradeloom.shared.contracts.orders_common import Reply, Request
from tradeloom.shared.contracts.spec import RequestContract
from tradeloom.shared.contracts.wire import Positive

SERVICE = "risk-monitor"
MarginMode = Literal["isolated", "cross"]
PositionMode = Literal["one_way", "hedge"]
PERP_SYMBOL = r"^[A-Z0-9]+/[A-Z0-9]+:[A-Z0-9]+$"


class PerpSettingsRequest(Request):
    account_id: str = Field(min_length=1, max_length=64)


class PerpSettingsPut(Request):
    account_id: str = Field(min_length=1, max_length=64)
    symbol: str = Field(max_length=64, pattern=PERP_SYMBOL, examples=["BTC/USDT:USDT"])
    leverage: Positive = Field(description="1..125 (checked by the service: 422 `leverage`)")
    margin_mode: MarginMode = "cross"
    position_mode: PositionMode | None = Field(
        default=None,
        description="one_way (one signed position) or hedge (a long and a short side by side); only "
        "while the symbol has no open position or order (422 `position_mode`); null: unchanged "
        "(one_way when first set)",
    )


class PerpSettingsInfo(Reply):
    account_id: str
    symbol: str
    leverage: Positive
    margin_mode: MarginMode
    position_mode: PositionMode = "one_way"
    maintenance_margin_rate: Positive = Field(description="of the symbol (setting), else the default 0.005")
    updated_at: datetime | None = Field(default=None, description="null: never set (the defaults)")


class PerpSettingsList(Reply):
    items: list[PerpSettingsInfo] = Field(description="by symbol")


REQUESTS: tuple[RequestContract, ...] = (
    RequestContract(
        SERVICE, "perp_settings_list", PerpSettingsRequest, PerpSettingsList,
        "Leverage and margin mode of each perpetual the account has set.",
    ),
    RequestContract(
        SERVICE, "perp_settings_put", PerpSettingsPut, PerpSettingsInfo,
        "Set the leverage and margin mode of one perpetual on an account.",
    ),
)  # fmt: skip
