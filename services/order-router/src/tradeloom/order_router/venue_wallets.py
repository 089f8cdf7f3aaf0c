"""The mirror of each exchange account's separate wallets at its venue (spot, futures, options).

Our books keep one balance per asset for an exchange account (what its orders lock and its fills
move); a venue such as Binance keeps spot, USDⓈ-M futures and options money in separate wallets.
Those are read through ccxt (``venues.venue_wallets``) by the venue sync pass, at most every
``VENUE_WALLETS_INTERVAL_S`` per account, and kept here, in memory: every replica runs the pass,
so each holds its own fresh copy, and a restart has one again after its first pass. A wallet read
that fails keeps the copy it had (the venue is asked again next pass) and never takes the account
out of service: the wallets are shown, never traded on. ``accounts_balances`` adds them to an
exchange account's reply (``BalancesReply.wallets``, each with the time it was read).
"""

from __future__ import annotations

import logging
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Row

from tradeloom.order_router.store.rows import venue_balances
from tradeloom.order_router.venues import CcxtVenue
from tradeloom.order_router.venues.errors import VenueError
from tradeloom.shared.contracts.orders_accounts import WalletBalances

log = logging.getLogger(__name__)


class VenueWallets:
    def __init__(self, interval_s: float) -> None:
        self.interval_s = interval_s
        self._read: dict[uuid.UUID, tuple[float, list[WalletBalances]]] = {}

    async def refresh(self, account: Row[Any], adapter: CcxtVenue) -> None:
        """Read the account's wallets again when the last read is older than ``interval_s``."""
        last = self._read.get(account.id)
        if last is not None and time.monotonic() - last[0] < self.interval_s:
            return
        try:
            wallets = await adapter.fetch_wallets()
            now = datetime.now(UTC)
            mirrored = [
                WalletBalances(wallet=wallet.name, balances=venue_balances(wallet.balances), as_of=now)
                for wallet in wallets
            ]
        except (VenueError, ValueError) as error:  # unreachable, or an amount our reply cannot show
            log.warning("venue wallets of account %s not read: %s", account.id, error)
            return
        self._read[account.id] = (time.monotonic(), mirrored)

    def of(self, account_id: uuid.UUID) -> list[WalletBalances] | None:
        """The account's wallets as last read (``None``: not read yet)."""
        last = self._read.get(account_id)
        return None if last is None else last[1]
