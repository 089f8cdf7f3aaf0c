"""Which of order-router's refusals a bot sends again later (same client id) and which stop it."""

from __future__ import annotations

from tradeloom.shared.rpc import RemoteError
from tradeloom.strategy_runner.bots.refusals import send_again_later, unusable_account


def refusal(code: str, **details: object) -> RemoteError:
    return RemoteError(code, "refused", details=details)


def test_no_market_price_yet_and_unanswered_calls_are_sent_again() -> None:
    price = {"field": "symbol", "rule": "no_market_price", "message": "no trade seen yet"}
    assert send_again_later(refusal("validation_error", fields=[price]))
    assert send_again_later(refusal("timeout"))
    funds = {"field": "quantity", "rule": "insufficient_funds", "message": "needs 10 USDT"}
    assert not send_again_later(refusal("validation_error", fields=[price, funds]))
    assert not send_again_later(refusal("validation_error", fields=[funds]))
    assert not send_again_later(refusal("validation_error"))


def test_a_gone_or_archived_account_stops_the_bot() -> None:
    assert unusable_account(refusal("not_found")) == "the account no longer exists"
    assert unusable_account(refusal("conflict", reason="account_archived")) == "the account is archived"
    assert unusable_account(refusal("conflict", reason="trading_halted")) is None
