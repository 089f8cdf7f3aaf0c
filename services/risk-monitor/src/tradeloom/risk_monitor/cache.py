"""Limits and halts in memory, so the pre-trade check reads them without a query.

Reloaded from Postgres every ``refresh_s`` (other instances' writes) and updated at once by this
instance's own writes. Until the first load succeeds the check loads it itself: a restarted
instance never approves an order of a halted user because its memory is still empty.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncEngine

from tradeloom.risk_monitor.domain.limits import Limits, tightest
from tradeloom.risk_monitor.store.risk_store import RiskStore, limits_of
from tradeloom.shared.aio import wait_for_stop

log = logging.getLogger(__name__)
GLOBAL_KEY = "*"


class RiskCache:
    def __init__(self, engine: Callable[[], AsyncEngine], store: RiskStore, refresh_s: float) -> None:
        self._engine = engine
        self.store = store
        self.refresh_s = refresh_s
        self._limits: dict[tuple[str, str, str], Limits] = {}  # (user, account or '', bot or '')
        self._halts: dict[tuple[str, str], str] = {}
        self._loaded = False
        self._lock = asyncio.Lock()
        self._writes = 0  # a load that overlaps a local write may have read before it: dropped

    async def load(self) -> None:
        writes = self._writes
        async with self._engine().connect() as conn:
            limits = {
                (row.user_id, row.account_id, row.bot_id): limits_of(row)
                for row in await self.store.all_limits(conn)
            }
            halts = {(row.scope, row.user_key): row.reason for row in await self.store.halts(conn)}
        if writes != self._writes:
            return  # the next round reads the write too
        self._limits = {key: value for key, value in limits.items() if value is not None}
        self._halts = halts
        self._loaded = True

    async def ensure_loaded(self) -> None:
        while not self._loaded:
            async with self._lock:
                if not self._loaded:
                    await self.load()

    def limits(self, user_id: str, account_id: str) -> Limits | None:
        """The limits that apply to an account (its own and its user's, the tighter of each); None: none."""
        account = self._limits.get((user_id, account_id, ""))
        user = self._limits.get((user_id, "", ""))
        if account is None and user is None:
            return None
        return tightest(account, user)

    def halt_reason(self, user_id: str, account_id: str | None = None) -> str | None:
        for scope, key in (("global", GLOBAL_KEY), ("user", user_id), ("account", account_id)):
            if key is not None and (scope, key) in self._halts:
                return f"{scope} halt: {self._halts[(scope, key)] or 'no reason given'}"
        return None

    def bot_limits(self, user_id: str, account_id: str, bot_id: str) -> Limits | None:
        """A bot's own limits on the account (measured on the bot's positions and orders)."""
        return self._limits.get((user_id, account_id, bot_id)) if bot_id else None

    def set_limits(self, user_id: str, account_id: str, limits: Limits | None, bot_id: str = "") -> None:
        self._writes += 1
        if limits is None:
            self._limits.pop((user_id, account_id, bot_id), None)
        else:
            self._limits[(user_id, account_id, bot_id)] = limits

    def set_halt(self, scope: str, user_key: str, reason: str | None) -> None:
        self._writes += 1
        if reason is None:
            self._halts.pop((scope, user_key), None)
        else:
            self._halts[(scope, user_key)] = reason

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.load()
            except Exception as error:  # Postgres restarting: keep the last copy, try again
                log.warning("risk cache refresh failed: %r", error)
            await wait_for_stop(stop, self.refresh_s)
