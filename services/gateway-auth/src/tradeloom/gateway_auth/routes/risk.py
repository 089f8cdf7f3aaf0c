"""``/v1/risk``: positions, exposure, limits, alerts, the kill switch, VaR/CVaR and the risk score, each
route one ``svc.risk-monitor.<op>``.

Reads take scope ``read``; limit changes, alert acknowledgements and the emergency stop/resume take
``trade`` (a global stop or resume is refused with 403 unless the caller is an admin). Another
user's account answers 404, like an unknown one.
"""

from __future__ import annotations

from decimal import Decimal

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from tradeloom.gateway_auth.domain.scopes import Scope
from tradeloom.gateway_auth.routes.builder import add_forwarded
from tradeloom.gateway_auth.routes.params import ID_PATTERN, READ_ERRORS, WRITE_ERRORS, id_param
from tradeloom.gateway_auth.routes.table import Forward, Param
from tradeloom.shared.contracts.risk_monitor import (
    HH_MM,
    SERVICE,
    AlertInfo,
    AlertList,
    AlertListRequest,
    AlertRef,
    EodList,
    EodRequest,
    EquityInfo,
    EquityRequest,
    ExposureInfo,
    FlattenResultList,
    FlattensRequest,
    HaltInfo,
    HaltRequest,
    LimitChangeList,
    LimitChangesRequest,
    LimitsInfo,
    LimitsPut,
    LimitsRef,
    LimitsScope,
    PositionList,
    PositionsRequest,
)
from tradeloom.shared.contracts.risk_perps import (
    PERP_SYMBOL,
    MarginMode,
    PerpSettingsInfo,
    PerpSettingsList,
    PerpSettingsPut,
    PerpSettingsRequest,
    PositionMode,
)
from tradeloom.shared.contracts.risk_var import (
    MAX_LOOKBACK,
    MIN_LOOKBACK,
    RiskScoreReply,
    VarReply,
    VarRequest,
    VarTimeframe,
)
from tradeloom.shared.contracts.wire import Positive

router = APIRouter(prefix="/v1/risk", tags=["risk"])
READ, TRADE = Scope.READ, Scope.TRADE
ACCOUNT_ID = id_param("account_id", "an account id")
BOT_ID = id_param("bot_id", "a bot id")
VAR_QUERY = (
    Param("timeframe", VarTimeframe, Query(description="candles of the returns (one per bar)"), "1d"),
    Param("lookback", int, Query(ge=MIN_LOOKBACK, le=MAX_LOOKBACK, description="returns used"), 250),
)
ACCOUNT_FILTER = Param(
    "account_id",
    str | None,
    Query(min_length=1, max_length=64, pattern=ID_PATTERN, description="one account"),
    None,
)


class LimitsBody(BaseModel):
    """The whole set of limits (a field left out is no limit)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    max_order_notional: Positive | None = None
    max_position_notional: Positive | None = None
    max_open_orders: int | None = Field(default=None, ge=1, le=100_000)
    max_daily_loss: Positive | None = None
    max_gross_exposure: Positive | None = None
    max_orders_per_minute: int | None = Field(default=None, ge=1, le=100_000)
    max_leverage: Positive | None = None
    max_daily_loss_hard: Positive | None = None
    max_drawdown: Positive | None = None
    starting_balance: Positive | None = None
    alert_threshold_pct: Positive = Field(default=Decimal(80), le=100)
    day_boundary_tz: str = Field(default="UTC", min_length=1, max_length=64, examples=["America/Chicago"])
    day_boundary_time: str = Field(default="00:00", pattern=HH_MM, examples=["17:00"])


class AckBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    alert_id: str = Field(min_length=1, max_length=128)


class PerpSettingsBody(BaseModel):
    """Leverage (1..125), margin mode and position mode of one perpetual on the account."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    symbol: str = Field(max_length=64, pattern=PERP_SYMBOL, examples=["BTC/USDT:USDT"])
    leverage: Positive
    margin_mode: MarginMode = "cross"
    position_mode: PositionMode | None = Field(
        default=None,
        description="one_way or hedge, only while the symbol has no open position or order (422 "
        "`position_mode`); null: unchanged (one_way when first set)",
    )


