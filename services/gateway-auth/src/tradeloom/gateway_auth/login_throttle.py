"""Login throttling that an attacker cannot turn against the account's owner.

One counter per account locked everyone out: a few wrong passwords for someone's email, sent from
anywhere, kept the real owner out (a denial of service). As OWASP's credential-stuffing guidance
recommends, failures are counted twice:

* per (account, client address), strict (``LOCKOUT_AFTER``): one client guessing one account is
  locked progressively, and only that client;
* per account, looser (``LOCKOUT_ACCOUNT_AFTER``): a distributed run against one account (many
  addresses, few tries each) locks the account for *unknown* clients. A client that logged in to
  the account within ``LOCKOUT_KNOWN_CLIENT_DAYS`` (a session started from its address) is not
  held by this lock, so the owner keeps logging in from their usual address.

A spraying run (one address, many accounts) is slowed by the per-address ``login`` rate bucket.
"""

from __future__ import annotations

from dataclasses import dataclass

from tradeloom.gateway_auth.domain.ratelimit import LockoutPolicy
from tradeloom.gateway_auth.errors import RateLimited
from tradeloom.gateway_auth.gateway import Gateway

FORGET_AFTER_S = 86400.0
NOBODY = "00000000-0000-0000-0000-000000000000"


def locked(seconds: int) -> RateLimited:
    return RateLimited(f"too many failed logins; try again in {seconds}s", seconds)


@dataclass(frozen=True)
class LoginThrottle:
    gw: Gateway
    email: str
    ip: str

    @property
    def pair_key(self) -> str:
        return f"login:{self.email}|{self.ip}"

    @property
    def account_key(self) -> str:
        return f"login:{self.email}"

    @property
    def account_policy(self) -> LockoutPolicy:
        s = self.gw.settings
        return LockoutPolicy(s.lockout_account_after, s.lockout_base_s, s.lockout_max_s)

    async def _known(self, user_id: str | None) -> bool:
        days = self.gw.settings.lockout_known_client_days
        if days == 0:
            return False
        # an unknown email costs the same query: the answer's timing does not tell it is unknown
        return await self.gw.sessions.logged_in_from(user_id or NOBODY, self.ip, days)

    async def locked_for_s(self, user_id: str | None) -> tuple[int, str]:
        """Seconds this client must wait before trying (0: it may try), and which lock holds it."""
        pair = await self.gw.limits.locked_for_s(self.pair_key)
        if pair:
            return pair, "client"
        account = await self.gw.limits.locked_for_s(self.account_key)
        if account and not await self._known(user_id):
            return account, "account"
        return 0, ""

    async def failed(self, user_id: str | None) -> RateLimited | None:
        """Count a failure on both counters; the lock that now holds this client, if any."""
        pair = await self.gw.limits.record_failure(self.pair_key, self.gw.lockout, FORGET_AFTER_S)
        account = await self.gw.limits.record_failure(self.account_key, self.account_policy, FORGET_AFTER_S)
        if account and not pair and await self._known(user_id):
            account = 0
        longest = max(pair, account)
        return locked(longest) if longest else None

    async def succeeded(self) -> None:
        """This client's count starts again; the account's does not (an attacker elsewhere may
        still be at work, and the owner's own address is not held by it anyway)."""
        await self.gw.limits.clear_failures(self.pair_key)
