"""risk-monitor settings: environment variables prefixed ``TL_RISK_MONITOR_``."""

from decimal import Decimal
from typing import Annotated, ClassVar

from pydantic import BaseModel, Field, field_validator
from pydantic_settings import SettingsConfigDict

from tradeloom.quant.margin import Bracket, Brackets, check_brackets
from tradeloom.shared.settings import ServiceSettings


class BracketSetting(BaseModel):
    """One maintenance-margin tier (``tradeloom.quant.margin.Bracket``); ``notional_cap`` null: the last."""

    notional_cap: Annotated[Decimal, Field(gt=0)] | None = None
    rate: Annotated[Decimal, Field(ge=0, lt=1)]
    amount: Annotated[Decimal, Field(ge=0)] = Decimal(0)


class RiskMonitorSettings(ServiceSettings):
    """Built once at start by ``app.main`` and passed down."""

    model_config = SettingsConfigDict(env_prefix="TL_RISK_MONITOR_", extra="ignore", case_sensitive=False)
    service_name: ClassVar[str] = "risk-monitor"

    health_port: int = 9104
    cache_refresh_s: float = Field(default=1.0, gt=0, le=60)
    # the check's accounts and marks in memory are read again in the background this often
    check_state_refresh_s: float = Field(default=10.0, gt=0, le=600)
    mark_interval_s: float = Field(default=1.0, gt=0, le=60)
    # the marks consumer waits this long after a trade message for more to share its transaction
    marks_gather_s: float = Field(default=0.2, ge=0, le=5)
    pending_order_ttl_s: float = Field(default=10.0, gt=0, le=600)
    order_router_timeout_s: float = Field(default=2.0, gt=0, le=30)
    market_data_timeout_s: float = Field(default=0.5, gt=0, le=30)  # option quotes (option entries)
    candles_timeout_s: float = Field(default=5.0, gt=0, le=60)  # market-data candles (VaR/CVaR, score)
    # option quotes kept for the Greeks check and alerts (``option_book.py``): refreshed every
    # ``option_quotes_refresh_s``; older than ``option_quotes_max_age_s`` they are stale (entries refused)
    option_quotes_refresh_s: float = Field(default=1.0, gt=0, le=60)
    option_quotes_max_age_s: float = Field(default=5.0, gt=0, le=600)
    eod_interval_s: float = Field(default=60.0, gt=0, le=3600)
    # perpetuals (``BTC/USDT:USDT``): base units per contract (market-data's ``multiplier``; 1 when
    # absent) and maintenance-margin rates (0.005 when absent), JSON objects by symbol
    perp_contract_sizes: dict[str, Annotated[Decimal, Field(gt=0)]] = Field(default_factory=dict)
    perp_maintenance_margin_rates: dict[str, Annotated[Decimal, Field(gt=0, lt=1)]] = Field(
        default_factory=dict
    )
    # tiered maintenance margin by perpetual (JSON ``{"BTC/USDT:USDT": [{"notional_cap": "50000",
    # "rate": "0.005", "amount": "0"}, …]}``); beats the flat rate; else quant's DEFAULT_BRACKETS
    perp_maintenance_brackets: dict[str, list[BracketSetting]] = Field(default_factory=dict)
    # an alert (warning) when a margin pool's maintenance / equity reaches this; critical at 1
    margin_alert_ratio: Decimal = Field(default=Decimal("0.8"), gt=0, lt=1)

    @field_validator("perp_maintenance_brackets")
    @classmethod
    def _valid_tables(cls, value: dict[str, list[BracketSetting]]) -> dict[str, list[BracketSetting]]:
        for symbol, table in value.items():
            error = check_brackets(brackets_of(table))
            if error is not None:
                raise ValueError(f"perp_maintenance_brackets[{symbol}]: {error}")
        return value

    def maintenance_brackets(self) -> dict[str, Brackets]:
        return {symbol: brackets_of(table) for symbol, table in self.perp_maintenance_brackets.items()}


def brackets_of(table: list[BracketSetting]) -> Brackets:
    return tuple(Bracket(item.notional_cap, item.rate, item.amount) for item in table)
