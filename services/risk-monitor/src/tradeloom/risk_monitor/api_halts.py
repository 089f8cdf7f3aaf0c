"""The kill switch: ``emergency_stop`` and ``resume`` per user, per account, or global (admins).

The halt is stored and its event written to the outbox in one transaction, so it survives restarts
and its consumers always hear of it: ``risk.evt.halt.v1`` / ``resume.v1`` for a user or everyone
(order-router cancels and refuses, strategy-runner stops the bots), ``risk.evt.account_halt.v1`` /
``account_resume.v1`` for one account. The pre-trade check refuses every order of a halted account
itself. Stopping twice (or resuming what is not halted) changes nothing and publishes nothing.
``flatten`` on a stop also writes ``risk.evt.flatten.v1`` for each account (of the user, or the one)
holding a position.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncEngine

from tradeloom.risk_monitor.cache import GLOBAL_KEY, RiskCache
from tradeloom.risk_monitor.flatten import flatten
from tradeloom.risk_monitor.metrics import RiskMetrics
from tradeloom.risk_monitor.owners import Owners
from tradeloom.risk_monitor.store.positions_store import PositionsStore
from tradeloom.risk_monitor.store.risk_store import RiskStore
from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.risk import RiskAccountHalt, RiskAccountResume, RiskHalt, RiskResume
from tradeloom.shared.contracts.risk_monitor import HaltInfo, HaltRequest
from tradeloom.shared.envelope import Event
from tradeloom.shared.errors import ServiceError, field_invalid, require_user
from tradeloom.shared.outbox import Outbox


class Forbidden(ServiceError):
    code = "forbidden"
    status = 403


class HaltsApi:
    def __init__(
        self,
        engine: Callable[[], AsyncEngine],
        store: RiskStore,
        cache: RiskCache,
        outbox: Outbox,
        *,
        owners: Owners,
        positions: PositionsStore,
        metrics: RiskMetrics | None = None,
    ) -> None:
        self.metrics = metrics or RiskMetrics(None)
        self._engine = engine
        self.store = store
        self.cache = cache
        self.outbox = outbox
        self.owners = owners
        self.positions = positions

    async def _target(self, caller: CallerContext, body: HaltRequest) -> tuple[str, str, str, str | None]:
        """(caller, stored scope, stored key, user of the event: None for global)."""
        user = require_user(caller)
        if body.scope == "global":
            if "admin" not in caller.roles:
                raise Forbidden("only an admin may stop or resume trading for everyone")
            if body.account_id is not None or body.flatten:
                raise field_invalid("scope", "a global stop is for everyone: no account_id, no flatten")
            return user, "global", GLOBAL_KEY, None
        if body.account_id is not None:
            await self.owners.require(caller, user, body.account_id)
            return user, "account", body.account_id, user
        return user, "user", user, user

    def _event(self, body: HaltRequest, target: str | None, *, halt: bool) -> tuple[Event, tuple[str, ...]]:
        if body.account_id is not None:
            assert target is not None
            kind = RiskAccountHalt if halt else RiskAccountResume
            event = kind(user_id=target, account_id=body.account_id, reason=body.reason)
            return event, (body.account_id,)
        plain = RiskHalt if halt else RiskResume
        return plain(scope=body.scope, user_id=target, reason=body.reason), ()

    async def stop(self, caller: CallerContext, body: HaltRequest) -> HaltInfo:
        by, scope, key, target = await self._target(caller, body)
        async with self._engine().begin() as conn:
            changed = await self.store.set_halt(conn, scope, key, body.reason, by)
            if changed:
                event, tokens = self._event(body, target, halt=True)
                await self.outbox.add(conn, event, *tokens)
            if body.flatten:
                accounts = None if body.account_id is None else [body.account_id]
                reason = f"emergency stop: {body.reason}" if body.reason else "emergency stop"
                await flatten(
                    conn, self.positions, self.outbox, user_id=by, account_ids=accounts, reason=reason
                )
        self.cache.set_halt(scope, key, body.reason)
        if changed:
            self.metrics.halts.labels(scope, "stop").inc()
        return self._info(body, target, halted=True)

    async def resume(self, caller: CallerContext, body: HaltRequest) -> HaltInfo:
        _, scope, key, target = await self._target(caller, body)
        async with self._engine().begin() as conn:
            changed = await self.store.clear_halt(conn, scope, key)
            if changed:
                event, tokens = self._event(body, target, halt=False)
                await self.outbox.add(conn, event, *tokens)
        self.cache.set_halt(scope, key, None)
        if changed:
            self.metrics.halts.labels(scope, "resume").inc()
        return self._info(body, target, halted=False)

    @staticmethod
    def _info(body: HaltRequest, target: str | None, *, halted: bool) -> HaltInfo:
        return HaltInfo(
            scope=body.scope,
            user_id=target,
            halted=halted,
            reason=body.reason,
            account_id=body.account_id,
            flatten=body.flatten and halted,
        )
