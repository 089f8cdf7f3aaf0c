"""Option analytics ops: Greeks and implied volatility (single and batch) and the mark-to-market and
payoff of a multi-leg position. Stateless: everything comes from the request (no owner to check)."""

from __future__ import annotations

import numpy as np

from tradeloom.analytics.domain import options
from tradeloom.quant.options import Greeks as QuantGreeks
from tradeloom.quant.options import black76, bsm, implied_vols
from tradeloom.quant.options.implied import price_bounds
from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.analytics_options import (
    Greeks,
    GreeksReply,
    GreeksRequest,
    IvReply,
    IvRequest,
    IvResult,
    LegValue,
    PayoffCurve,
    StrategyReply,
    StrategyRequest,
)
from tradeloom.shared.errors import field_invalid, require_user

NAMES = ("price", "delta", "gamma", "vega", "theta", "theta_day", "rho")


def greeks_at(g: QuantGreeks, index: int = 0, field: str = "items") -> Greeks:
    """The ``index``-th option's figures (0 for a single one); 422 naming ``field`` when the model has
    no finite value at these inputs (extremes of the allowed ranges)."""
    values = {name: float(np.ravel(getattr(g, name))[index]) for name in NAMES}
    if not all(np.isfinite(list(values.values()))):
        raise field_invalid(field, "the model has no finite value at these inputs")
    return Greeks(**values)


def _columns(items: list) -> dict[str, np.ndarray]:  # type: ignore[type-arg]
    return {
        "is_call": np.array([i.type == "call" for i in items]),
        "s": np.array([i.spot for i in items]), "k": np.array([i.strike for i in items]),
        "t": np.array([i.expiry_years for i in items]), "r": np.array([i.rate for i in items]),
        "q": np.array([i.dividend_yield for i in items]),
    }  # fmt: skip


def _yield(model: str, c: dict[str, np.ndarray]) -> np.ndarray:
    return c["r"] if model == "black76" else c["q"]  # Black-76: BSM with q = r


def _model_greeks(model: str, c: dict[str, np.ndarray], sigma: np.ndarray) -> QuantGreeks:
    if model == "black76":
        return black76(c["is_call"], c["s"], c["k"], c["t"], c["r"], sigma)
    return bsm(c["is_call"], c["s"], c["k"], c["t"], c["r"], c["q"], sigma)


class OptionsApi:
    async def greeks(self, caller: CallerContext, body: GreeksRequest) -> GreeksReply:
        require_user(caller)
        c = _columns(body.items)
        g = _model_greeks(body.model, c, np.array([i.volatility for i in body.items]))
        return GreeksReply(
            model=body.model, items=[greeks_at(g, n, f"items.{n}") for n in range(len(body.items))]
        )

    async def implied(self, caller: CallerContext, body: IvRequest) -> IvReply:
        require_user(caller)
        c = _columns(body.items)
        target = np.array([i.price for i in body.items])
        q = _yield(body.model, c)
        sigma, ok = implied_vols(target, c["is_call"], c["s"], c["k"], c["t"], c["r"], q)
        solved = np.where(ok, sigma, 1.0)
        g = _model_greeks(body.model, c, solved)
        lower, upper = price_bounds(c["is_call"], c["s"], c["k"], c["t"], c["r"], q)
        items = []
        for n in range(len(body.items)):
            if ok[n]:
                items.append(
                    IvResult(implied_volatility=float(sigma[n]), greeks=greeks_at(g, n, f"items.{n}"))
                )
            else:
                message = (
                    f"items.{n}.price: no volatility gives {target[n]:g}; it must lie strictly between "
                    f"{lower[n]:.10g} and {upper[n]:.10g}"
                )
                items.append(IvResult(implied_volatility=None, error="no_solution", message=message))
        return IvReply(model=body.model, items=items)

    async def strategy(self, caller: CallerContext, body: StrategyRequest) -> StrategyReply:
        require_user(caller)
        market = options.Market(body.spot, body.rate, body.dividend_yield, body.model)
        legs = [
            options.Leg(leg.type, leg.quantity, leg.entry_price, leg.strike or 0.0, leg.expiry_years or 0.0,
                        leg.volatility or 0.0)
            for leg in body.legs
        ]  # fmt: skip
        values: list[LegValue] = []
        total = dict.fromkeys(NAMES, 0.0)
        for leg in legs:
            g = greeks_at(options.leg_greeks(market, leg), 0, "legs")
            value = g.price * leg.quantity
            values.append(LegValue(value=value, pnl=value - leg.entry_price * leg.quantity, greeks=g))
            for name in NAMES[1:]:
                total[name] += getattr(g, name)
        value = sum(v.value for v in values)
        cost = sum(leg.entry_price * leg.quantity for leg in legs)
        total["price"] = value
        low, high = body.range_low or 0.7 * body.spot, body.range_high or 1.3 * body.spot
        prices = np.linspace(low, high, body.points)
        curves = []
        expiry = options.first_expiry(legs)
        if expiry is not None:
            pnl = options.pnl_curve(market, legs, prices, expiry)
            curves.append(PayoffCurve(label="expiry", horizon_years=expiry, pnl=pnl.tolist()))
        for horizon in body.horizons_years:
            pnl = options.pnl_curve(market, legs, prices, horizon)
            curves.append(PayoffCurve(label=f"t+{horizon:g}", horizon_years=horizon, pnl=pnl.tolist()))
        if not all(np.isfinite(curve.pnl).all() for curve in curves):
            raise field_invalid("legs", "the model has no finite value at these inputs")
        return StrategyReply(
            model=body.model, value=value, cost=cost, pnl=value - cost, greeks=Greeks(**total),
            legs=values, prices=prices.tolist(), curves=curves,
        )  # fmt: skip
