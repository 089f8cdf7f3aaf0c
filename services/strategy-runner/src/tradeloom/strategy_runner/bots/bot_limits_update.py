"""A bot's risk limits changed or removed by an update (``bots_update``, ``grid_bots_update``,
``dca_bots_update``: ``limits_changed`` is the block they share): risk-monitor's copy first, then
the bot's.

risk-monitor owns the limits (its check reads them) and ``bots.risk_limits`` is the bot's copy for
its view, so the two writes are ordered to never leave them apart on a failure:

1. under the bot's row lock (the update's transaction), the new set is put at risk-monitor
   (``limits_put`` replaces the bot's whole set). A refusal (422 → ``risk_limits.<field>``) or no
   answer (503) changed nothing there; the transaction rolls back, so nothing is written here.
   A timeout may have stored the new set: the old one is put back (or deleted, none before)
   before the 504 is answered.
2. the copy is written in the same transaction. If anything after the put fails (the copy, the
   audit, the commit), the old set is put back at risk-monitor before the error is answered.

The only window left is this process dying between the put and the commit: risk-monitor then has
the new set and the copy the old one (risk-monitor's ``limits_get`` is the authority; repeating
the update puts them in step again). Kept in this one module so create's own path
(``bot_risk_limits.py``) can change without touching it.

``remove_risk_limits`` goes the other way round, as a delete does: the copy is cleared and a
``bot_limit_removals`` row (``update``) written in the update's transaction; after its commit the
limits are deleted at risk-monitor with that row held, then the row dropped (``remove_held``).
Killed or unanswered in between, the row stays and the sweep deletes them (it keeps only the
limits of a bot that has a copy). Setting limits again on a bot whose removal row is still there
takes and drops that row in its own transaction before the put (waiting for a removal holding
it), so a late delete never removes the new set.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from types import TracebackType
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.bot_risk import BotRiskLimits
from tradeloom.shared.errors import Timeout, Unavailable
from tradeloom.shared.rpc import RemoteError, ServiceClient
from tradeloom.strategy_runner.bots.bot_risk_limits import RISK, BotRiskLimitsClient, _renamed, log
from tradeloom.strategy_runner.store.bots_store import BotsStore


@asynccontextmanager
async def limits_replaced(
    client: Callable[[], ServiceClient],
    timeout_s: float,
    caller: CallerContext,
    bot: Any,
    new: BotRiskLimits,
) -> AsyncIterator[None]:
    """``new`` put at risk-monitor for the block; the bot's old set (``bot.risk_limits``, None:
    none) put back if the put timed out or the block raises."""
    scope = {"account_id": bot.account_id, "bot_id": str(bot.id)}

    async def call(op: str, body: dict[str, Any]) -> None:
        await client().call_raw(RISK, op, body, caller=caller, timeout_s=timeout_s)

    async def restore() -> None:
        try:
            if bot.risk_limits is None:
                await call("limits_delete", scope)
            else:
                await call("limits_put", scope | dict(bot.risk_limits))
        except Exception:
            log.warning("could not restore the risk limits of bot %s", bot.id, exc_info=True)

    try:
        await call("limits_put", scope | new.model_dump(mode="json"))
    except RemoteError as error:
        if error.code == "validation_error":
            raise _renamed(error) from None
        raise
    except Timeout:
        await restore()  # it may have stored the new set
        raise Timeout(
            f"risk-monitor did not answer within {timeout_s}s: the bot's risk limits were not changed"
        ) from None
    except Unavailable as error:
        raise Unavailable(
            f"risk-monitor is not answering ({error.message}): the bot's risk limits were not changed"
        ) from None
    try:
        yield
    except BaseException:
        await restore()
        raise


async def limits_changed(
    undo: AsyncExitStack, conn: AsyncConnection, limits: BotRiskLimitsClient, bots: BotsStore, *,
    caller: CallerContext, row: Any, new: BotRiskLimits | None, remove: bool,
) -> dict[str, Any] | None:  # fmt: skip
    """An update's limits change, in its transaction under the bot's row lock (``undo`` entered
    before the transaction: it exits after the commit): ``new`` put and copied, or (``remove``)
    the copy cleared and the limits deleted after the commit; the audit entry (old, new), None
    when nothing changes."""
    key, bot_id = uuid.UUID(str(row.id)), str(row.id)
    if remove:
        if row.risk_limits is None:
            return None
        await limits.removed_by_update(conn, row)
        await bots.set_risk_limits(conn, key, None)

        async def after_commit(
            kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
        ) -> bool:
            if kind is None:
                await limits.remove_held(caller, bot_id, row.account_id)
            return False

        undo.push_async_exit(after_commit)
        return {"old": row.risk_limits, "new": None}
    dumped = None if new is None else new.model_dump(mode="json")
    if new is None or dumped == row.risk_limits:
        return None
    if row.risk_limits is None and await limits.removals.hold(conn, bot_id):
        await limits.removals.drop(conn, bot_id)  # a removal not done yet: the new set is the bot's
    await undo.enter_async_context(limits_replaced(limits._client, limits.timeout_s, caller, row, new))
    await bots.set_risk_limits(conn, key, dumped)
    return {"old": row.risk_limits, "new": dumped}
