"""A strategy bot's protective exits as orders (``domain/exit_plan.py``): the stop-loss and
take-profit levels of ``domain/bot_exits.py`` at the decided bar's close, on the instrument's tick,
recorded with the entry. With both (or a trailing stop and a take-profit: the bracket's stop leg
is then a trailing stop), the entry goes to order-router as a bracket, which opens both exits as
one OCO pair once the entry fills; a lone exit (or a lone trailing stop) is placed by the bot once
the entry fills. A sell on the strategy's exit signal cancels the resting exits first
(cancelling one of a pair cancels both), so the base they lock is free for the sell."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncEngine

from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.market_data import InstrumentsReply, InstrumentsRequest
from tradeloom.shared.contracts.orders import OrderInfo, OrderRef
from tradeloom.shared.errors import Unavailable
from tradeloom.shared.rpc import RemoteError, ServiceClient
from tradeloom.strategy_runner.bots.sizing import SizingUnavailable
from tradeloom.strategy_runner.domain.bot_exits import exit_levels, exit_settings
from tradeloom.strategy_runner.domain.exit_plan import bracket_trailing_percent, needs_levels
from tradeloom.strategy_runner.store.dca_bots_store import DcaBotsStore

log = logging.getLogger(__name__)


class ExitOrders:
    def __init__(
        self, engine: Callable[[], AsyncEngine], client: Callable[[], ServiceClient], *, schema: str,
        timeout_s: float,
    ) -> None:  # fmt: skip
        self._engine = engine
        self._client = client
        self.cancels = DcaBotsStore(schema)
        self.timeout_s = timeout_s

    async def levels(
        self, row: Row[Any], close: Decimal
    ) -> tuple[Decimal | None, Decimal | None, Decimal | None]:
        """(stop-loss, take-profit, bracket trailing percent) of an entry at ``close`` (None: that
        exit is off, or a trailing stop's: it needs no level, and a trailing stop replaces the
        stop-loss). The instrument not answering raises ``SizingUnavailable`` (the bar is decided
        later)."""
        settings = exit_settings(row.graph)
        trailing = bracket_trailing_percent(settings)
        if not needs_levels(settings):
            return None, None, trailing
        try:
            listed = await self._client().call(
                "market-data", "instruments", InstrumentsRequest(venue=row.venue), InstrumentsReply,
                timeout_s=self.timeout_s,
            )  # fmt: skip
        except (RemoteError, Unavailable) as error:
            raise SizingUnavailable(str(error)) from error
        instrument = next((i for i in listed.instruments if i.symbol == row.symbol), None)
        if instrument is None:
            return None, None, trailing  # not listed: the entry is refused by order-router anyway
        levels = exit_levels(settings, close, close, instrument.tick_size)
        stop = None if settings.trailing_stop is not None else levels.stop_price
        return stop, levels.take_profit_price, trailing

    async def cancel(self, user_id: str, exits: Sequence[tuple[str, str]]) -> bool:
        """Cancel the resting exits ((client id, order id)) as the owner; False: not all done
        yet (the cancel loop tries again; the sell waits for it in the resend loop)."""
        for client_id, order_id in exits:
            try:
                await self._client().call(
                    "order-router", "orders_cancel", OrderRef(order_id=order_id), OrderInfo,
                    caller=CallerContext(user_id=user_id), timeout_s=self.timeout_s,
                )  # fmt: skip
            except RemoteError as error:
                if error.code not in ("not_found", "conflict"):  # gone or done: nothing more to do
                    log.warning("cancel of exit %s not done yet: %s", client_id, error)
                    return False
            except Unavailable as error:
                log.warning("cancel of exit %s not done yet: %s", client_id, error)
                return False
            async with self._engine().begin() as conn:
                await self.cancels.cancel_done(conn, client_id)
        return True
