"""The sweep of ``bot_limit_removals``: limits at risk-monitor whose bot does not exist.

A row left behind names limits that may be at risk-monitor with no bot to own them: a create killed
(or failing while risk-monitor was silent) between the put and the bot's commit, a delete whose
removal risk-monitor did not answer, or an update removing the bot's limits
(``remove_risk_limits``) killed or unanswered after its commit. Every replica runs the sweep at
start and every ``interval_s``: it takes the rows no one holds (``FOR UPDATE SKIP LOCKED``: a
create in flight holds its own), deletes each one's limits at risk-monitor as the bot's owner
(``limits_delete``; none there is fine) and drops the row in the same transaction; risk-monitor not
answering ends the round (the transaction holding the rows stays short), the rows kept for the next
one. A row whose bot exists with limits of its own is only dropped: those limits are the bot's (an
update setting limits again drops the row in its own transaction, waiting for a sweep holding it,
so its put always follows the sweep's delete).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncEngine

from tradeloom.shared.aio import wait_for_stop
from tradeloom.shared.context import CallerContext
from tradeloom.shared.errors import Unavailable
from tradeloom.shared.rpc import RemoteError
from tradeloom.strategy_runner.bots.bot_risk_limits import BotRiskLimitsClient

log = logging.getLogger(__name__)
BATCH = 50


class LimitRemovals:
    def __init__(
        self, engine: Callable[[], AsyncEngine], limits: BotRiskLimitsClient, interval_s: float
    ) -> None:
        self._engine = engine
        self.limits = limits
        self.interval_s = interval_s

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.sweep()
            except Exception as error:  # the database away: sweep again next round
                log.warning("sweeping orphan bot risk limits failed: %r", error)
            if await wait_for_stop(stop, self.interval_s):
                break

    async def sweep(self) -> int:
        """One round; how many rows went."""
        removals = self.limits.removals
        gone = 0
        async with self._engine().begin() as conn:
            for row in await removals.due(conn, BATCH):
                bot_id = str(row.bot_id)
                if not row.bot_has_limits:
                    try:
                        await self.limits.delete(CallerContext(user_id=row.user_id), bot_id, row.account_id)
                    except Unavailable as error:  # risk-monitor away (or timing out): next round
                        log.warning("risk limits of bot %s not removed yet: %s", bot_id, error)
                        break
                    except RemoteError as error:
                        log.warning("risk limits of bot %s not removed yet: %s", bot_id, error)
                        continue
                    log.info("removed the risk limits of bot %s (left by a %s)", bot_id, row.reason)
                await removals.drop(conn, bot_id)
                gone += 1
        return gone
