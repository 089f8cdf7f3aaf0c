"""Orders on paper perpetuals: the account's leverage, reduce-only against the position, and the
rules that differ from spot.

The leverage has one source of truth, risk-monitor's ``perp_settings`` (set through its routes,
checked 1..125 and audited there): the router reads it at submit time (``perp_settings_list`` as
the caller) and stores it on the order, so the margin it locks and risk-monitor's margin used and
liquidation estimate agree, and a later change of the setting applies to new orders only. A
router-owned copy would need a second writer and could drift. No answer fails the order closed
(503/504), like the instrument lookup. A symbol never set has risk-monitor's default, 1× cross.
The margin mode is read and stored the same way; the position takes it from its opening fill
(``perp_liquidation``: isolated positions are liquidated on their own margin, cross ones together).
So is the position mode (``one_way`` | ``hedge``, ``domain/hedge.py``): hedge mode on an exchange
account is refused (422 ``position_mode``, ``unsupported_on_venue``): the stand-in venue the ccxt
tests run against serves one-way mode only, so ``positionSide`` on a venue is not tested.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from tradeloom.order_router.domain.hedge import HEDGE, position_side_problems
from tradeloom.order_router.domain.perps import PerpPosition, PerpTerms, reduce_only_quantity
from tradeloom.order_router.domain.validation import Problem
from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.market_data import Instrument
from tradeloom.shared.contracts.orders import OrderSubmit
from tradeloom.shared.contracts.risk_perps import PerpSettingsList, PerpSettingsRequest
from tradeloom.shared.rpc import ServiceClient

DEFAULT_LEVERAGE = Decimal(1)  # risk-monitor's default for a symbol never set


class PerpSettingsSource:
    def __init__(self, client: Callable[[], ServiceClient], timeout_s: float) -> None:
        self.client = client
        self.timeout_s = timeout_s

    async def terms(self, caller: CallerContext, account_id: str, instrument: Instrument) -> PerpTerms:
        reply = await self.client().call(
            "risk-monitor",
            "perp_settings_list",
            PerpSettingsRequest(account_id=account_id),
            PerpSettingsList,
            caller=caller,
            timeout_s=self.timeout_s,
        )
        setting = next((i for i in reply.items if i.symbol == instrument.symbol), None)
        return PerpTerms(
            contract_size=instrument.multiplier,
            leverage=DEFAULT_LEVERAGE if setting is None else setting.leverage,
            settle=instrument.settle or instrument.quote,
            margin_mode="cross" if setting is None else setting.margin_mode,
            position_mode="one_way" if setting is None else setting.position_mode,
        )


def hedge_problems(
    account_kind: str, terms: PerpTerms, order: OrderSubmit, *, venue_hedge: bool = False
) -> list[Problem]:
    """``position_side`` against the symbol's position mode; hedge mode on paper accounts and on
    exchange accounts whose venue ccxt can put in hedge mode (``venue_hedge``)."""
    if terms.position_mode == HEDGE and account_kind != "paper" and not venue_hedge:
        message = "this venue has no hedge position mode through ccxt; set the symbol to one_way"
        return [Problem("position_mode", "unsupported_on_venue", message)]
    return position_side_problems(terms.position_mode, order)


def perp_order_problems(account_kind: str, order: OrderSubmit) -> list[Problem]:
    """What a perp order may not do (yet): carry bracket exits. Paper and exchange accounts
    (through ccxt, the venue's leverage set from the same setting) both trade perpetuals."""
    for field, value in (
        ("stop_loss_price", order.stop_loss_price),
        ("take_profit_price", order.take_profit_price),
        ("trailing_stop_percent", order.trailing_stop_percent),
        ("trailing_stop_amount", order.trailing_stop_amount),
    ):
        if value is not None:
            return [Problem(field, "unsupported_on_perp", "bracket exits are not supported on perpetuals")]
    return []


def perp_reduce_only(order: OrderSubmit, position: PerpPosition) -> tuple[OrderSubmit, list[Problem]]:
    """A reduce-only perp order trimmed to the opposite position (as venues do), or refused when
    it would only open or grow one; unchanged if not reduce-only."""
    if not order.reduce_only:
        return order, []
    allowed = reduce_only_quantity(position, order.side, order.quantity)
    if allowed <= 0:
        message = f"no {'short' if order.side == 'buy' else 'long'} position to reduce"
        return order, [Problem("reduce_only", "no_position", message)]
    if allowed == order.quantity:
        return order, []
    return order.model_copy(update={"quantity": allowed}), []
