"""The risk score 1..100 of an account: a weighted mean of five sub-scores (pure).

Each component has a value and a reference (the value that scores 100: the account's limit where
one is set, else a default); its sub-score is ``100 × min(value / reference, 1)``:

- ``leverage``: gross exposure / equity, of ``max_leverage``, else 5; weight 0.25.
- ``daily_loss``: the trading day's loss (≥ 0), of ``max_daily_loss``, else 5 % of equity; 0.20.
- ``drawdown``: high-water mark − equity (≥ 0), of the room down to the ``max_drawdown`` floor,
  else 10 % of equity; 0.20.
- ``concentration``: the largest |net exposure| of one symbol / gross exposure, of 1; 0.15.
- ``var99``: historical VaR 99 % / equity, of 0.10; 0.20.

A component that cannot be measured (no equity: no ``starting_balance`` limit) is left out and the
other weights scale up to 1; an equity ≤ 0 scores 100 on every equity-based component. The score is
``round(Σ weight × sub-score)`` (half up), at least 1; no measurable component scores 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

WEIGHTS = {
    "leverage": Decimal("0.25"),
    "daily_loss": Decimal("0.20"),
    "drawdown": Decimal("0.20"),
    "concentration": Decimal("0.15"),
    "var99": Decimal("0.20"),
}
DEFAULT_LEVERAGE = Decimal(5)
DAILY_LOSS_SHARE = Decimal("0.05")
DRAWDOWN_SHARE = Decimal("0.10")
VAR99_SHARE = Decimal("0.10")
HUNDRED = Decimal(100)
PLACES = Decimal("0.0001")  # weights
RATIO = Decimal("0.00000001")
SUB = Decimal("0.01")


@dataclass(frozen=True)
class ScoreInputs:
    equity: Decimal | None
    gross: Decimal
    largest: Decimal  # the largest |net exposure| of one symbol
    day_loss: Decimal  # ≥ 0
    drawdown: Decimal | None  # high-water − equity (≥ 0); None: unknown
    drawdown_room: Decimal | None  # the max_drawdown limit's room down to its floor; None: no limit
    var99: Decimal
    max_leverage: Decimal | None
    max_daily_loss: Decimal | None


@dataclass(frozen=True)
class Component:
    name: str
    value: Decimal | None  # None: not measured, or equity ≤ 0
    reference: Decimal | None
    weight: Decimal  # the share in the score; 0: not measured
    sub_score: Decimal


def _ratio(value: Decimal, equity: Decimal) -> Decimal:
    return (value / equity).quantize(RATIO)


def _measures(i: ScoreInputs) -> list[tuple[str, Decimal | None, Decimal | None, bool]]:
    """(name, value, reference, measured) of each component."""
    concentration = _ratio(i.largest, i.gross) if i.gross > 0 else Decimal(0)
    rows: list[tuple[str, Decimal | None, Decimal | None, bool]] = [
        ("concentration", concentration, Decimal(1), True)
    ]
    equity = i.equity
    daily_ref = i.max_daily_loss
    if equity is None:
        rows.append(("daily_loss", i.day_loss, daily_ref, daily_ref is not None))
        rows += [(name, None, None, False) for name in ("leverage", "drawdown", "var99")]
        return rows
    broke = equity <= 0  # every equity-based component at 100
    lev_ref = i.max_leverage or DEFAULT_LEVERAGE
    rows.append(("leverage", None if broke else _ratio(i.gross, equity), lev_ref, True))
    if daily_ref is None:
        daily_ref = None if broke else (equity * DAILY_LOSS_SHARE).quantize(RATIO)
    rows.append(("daily_loss", i.day_loss, daily_ref, True))
    room = i.drawdown_room
    if room is None:
        room = None if broke else (equity * DRAWDOWN_SHARE).quantize(RATIO)
    rows.append(("drawdown", i.drawdown or Decimal(0), room, True))
    rows.append(("var99", None if broke else _ratio(i.var99, equity), VAR99_SHARE, True))
    return rows


def _sub_score(value: Decimal | None, reference: Decimal | None) -> Decimal:
    if value is None or reference is None or reference <= 0:
        return HUNDRED  # measured but nothing to stand on: equity ≤ 0, or a limit of 0
    return (HUNDRED * min(value / reference, Decimal(1))).quantize(SUB)


def components(inputs: ScoreInputs) -> list[Component]:
    """Every component in the order of ``WEIGHTS``, with its effective weight."""
    measured = {name: (value, ref, ok) for name, value, ref, ok in _measures(inputs)}
    total = sum((WEIGHTS[name] for name, (_, _, ok) in measured.items() if ok), Decimal(0))
    out = []
    for name, weight in WEIGHTS.items():
        value, reference, ok = measured[name]
        share = (weight / total).quantize(PLACES) if ok and total else Decimal(0)
        sub = _sub_score(value, reference) if ok else Decimal(0)
        out.append(Component(name, value, reference, share, sub))
    return out


def score(parts: list[Component]) -> int:
    """``round(Σ weight × sub-score)``, half up, within 1..100."""
    total = sum((part.weight * part.sub_score for part in parts), Decimal(0))
    return max(1, min(100, int(total.quantize(Decimal(1), rounding=ROUND_HALF_UP))))
