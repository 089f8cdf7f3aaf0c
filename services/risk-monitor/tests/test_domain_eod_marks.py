"""Unrealised PnL at each close from per-day sums of the fills, checked by hand."""

from datetime import date, timedelta
from decimal import Decimal

from tradeloom.risk_monitor.domain.drawdown import eod_history
from tradeloom.risk_monitor.domain.eod_marks import SymbolDay, unrealised_by_day

D = Decimal
D1 = date(2026, 11, 30)


def test_unrealised_at_each_close_uses_kept_marks_else_the_last_fill_price() -> None:
    """Day 1: buy 2 BTC at 100 (cost 200). Day 2: sell 1 at 120 (realised 20, cost 200 − 120 = 80)
    and short 1 ETH at 50. Day 4's close has kept marks BTC 130, ETH 40.
    Day 1: 2 × 100 − 200 − 0 = 0 (last fill price). Day 2: BTC 1 × 120 − 80 − 20 = 20, ETH −1 × 50 + 50
    = 0 → 20. Day 3: no fills, same marks → 20. Day 4: BTC 130 − 80 − 20 = 30, ETH −40 + 50 = 10 → 40.
    """
    flows = {
        D1: {"BTC/USDT:USDT": SymbolDay(D(2), D(200), D(0), D(100))},
        D1 + timedelta(days=1): {
            "BTC/USDT:USDT": SymbolDay(D(-1), D(-120), D(20), D(120)),
            "ETH/USDT": SymbolDay(D(-1), D(-50), D(0), D(50)),
        },
    }
    marks = {D1 + timedelta(days=3): {"BTC/USDT:USDT": D(130), "ETH/USDT": D(40)}}
    got = unrealised_by_day(D1, D1 + timedelta(days=3), flows, marks)
    assert list(got.values()) == [D(0), D(20), D(20), D(40)]
    # starting 1000, realised 20 on day 2: closes 1000, 1040, 1040, 1060
    rows = eod_history(
        D1, D1 + timedelta(days=3), {D1 + timedelta(days=1): D(20)}, D(1000), D(50), unrealised=got
    )
    assert [(r.day_pnl, r.balance, r.high_water) for r in rows] == [
        (D(0), D(1000), D(1000)),
        (D(20), D(1040), D(1040)),
        (D(0), D(1040), D(1040)),
        (D(0), D(1060), D(1060)),
    ]
    # flows before the first day count; a flat symbol adds nothing
    later = unrealised_by_day(D1 + timedelta(days=3), D1 + timedelta(days=3), flows, {})
    assert later == {D1 + timedelta(days=3): D(20)}
