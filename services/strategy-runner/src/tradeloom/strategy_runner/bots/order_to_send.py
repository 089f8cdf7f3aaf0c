"""A bot's order on its way to order-router: what the runner sends after a decision commits and
what the resend loop sends again from its ``bot_orders`` row (same client id, same body)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Row

from tradeloom.shared.contracts.orders import OrderSubmit
from tradeloom.strategy_runner.domain.exit_plan import order_body


@dataclass(frozen=True)
class OrderToSend:
    user_id: str
    account_id: str
    symbol: str
    client_id: str
    side: str
    quantity: Decimal
    price: Decimal | None = None  # a grid's limit price, or a resting exit's stop price
    stop_loss: Decimal | None = None  # an entry's exit levels: a bracket when both are given
    take_profit: Decimal | None = None
    cancel_first: tuple[tuple[str, str], ...] = ()  # resting exits (client id, order id) a sell frees
    order_type: str = "market"  # limit (a grid's), stop_market | take_profit_market | trailing_stop
    trailing_percent: Decimal | None = None  # a trailing stop exit's, or a bracket entry's stop leg

    def submit(self) -> OrderSubmit:
        return OrderSubmit.model_validate(
            order_body(
                account_id=self.account_id, symbol=self.symbol, client_id=self.client_id, side=self.side,
                quantity=self.quantity, order_type=self.order_type, price=self.price,
                stop_loss=self.stop_loss, take_profit=self.take_profit,
                trailing_percent=self.trailing_percent,
            )
        )  # fmt: skip

    @classmethod
    def recorded(cls, bot: Row[Any], order: Row[Any]) -> OrderToSend:
        """An order as its row recorded it (a resend)."""

        def number(value: Any) -> Decimal | None:
            return None if value is None else Decimal(value)

        return cls(
            bot.user_id, bot.account_id, order.symbol, order.client_order_id, order.side,
            Decimal(order.quantity), number(order.price), number(order.stop_loss_price),
            number(order.take_profit_price), order_type=order.order_type,
            trailing_percent=number(order.trailing_percent),
        )  # fmt: skip
