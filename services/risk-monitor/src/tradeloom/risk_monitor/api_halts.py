"""The kill switch: ``emergency_stop`` and ``resume`` (user scope; global for admins).

The halt is stored and ``risk.evt.halt.v1`` / ``risk.evt.resume.v1`` written to the outbox in one
transaction, so it survives restarts and order-router always hears of it. Stopping twice (or
resuming what is not halted) changes nothing and publishes nothing.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncEngine

from tradeloom.risk_monitor.cache import GLOBAL_KEY, RiskCache
from tradeloom.risk_monitor.store.risk_store import RiskStore
from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.risk import RiskHalt, RiskResume
from tradeloom.shared.contracts.risk_monitor import HaltInfo, HaltRequest
from tradeloom.shared.errors import ServiceError, require_user
from tradeloom.shared.outbox import Outbox


class Forbidden(ServiceError):
    code = "forbidden"
    status = 403


class HaltsApi:
    def __init__(
        self, engine: Callable[[], AsyncEngine], store: RiskStore, cache: RiskCache, outbox: Outbox
    ) -> None:
        self._engine = engine
        self.store = store
        self.cache = cache
        self.outbox = outbox

    def _target(self, caller: CallerContext, body: HaltRequest) -> tuple[str, str | None]:
        user = require_user(caller)
        if body.scope == "global":
            if "admin" not in caller.roles:
                raise Forbidden("only an admin may stop or resume trading for everyone")
            return user, None
        return user, user

    async def stop(self, caller: CallerContext, body: HaltRequest) -> HaltInfo:
        by, target = self._target(caller, body)
        key = target or GLOBAL_KEY
        async with self._engine().begin() as conn:
            if await self.store.set_halt(conn, body.scope, key, body.reason, by):
                halt = RiskHalt(scope=body.scope, user_id=target, reason=body.reason)
                await self.outbox.add(conn, halt)
        self.cache.set_halt(body.scope, key, body.reason)
        return HaltInfo(scope=body.scope, user_id=target, halted=True, reason=body.reason)

    async def resume(self, caller: CallerContext, body: HaltRequest) -> HaltInfo:
        _, target = self._target(caller, body)
        key = target or GLOBAL_KEY
        async with self._engine().begin() as conn:
            if await self.store.clear_halt(conn, body.scope, key):
                await self.outbox.add(conn, RiskResume(scope=body.scope, user_id=target, reason=body.reason))
        self.cache.set_halt(body.scope, key, None)
        return HaltInfo(scope=body.scope, user_id=target, halted=False, reason=body.reason)
