"""Depth analytics of an L2 book: spread, mid, microprice, top-level imbalance, depth within ±bps."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

Level = tuple[Decimal, Decimal]  # price, amount; best first
TEN_THOUSAND = Decimal(10_000)


@dataclass(frozen=True)
class DepthAnalytics:
    best_bid: Decimal | None
    best_ask: Decimal | None
    spread: Decimal | None
    spread_bps: Decimal | None
    mid: Decimal | None
    microprice: Decimal | None
    imbalance: Decimal | None
    band_bps: Decimal
    bid_depth_in_band: Decimal
    ask_depth_in_band: Decimal


def analyse(bids: list[Level], asks: list[Level], band_bps: Decimal) -> DepthAnalytics:
    """Microprice weights each side's price by the other side's size: (Pb·Qa + Pa·Qb)/(Qa + Qb)."""
    best_bid = bids[0] if bids else None
    best_ask = asks[0] if asks else None
    spread = spread_bps = mid = micro = imbalance = None
    bid_depth = ask_depth = Decimal(0)
    if best_bid and best_ask:
        (pb, qb), (pa, qa) = best_bid, best_ask
        spread = pa - pb
        mid = (pa + pb) / 2
        spread_bps = (spread / mid * TEN_THOUSAND).quantize(Decimal("0.0001")) if mid else None
        if qa + qb > 0:
            micro = (pb * qa + pa * qb) / (qa + qb)
            imbalance = (qb - qa) / (qb + qa)
        low = mid * (1 - band_bps / TEN_THOUSAND)
        high = mid * (1 + band_bps / TEN_THOUSAND)
        bid_depth = sum((q for p, q in bids if p >= low), Decimal(0))
        ask_depth = sum((q for p, q in asks if p <= high), Decimal(0))
    return DepthAnalytics(
        best_bid=best_bid[0] if best_bid else None,
        best_ask=best_ask[0] if best_ask else None,
        spread=spread,
        spread_bps=spread_bps,
        mid=mid,
        microprice=micro,
        imbalance=imbalance,
        band_bps=band_bps,
        bid_depth_in_band=bid_depth,
        ask_depth_in_band=ask_depth,
    )
