"""Which changes of a price-adjustment factor are splits (pure): volumes follow splits, not dividends.

A back-adjusting factor column (the newest bar's factor the reference) moves at an ex-date by
``r = factor after / factor before = split / d``: ``split`` the share ratio (2 for 2-for-1, 0.1 for
1-for-10) and ``d = 1 − dividend / close`` (1 without a cash dividend). One number cannot say which
part is which, so a change is read as the most common split ratio that explains it, the rest as a
dividend: ``split`` is a simple ratio ``p/q`` (``p, q ≤ 10``, or 15, 20, 25, 50, 100 to 1 and back)
with ``r / split`` in ``[1, 1.25)`` — a dividend of at most 20 % of the price — the one with the
smallest denominator (splits are whole-share ratios: 2-for-1 before 7-for-3), then the closest.
A change below 1.25× (and above 0.8×) is never a split: it is a dividend (or a data correction).
Volume is then multiplied by the product of the splits after each bar (the inverse of what a split
does to its prices), while prices take the whole factor. Dividends leave volume alone: a cash
dividend changes the price of a share, not how many shares traded, so adjusting volume for it
would invent shares. A change outside these rules (e.g. a factor that jumps 13×) is left as price
only and counted as unclassified.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

DIVIDEND_BAND = Fraction(5, 4)  # r / split below this: the remainder is a dividend of < 20 %
TOLERANCE = Fraction(1, 10**6)  # factors are floats: a ratio this close to a split is that split
_BIG = (15, 20, 25, 50, 100)
SPLIT_RATIOS = sorted(
    {Fraction(p, q) for p in range(1, 11) for q in range(1, 11)}
    | {Fraction(n) for n in _BIG}
    | {Fraction(1, n) for n in _BIG}
)


def split_of(ratio: Fraction) -> Fraction | None:
    """The split in a factor change ``ratio`` (1: none); None when no split explains it."""
    if Fraction(4, 5) < ratio < DIVIDEND_BAND:
        return Fraction(1)
    fits = [s for s in SPLIT_RATIOS if s != 1 and 1 - TOLERANCE <= ratio / s < DIVIDEND_BAND]
    return min(fits, key=lambda s: (s.denominator, ratio / s)) if fits else None


def volume_multipliers(factors: list[Decimal]) -> tuple[list[Decimal], list[tuple[int, Fraction]], int]:
    """(per bar: the product of the splits after it, [(bar index, split)], unclassified changes)."""
    n = len(factors)
    splits: list[tuple[int, Fraction]] = []
    unclassified = 0
    after = [Fraction(1)] * n
    for k in range(n - 1, 0, -1):
        ratio = Fraction(factors[k]) / Fraction(factors[k - 1])
        split = Fraction(1) if ratio == 1 else split_of(ratio)
        if split is None:
            unclassified += 1
            split = Fraction(1)
        elif split != 1:
            splits.append((k, split))
        after[k - 1] = after[k] * split
    multipliers = [Decimal(m.numerator) / Decimal(m.denominator) for m in after]
    return multipliers, sorted(splits), unclassified
