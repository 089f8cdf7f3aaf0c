"""order-router settings: environment variables prefixed ``TL_ORDER_ROUTER_``."""

from decimal import Decimal
from typing import Any, ClassVar, Self

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from tradeloom.order_router.credentials import Keyring, KeyringInvalid
from tradeloom.quant.margin import Brackets, brackets_from, check_brackets
from tradeloom.shared.settings import ServiceSettings


class OrderRouterSettings(ServiceSettings):
    """Built once at start by ``app.main`` and passed down."""

    model_config = SettingsConfigDict(
        env_prefix="TL_ORDER_ROUTER_", extra="ignore", case_sensitive=False, hide_input_in_errors=True
    )
    service_name: ClassVar[str] = "order-router"

    health_port: int = 9103
    risk_check_timeout_s: float = Field(
        default=0.05, gt=0, le=5, description="deadline of the pre-trade check"
    )
    market_buy_buffer: Decimal = Field(
        default=Decimal("0.05"),
        ge=0,
        le=1,
        description="extra quote a market-priced buy locks over the last price",
    )
    instruments_ttl_s: float = Field(
        default=60.0, gt=0, description="how long market-data's registry is cached"
    )
    market_data_timeout_s: float = Field(default=2.0, gt=0)
    perp_funding_interval_s: float = Field(
        default=60.0, gt=0, description="how often funding times passed are paid on paper perp positions"
    )
    perp_maintenance_brackets: dict[str, list[dict[str, Any]]] = Field(
        default_factory=dict,
        description="tiered maintenance margin by perpetual for the paper liquidation (risk-monitor's "
        "PERP_MAINTENANCE_BRACKETS, the same JSON); else tradeloom.quant.margin.DEFAULT_BRACKETS",
    )
    perp_settings_timeout_s: float = Field(
        default=2.0, gt=0, description="reading an account's perp leverage from risk-monitor at submit"
    )
    pending_new_timeout_s: float = Field(
        default=30.0, gt=0, description="a submission interrupted before acceptance is rejected after this"
    )
    housekeeping_interval_s: float = Field(
        default=1.0, gt=0, description="GTD expiry and stale pending sweep"
    )
    credential_keys: SecretStr | None = Field(
        default=None,
        description="AES-256 keys sealing exchange credentials: 'version:base64key' pairs, comma-separated; "
        "unset: exchange connections answer unavailable",
    )
    credential_key_version: int | None = Field(
        default=None, ge=1, description="the key version that seals new values (default: the highest)"
    )
    venue_timeout_s: float = Field(default=10.0, gt=0, le=120, description="deadline of every venue call")
    venue_api_urls: dict[str, dict[str, str]] = Field(
        default_factory=dict,
        description="per venue id, entries replacing ccxt's urls['api'] (a regional host), as JSON",
    )
    venue_options: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="per venue id, options merged into ccxt's exchange options, as JSON"
    )
    venue_poll_interval_s: float = Field(
        default=2.0, gt=0, description="how often exchange accounts are reconciled and their fills polled"
    )
    venue_fill_streams: bool = Field(
        default=True,
        description="take fills from the venue's websocket where ccxt pro offers it (polling stays on "
        "as the fallback); false: polling only",
    )
    price_bands: dict[str, Decimal] = Field(
        default_factory=dict,
        description="per venue id, the default limit price band as a fraction of the last price either "
        'side (JSON, e.g. {"sim": "0.1"}: within ±10%), for instruments whose registry entry has no '
        "price_band_pct; a venue not named has none",
    )
    inbox_retention_s: float = Field(
        default=7 * 86_400,
        ge=3_600,
        description="processed inbox rows older than this are deleted (a message is redelivered only "
        "minutes after its delivery, never days)",
    )
    inbox_prune_interval_s: float = Field(default=3_600.0, gt=0, description="how often the inbox is pruned")
    credential_rotation_interval_s: float = Field(
        default=300.0, gt=0, description="how often credentials sealed with an older key are re-sealed"
    )
    venue_wallets_interval_s: float = Field(
        default=30.0,
        ge=0,
        description="how often the venue's separate wallets (spot, futures, options) of an exchange "
        "account are read again, at a venue sync pass (0: every pass)",
    )

    @model_validator(mode="after")
    def _check_credential_keys(self) -> Self:
        if self.credential_keys is not None:
            try:
                Keyring.parse(self.credential_keys.get_secret_value(), self.credential_key_version)
            except KeyringInvalid as error:
                raise ValueError(f"credential_keys: {error}") from None
        elif self.credential_key_version is not None:
            raise ValueError("credential_key_version: set without credential_keys")
        return self

    @model_validator(mode="after")
    def _check_brackets(self) -> Self:
        for symbol, table in self.perp_maintenance_brackets.items():
            try:
                error = check_brackets(brackets_from(table))
            except (KeyError, ArithmeticError, ValueError) as bad:
                error = f"not a bracket table ({bad!r})"
            if error is not None:
                raise ValueError(f"perp_maintenance_brackets[{symbol}]: {error}")
        return self

    def maintenance_brackets(self) -> dict[str, Brackets]:
        return {symbol: brackets_from(table) for symbol, table in self.perp_maintenance_brackets.items()}

    def keyring(self) -> Keyring | None:
        """The credential keyring, or ``None`` when no keys are configured (checked at load)."""
        if self.credential_keys is None:
            return None
        return Keyring.parse(self.credential_keys.get_secret_value(), self.credential_key_version)
