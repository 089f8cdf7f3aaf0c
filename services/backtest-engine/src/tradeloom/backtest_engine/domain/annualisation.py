"""How a run's returns are annualised: bars per year inferred from the data, or given by the request.

A market that closes at weekends and on holidays has about 252 daily bars a year, a 24/7 venue 365:
annualising on the timeframe alone (365 days / bar size) put daily stock Sharpe ratios √(365/252) ≈
1.2× off and stretched CAGR over bars instead of years. So the run's calendar span — first bar's
open to the last bar's end, ``last − first + bar`` — counts in years of 365 days (the platform's
convention: a 24/7 daily series is exactly 365 bars a year, hourly 8,760), and bars per year is
``bars / years`` unless the request names ``periods_per_year``. CAGR always uses the calendar
years (``tradeloom.quant.metrics.compute_metrics(years=…)``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from tradeloom.backtest_engine.domain.series import IntArray

YEAR_DAYS = 365
YEAR_NS = YEAR_DAYS * 86_400 * 1_000_000_000


@dataclass(frozen=True)
class Annualisation:
    periods_per_year: float
    source: Literal["inferred", "request"]
    years: float  # calendar years the bars span
    bar_ns: int  # one bar's duration, counted once for the last bar

    def as_json(self) -> dict[str, object]:
        return {
            "periods_per_year": self.periods_per_year,
            "source": self.source,
            "years": self.years,
            "year_days": YEAR_DAYS,
            "bar_ns": self.bar_ns,
        }


def annualise(time: IntArray, bar_ns: int, requested: float | None) -> Annualisation:
    """The convention for bars stamped ``time`` (ascending UTC ns, at least one) of ``bar_ns`` each.

    Integer arithmetic up to one division, so a gap-free series gives its exact rate (8,760.0)."""
    elapsed = int(time[-1]) - int(time[0]) + max(int(bar_ns), 1)
    years = elapsed / YEAR_NS
    if requested is not None:
        return Annualisation(float(requested), "request", years, int(bar_ns))
    return Annualisation(int(time.size) * YEAR_NS / elapsed, "inferred", years, int(bar_ns))
