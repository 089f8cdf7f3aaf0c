"""What order-router's refusal of a bot's order means for the bot: send it again later, stop the
bot, or record the order as refused."""

from __future__ import annotations

from tradeloom.shared.rpc import RemoteError

RETRYABLE = frozenset({"unavailable", "timeout", "internal"})


def send_again_later(error: RemoteError) -> bool:
    """Transient: the router did not answer, or has not seen a trade of the symbol yet (just
    started, or a quiet market: ``no_market_price``), so the same order goes through later (same
    client id; the loop resends it)."""
    if error.code in RETRYABLE:
        return True
    fields = (error.details or {}).get("fields") or []
    return bool(fields) and all(isinstance(f, dict) and f.get("rule") == "no_market_price" for f in fields)


def unusable_account(error: RemoteError) -> str | None:
    """A refusal no later bar can change: the account is gone or archived."""
    if error.code == "not_found":
        return "the account no longer exists"
    if error.code == "conflict" and (error.details or {}).get("reason") == "account_archived":
        return "the account is archived"
    return None
