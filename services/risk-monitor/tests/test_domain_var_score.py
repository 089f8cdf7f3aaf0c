"""Portfolio VaR/CVaR and the risk score, worked by hand (pure domain code).

Two positions: 10 A at 100 (exposure +1000) and −5 B at 100 (−500). Five daily returns:
A +1 %, −2 %, +3 %, −4 %, +2 %; B +2 %, −1 %, +1 %, −3 %, 0 %. PnL = 1000 r_A − 500 r_B:
0, −15, +25, −25, +20 (sorted −25, −15, 0, 20, 25).

- historical VaR95 = −(percentile 5: −25 + 0.2 × 10) = 23; VaR99 = −(−25 + 0.04 × 10) = 24.6; CVaR
  (the worst int(4 × 0.05) + 1 = 1 PnL) = 25 at both levels.
- parametric: μ = 1, σ² = eᵀΣe = the sample variance of the PnL = (1 + 256 + 576 + 676 + 361) / 4
  = 467.5, σ = 21.62174831; VaR95 = 1.64485363 σ − 1 = 34.56461113, CVaR95 = σ φ(1.64485363) / 0.05
  − 1 = 43.59945716; VaR99 = 2.32634787 σ − 1 = 49.29970822, CVaR99 = σ φ(2.32634787) / 0.01 − 1
  = 56.62659107.
"""

from __future__ import annotations

from decimal import Decimal

from tradeloom.risk_monitor.domain.score import Component, ScoreInputs, components, score
from tradeloom.risk_monitor.domain.var import fraction, portfolio_var

DAY = 86_400_000_000_000
A = ["100", "101", "98.98", "101.9494", "97.871424", "99.82885248"]
B = ["100", "102", "100.98", "101.9898", "98.930106", "98.930106"]
EXPOSURES = {"A/USDT": Decimal(1000), "B/USDT": Decimal(-500)}


def bars(closes: list[str], start: int = 0) -> list[tuple[int, Decimal]]:
    return [((start + i) * DAY, Decimal(close)) for i, close in enumerate(closes)]


def test_worked_example_historical_and_parametric() -> None:
    result = portfolio_var(EXPOSURES, {"A/USDT": bars(A), "B/USDT": bars(B)}, lookback=5)
    assert (result.bars, result.from_ns, result.to_ns, result.insufficient) == (5, DAY, 5 * DAY, [])
    h95, h99 = result.historical[0.95], result.historical[0.99]
    assert (h95.var, h95.cvar, h99.var, h99.cvar) == (Decimal(23), Decimal(25), Decimal("24.6"), Decimal(25))
    p95, p99 = result.parametric[0.95], result.parametric[0.99]
    assert (p95.var, p95.cvar) == (Decimal("34.56461113"), Decimal("43.59945716"))
    assert (p99.var, p99.cvar) == (Decimal("49.29970822"), Decimal("56.62659107"))
    assert fraction(h99.var, Decimal(10000)) == Decimal("0.00246") and fraction(h99.var, None) is None


def test_short_history_is_named_and_left_out_and_windows_align() -> None:
    closes = {"A/USDT": bars(["90", *A]), "B/USDT": bars(B, start=1), "C/USDT": bars(["1", "2", "3"])}
    result = portfolio_var({**EXPOSURES, "C/USDT": Decimal(300)}, closes, lookback=5)
    assert result.insufficient == ["C/USDT"]
    assert (result.bars, result.historical[0.95].var) == (5, Decimal(23))
    unknown = portfolio_var({"C/USDT": Decimal(300)}, {}, lookback=5)
    assert (unknown.bars, unknown.insufficient, unknown.parametric[0.99].var) == (0, ["C/USDT"], 0)


def test_no_positions_are_zeros() -> None:
    result = portfolio_var({}, {}, lookback=250)
    assert (result.bars, result.from_ns, result.insufficient) == (0, None, [])
    assert all(m.var == m.cvar == 0 for m in (*result.historical.values(), *result.parametric.values()))


