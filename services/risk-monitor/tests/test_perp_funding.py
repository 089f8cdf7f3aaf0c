"""Funding in risk-monitor's realised PnL: ``orders.evt.funding_paid`` counts once per account,
symbol and funding time (a second event for the same funding time changes nothing), and later
fills add to it.

By hand: long 2 BTC perp at 50,000 (realised 0); funding −10 at t1 (paid) → realised −10; the same
funding time again → still −10; funding +4 at t2 → −6; sell 1 at 51,000 → +1,000 − 6 = 994.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from rm_harness import T0, RiskCaller, eventually

from tradeloom.shared.contracts.orders import FillInfo, FillRecorded
from tradeloom.shared.contracts.orders_perps import FundingPaid
from tradeloom.shared.publish import EventPublisher

ACCOUNT = "acc-funding"
BTC = "BTC/USDT:USDT"


async def pay(risk: RiskCaller, at: int, amount: str) -> None:
    event = FundingPaid(user_id="alice", account_id=ACCOUNT, venue="sim", symbol=BTC, settle_asset="USDT",
                        funding_time_ns=at, quantity=Decimal(2), contract_size=Decimal(1),
                        mark_price=Decimal(50000), rate=Decimal("1e-4"), amount=Decimal(amount))  # fmt: skip
    publisher = EventPublisher(risk.nc.jetstream(), risk.subjects, "tradeloom/order-router")
    await publisher.publish(event, ACCOUNT, event_id=str(uuid.uuid4()))  # a new envelope each time


async def realised_becomes(risk: RiskCaller, expected: str) -> None:
    async def reached() -> bool:
        items: list[dict[str, Any]] = (await risk("positions_list", {"account_id": ACCOUNT}))["items"]
        return any(i["symbol"] == BTC and Decimal(i["realised_pnl"]) == Decimal(expected) for i in items)

    await eventually(reached)


async def test_funding_counts_once_in_realised_pnl(risk: RiskCaller) -> None:
    await risk.fill(ACCOUNT, "f1", "buy", "50000", "2", seconds=1, symbol=BTC)
    await realised_becomes(risk, "0")
    await pay(risk, 1_000, "-10")
    await realised_becomes(risk, "-10")
    await pay(risk, 1_000, "-10")  # the same funding time again: already counted
    await pay(risk, 2_000, "4")
    await realised_becomes(risk, "-6")
    await risk.fill(ACCOUNT, "f2", "sell", "51000", "1", seconds=2, symbol=BTC)
    await realised_becomes(risk, "994")


async def test_the_fill_s_contract_size_from_the_registry_wins_over_the_setting(risk: RiskCaller) -> None:
    """order-router puts market-data's ``multiplier`` on a perp fill: 30 contracts × 0.01 = 0.3 base
    (no ``PERP_CONTRACT_SIZES`` entry here: the setting would say 1)."""
    info = FillInfo(
        fill_id="r1", order_id="o-r1", account_id=ACCOUNT, venue="sim", venue_fill_id="paper:r1",
        symbol="ETH/USDT:USDT", side="buy", price=Decimal(3000), quantity=Decimal(30), fee=Decimal(0),
        fee_asset="USDT", liquidity="taker", trade_id="r1", filled_at=T0, contract_size=Decimal("0.01"),
    )  # fmt: skip
    publisher = EventPublisher(risk.nc.jetstream(), risk.subjects, "tradeloom/order-router")
    await publisher.publish(FillRecorded(user_id="alice", fill=info), ACCOUNT, event_id=str(uuid.uuid4()))

    async def folded() -> bool:
        items: list[dict[str, Any]] = (await risk("positions_list", {"account_id": ACCOUNT}))["items"]
        return any(i["symbol"] == "ETH/USDT:USDT" and Decimal(i["quantity"]) == Decimal("0.3") for i in items)

    await eventually(folded)