ROUTES = (
    Forward(
        "GET", "/positions", READ, SERVICE, "positions_list", PositionsRequest, PositionList,
        name="list_positions", query=(ACCOUNT_FILTER,), errors=READ_ERRORS,
        summary="The caller's positions with realised and unrealised PnL",
    ),
    Forward(
        "GET", "/accounts/{account_id}/exposure", READ, SERVICE, "exposure", LimitsRef, ExposureInfo,
        name="get_exposure", path_params=(ACCOUNT_ID,), errors=READ_ERRORS,
        summary="Gross and net exposure, PnL and trading-day PnL of an account",
    ),
    Forward(
        "GET", "/accounts/{account_id}/equity", READ, SERVICE, "equity", EquityRequest, EquityInfo,
        name="get_equity", path_params=(ACCOUNT_ID,), errors=READ_ERRORS,
        query=(
            Param("valuation_asset", str, Query(min_length=1, max_length=16, pattern=r"^[A-Z0-9]+$",
                                                description="the asset balances are valued in"), "USDT"),
        ),
        summary="Balances on mark, equity and leverage of an account",
    ),
    Forward(
        "GET", "/accounts/{account_id}/eod-balances", READ, SERVICE, "eod_balances", EodRequest, EodList,
        name="list_eod_balances", path_params=(ACCOUNT_ID,), errors=READ_ERRORS,
        query=(Param("limit", int, Query(ge=1, le=200), 50),),
        summary="End-of-day balances, high-water mark and drawdown floor of an account, newest first",
    ),
    Forward(
        "GET", "/limit-changes", READ, SERVICE, "limit_changes", LimitChangesRequest, LimitChangeList,
        name="list_limit_changes", errors=READ_ERRORS,
        query=(ACCOUNT_FILTER, Param("limit", int, Query(ge=1, le=200), 50)),
        summary="Audit of the caller's limit changes (who, old, new, when), newest first",
    ),
    Forward(
        "GET", "/accounts/{account_id}/limits", READ, SERVICE, "limits_get", LimitsRef, LimitsInfo,
        name="get_account_limits", path_params=(ACCOUNT_ID,), errors=READ_ERRORS,
        summary="The limits of one account",
    ),
    Forward(
        "PUT", "/accounts/{account_id}/limits", TRADE, SERVICE, "limits_put", LimitsPut, LimitsInfo,
        name="put_account_limits", path_params=(ACCOUNT_ID,), body=LimitsBody, errors=WRITE_ERRORS,
        summary="Set the limits of one account",
    ),
    Forward(
        "DELETE", "/accounts/{account_id}/limits", TRADE, SERVICE, "limits_delete", LimitsRef, LimitsInfo,
        name="delete_account_limits", path_params=(ACCOUNT_ID,), errors=WRITE_ERRORS,
        summary="Remove the limits of one account",
    ),
    Forward(
        "GET", "/accounts/{account_id}/bots/{bot_id}/limits", READ, SERVICE, "limits_get", LimitsScope,
        LimitsInfo, name="get_bot_limits", path_params=(ACCOUNT_ID, BOT_ID), errors=READ_ERRORS,
        summary="The limits of one bot on an account",
    ),
    Forward(
        "PUT", "/accounts/{account_id}/bots/{bot_id}/limits", TRADE, SERVICE, "limits_put", LimitsPut,
        LimitsInfo, name="put_bot_limits", path_params=(ACCOUNT_ID, BOT_ID), body=LimitsBody,
        errors=WRITE_ERRORS, summary="Set the limits of one bot on an account (measured on its own orders)",
    ),
    Forward(
        "DELETE", "/accounts/{account_id}/bots/{bot_id}/limits", TRADE, SERVICE, "limits_delete", LimitsScope,
        LimitsInfo, name="delete_bot_limits", path_params=(ACCOUNT_ID, BOT_ID), errors=WRITE_ERRORS,
        summary="Remove the limits of one bot on an account",
    ),
    Forward(
        "GET", "/limits", READ, SERVICE, "limits_get", LimitsRef, LimitsInfo,
        name="get_user_limits", errors=READ_ERRORS, summary="The caller's limits for all their accounts",
    ),
    Forward(
        "PUT", "/limits", TRADE, SERVICE, "limits_put", LimitsPut, LimitsInfo,
        name="put_user_limits", body=LimitsBody, errors=WRITE_ERRORS,
        summary="Set the caller's limits for all their accounts",
    ),
    Forward(
        "GET", "/accounts/{account_id}/perp-settings", READ, SERVICE, "perp_settings_list",
        PerpSettingsRequest, PerpSettingsList, name="list_perp_settings", path_params=(ACCOUNT_ID,),
        errors=READ_ERRORS, summary="Leverage and margin mode of each perpetual set on an account",
    ),
    Forward(
        "PUT", "/accounts/{account_id}/perp-settings", TRADE, SERVICE, "perp_settings_put", PerpSettingsPut,
        PerpSettingsInfo, name="put_perp_settings", path_params=(ACCOUNT_ID,), body=PerpSettingsBody,
        errors=WRITE_ERRORS, summary="Set the leverage and margin mode of one perpetual on an account",
    ),
    Forward(
        "GET", "/alerts", READ, SERVICE, "alerts_list", AlertListRequest, AlertList,
        name="list_alerts", errors=READ_ERRORS,
        query=(
            ACCOUNT_FILTER,
            Param("unacknowledged_only", bool, Query(description="only alerts not yet acknowledged"), False),
            Param("limit", int, Query(ge=1, le=200), 50),
        ),
        summary="Limit alerts (approaching, breached), newest first",
    ),
    Forward(
        "POST", "/alerts/ack", TRADE, SERVICE, "alerts_ack", AlertRef, AlertInfo,
        name="ack_alert", body=AckBody, errors=WRITE_ERRORS, summary="Acknowledge an alert",
    ),
    Forward(
        "POST", "/emergency-stop", TRADE, SERVICE, "emergency_stop", HaltRequest, HaltInfo,
        name="emergency_stop", body=HaltRequest, errors=WRITE_ERRORS,
        summary="Halt trading: open orders cancelled, new ones refused until resumed",
        description="Scope `user` (default) halts the caller; `global` (admins only) halts everyone.",
    ),
    Forward(
        "GET", "/accounts/{account_id}/flattens", READ, SERVICE, "flattens_list", FlattensRequest,
        FlattenResultList, name="list_flattens", path_params=(ACCOUNT_ID,), errors=READ_ERRORS,
        query=(Param("limit", int, Query(ge=1, le=200), 50),),
        summary="How the account's flattens ended: close orders and what was left open (dust), newest first",
    ),
    Forward(
        "GET", "/accounts/{account_id}/var", READ, SERVICE, "var", VarRequest, VarReply,
        name="get_var", path_params=(ACCOUNT_ID,), query=VAR_QUERY, errors=READ_ERRORS,
        summary="Portfolio VaR and CVaR (historical, parametric; 95 % and 99 %) of an account",
        description="Positions at the marks, returns from market-data's candles; symbols with too "
        "short a history are named in `insufficient_history` and left out.",
    ),
    Forward(
        "GET", "/accounts/{account_id}/risk-score", READ, SERVICE, "risk_score", VarRequest,
        RiskScoreReply, name="get_risk_score", path_params=(ACCOUNT_ID,), query=VAR_QUERY,
        errors=READ_ERRORS, summary="Risk score 1..100 of an account with its weighted components",
    ),
    Forward(
        "POST", "/resume", TRADE, SERVICE, "resume", HaltRequest, HaltInfo,
        name="resume_trading", body=HaltRequest, errors=WRITE_ERRORS,
        summary="Lift a halt of the same scope",
    ),
)  # fmt: skip
add_forwarded(router, ROUTES)