def test_a_gaining_tail_is_a_zero_loss() -> None:
    rising = bars(["100", "101", "102.01", "103.0301", "104.060401", "105.10100501"])
    result = portfolio_var({"A/USDT": Decimal(1000)}, {"A/USDT": rising}, lookback=5)
    assert result.historical[0.99].var == 0 and result.parametric[0.95].var == 0


def inputs(**changes: object) -> ScoreInputs:
    base: dict[str, object] = dict(
        equity=Decimal(10000), gross=Decimal(1500), largest=Decimal(1000), day_loss=Decimal(100),
        drawdown=Decimal(200), drawdown_room=None, var99=Decimal("24.6"), max_leverage=Decimal(2),
        max_daily_loss=Decimal(400),
    )  # fmt: skip
    return ScoreInputs(**(base | changes))  # type: ignore[arg-type]


def by_name(parts: list[Component]) -> dict[str, tuple[Decimal | None, Decimal, Decimal]]:
    return {p.name: (p.value, p.weight, p.sub_score) for p in parts}


def test_score_worked_example() -> None:
    """leverage 0.15 of 2 → 7.5; daily loss 100 of 400 → 25; drawdown 200 of 10 % × 10000 → 20;
    concentration 1000 / 1500 → 66.67; VaR99 24.6 / 10000 = 0.00246 of 0.10 → 2.46.
    0.25 × 7.5 + 0.2 × 25 + 0.2 × 20 + 0.15 × 66.67 + 0.2 × 2.46 = 21.3675 → 21."""
    parts = components(inputs())
    assert by_name(parts) == {
        "leverage": (Decimal("0.15"), Decimal("0.25"), Decimal("7.50")),
        "daily_loss": (Decimal(100), Decimal("0.2"), Decimal(25)),
        "drawdown": (Decimal(200), Decimal("0.2"), Decimal(20)),
        "concentration": (Decimal("0.66666667"), Decimal("0.15"), Decimal("66.67")),
        "var99": (Decimal("0.00246"), Decimal("0.2"), Decimal("2.46")),
    }
    assert score(parts) == 21


def test_score_without_equity_scales_the_measured_weights() -> None:
    """Only concentration (100) and daily loss (50 of 200 → 25): weights 0.15 and 0.20 scale to
    0.4286 and 0.5714: 42.86 + 14.285 = 57.145 → 57."""
    parts = by_name(components(inputs(equity=None, gross=Decimal(1000), day_loss=Decimal(50),
                                      max_daily_loss=Decimal(200))))  # fmt: skip
    assert parts["concentration"] == (Decimal(1), Decimal("0.4286"), Decimal(100))
    assert parts["daily_loss"] == (Decimal(50), Decimal("0.5714"), Decimal(25))
    assert parts["leverage"] == parts["var99"] == parts["drawdown"] == (None, Decimal(0), Decimal(0))
    assert score(components(inputs(equity=None, gross=Decimal(1000), day_loss=Decimal(50),
                                   max_daily_loss=Decimal(200)))) == 57  # fmt: skip


def test_score_bounds_calm_and_broke() -> None:
    calm = inputs(gross=Decimal(0), largest=Decimal(0), day_loss=Decimal(0), drawdown=Decimal(0),
                  var99=Decimal(0))  # fmt: skip
    assert score(components(calm)) == 1
    broke = inputs(equity=Decimal(-10), gross=Decimal(0), largest=Decimal(0), max_daily_loss=None,
                   max_leverage=None)  # fmt: skip
    # every equity-based component at 100, concentration 0: 0.25 + 0.2 + 0.2 + 0.2 = 0.85 → 85
    assert score(components(broke)) == 85
    over = inputs(
        gross=Decimal(90000),
        largest=Decimal(45000),
        day_loss=Decimal(900),
        drawdown=Decimal(5000),
        var99=Decimal(5000),
    )
    assert by_name(components(over))["leverage"][2] == 100 and score(components(over)) == 93  # 85 + 0.15 × 50
