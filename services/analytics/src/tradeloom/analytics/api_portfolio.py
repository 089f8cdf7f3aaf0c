"""Portfolio balances across the caller's accounts: order-router's ``accounts_list`` (asked as the
caller, every page) valued at the latest marks; when order-router does not answer, it is named in
``unavailable`` and the accounts analytics knows from fills are still listed."""

from __future__ import annotations

import logging
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from tradeloom.analytics.store.equity_store import EquityStore
from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.analytics_portfolio import (
    VALUATION_ASSET,
    AccountBalances,
    AssetBalance,
    BalancesRequest,
    PortfolioBalances,
)
from tradeloom.shared.errors import ServiceError, require_user
from tradeloom.shared.rpc import ServiceClient

log = logging.getLogger(__name__)
ZERO = Decimal(0)
MAX_PAGES = 50


class PortfolioApi:
    def __init__(
        self, engine: Callable[[], AsyncEngine], client: Callable[[], ServiceClient], store: EquityStore,
        timeout_s: float,
    ) -> None:  # fmt: skip
        self._engine = engine
        self._client = client
        self.store = store
        self.timeout_s = timeout_s

    async def _accounts(self, caller: CallerContext, body: BalancesRequest) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        cursor: str | None = None
        for _ in range(MAX_PAGES):
            request: dict[str, Any] = {"limit": 200, "include_archived": body.include_archived}
            page = await self._client().call_raw(
                "order-router", "accounts_list", request | ({"cursor": cursor} if cursor else {}),
                caller=caller, timeout_s=self.timeout_s,
            )  # fmt: skip
            items += page["items"]
            cursor = page.get("next_cursor")
            if not cursor:
                break
        return items

    async def balances(self, caller: CallerContext, body: BalancesRequest) -> PortfolioBalances:
        user = require_user(caller)
        unavailable: list[str] = []
        try:
            accounts = await self._accounts(caller, body)
        except ServiceError as error:  # not answering, or answering an error: named, the rest shows
            log.warning("order-router did not list the accounts: %r", error)
            accounts, unavailable = [], ["order-router"]
        assets = sorted({b["asset"] for a in accounts for b in a["balances"]} - {VALUATION_ASSET})
        async with self._engine().connect() as conn:
            known = await self.store.accounts_of(conn, user)
            marks = await self.store.latest_marks(conn, [f"{asset}/{VALUATION_ASSET}" for asset in assets])
        prices = {
            asset: marks[f"{asset}/{VALUATION_ASSET}"]
            for asset in assets
            if f"{asset}/{VALUATION_ASSET}" in marks
        }
        prices[VALUATION_ASSET] = Decimal(1)
        out = [_account(info, prices) for info in accounts]
        totals: dict[str, list[Decimal]] = {}
        for account in out:
            for b in account.balances:
                free, locked, total = totals.setdefault(b.asset, [ZERO, ZERO, ZERO])
                totals[b.asset] = [free + b.free, locked + b.locked, total + b.total]
        summed = [
            AssetBalance(asset=asset, free=f, locked=lk, total=t, value=_value(t, prices.get(asset)))
            for asset, (f, lk, t) in sorted(totals.items())
        ]
        return PortfolioBalances(
            valuation_asset=VALUATION_ASSET, accounts=out, totals=summed,
            value=sum((a.value for a in out), ZERO), unavailable=unavailable, known_accounts=known,
        )  # fmt: skip


def _value(amount: Decimal, price: Decimal | None) -> Decimal | None:
    return None if price is None else amount * price


def _account(info: dict[str, Any], prices: dict[str, Decimal]) -> AccountBalances:
    balances = [
        AssetBalance(
            asset=b["asset"],
            free=Decimal(b["free"]),
            locked=Decimal(b["locked"]),
            total=Decimal(b["total"]),
            value=_value(Decimal(b["total"]), prices.get(b["asset"])),
        )
        for b in info["balances"]
    ]
    return AccountBalances(
        account_id=info["account_id"], name=info["name"], kind=info["kind"], venue=info["venue"],
        status=info["status"], balances=balances,
        value=sum((b.value for b in balances if b.value is not None), ZERO),
        unpriced_assets=[b.asset for b in balances if b.value is None],
    )  # fmt: skip
