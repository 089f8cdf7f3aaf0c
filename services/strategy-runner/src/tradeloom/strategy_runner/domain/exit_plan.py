"""Which orders rest a live bot's exits, and their bodies (pure, no I/O).

A bot holds one long position and has one base quantity to sell, so at most one sell may rest
for it, except order-router's **bracket**, whose stop leg (a stop-loss or a trailing stop) and
take-profit share one lock as an OCO pair. So:

- a stop-loss **and** a take-profit: the entry is sent as a bracket (order-router opens both);
- a trailing stop **and** a take-profit: the entry is sent as a bracket whose stop leg is the
  trailing stop (``trailing_stop_percent`` = ``trailing_stop × 100``; a stop-loss at least as wide
  beside it never binds first, so it is left out);
- a lone stop-loss: a ``stop_market`` sell at ``entry × (1 − stop_loss)``;
- a lone take-profit: a ``take_profit_market`` sell at ``entry × (1 + take_profit)``;
- a trailing stop: a ``trailing_stop`` sell trailing the highest trade since it rests by
  ``trailing_stop × 100`` percent. With a stop-loss at least as wide it is the same order (the
  trailing level starts at ``entry × (1 − trailing_stop)``, never below the stop-loss, and only
  rises); a tighter stop-loss would need two resting sells (three legs with a take-profit): refused.

The entry is the decided bar's close (the backtest's reference), levels on the instrument's tick
against the trader (``domain/bot_exits.exit_levels``). A lone exit is placed by the bot once its
entry is done with something filled, for the filled quantity, keyed ``entry bar + offset``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from tradeloom.strategy_runner.domain.bot_exits import ExitSettings

MAX_TRAILING = Decimal("0.5")  # order-router's trailing_percent is at most 50


@dataclass(frozen=True)
class LoneExit:
    """The one exit order of a filled entry that is not a bracket."""

    kind: str  # bot_orders.exit_kind: sl | tp | ts
    order_type: str  # stop_market | take_profit_market | trailing_stop
    offset: int  # its key: the entry's bar + offset (bar opens are whole seconds apart)
    stop_price: Decimal | None = None
    trailing_percent: Decimal | None = None

    @property
    def signal(self) -> str:
        """Its name in the decision log once it fills."""
        return EXIT_SIGNALS[self.kind]


EXIT_SIGNALS = {"sl": "stop_loss", "tp": "take_profit", "ts": "trailing_stop"}


def not_live(settings: ExitSettings) -> str | None:
    """Why a bot cannot rest these exits as orders, or None."""
    trailing = settings.trailing_stop
    if trailing is None:
        return None
    if trailing > MAX_TRAILING:
        return f"sink.trailing_stop of {trailing}: a bot's trailing stop is at most {MAX_TRAILING}"
    if settings.stop_loss is not None and settings.stop_loss < trailing:
        legs = "three exits (with sink.take_profit)" if settings.take_profit is not None else "two sells"
        return (
            f"sink.stop_loss tighter than sink.trailing_stop would rest {legs} of one position: "
            "give a stop-loss at least as wide as the trailing stop, or none"
        )
    return None


# order-router rests a trailing stop natively at these venues (Binance spot: STOP_LOSS with
# trailingDelta, whole bips from 0.1 to 20 %; a USDⓈ-M perpetual: TRAILING_STOP_MARKET with
# callbackRate, 0.1 to 10 % in steps of 0.1); anything else it refuses (422)
NATIVE_TRAILING_VENUES = frozenset({"binance"})
VENUE_TRAILING_PERCENT = (Decimal("0.1"), Decimal(20), Decimal("0.01"))  # low, high, step
PERP_TRAILING_PERCENT = (Decimal("0.1"), Decimal(10), Decimal("0.1"))
# mirrors order-router's ``venues.algo_orders.conditional_problem`` (services never import each
# other): conditional orders (every lone exit: stop_market, take_profit_market, trailing_stop) on a
# perpetual are taken on Binance USDⓈ-M only (linear: settled in its quote asset), through its
# algo-order API; and ``venue_orders.check_venue_order``: brackets on a venue are spot only
ALGO_EXIT_VENUES = frozenset({"binance", "binanceusdm"})


def is_linear_perp(symbol: str) -> bool:
    """ccxt's ``BTC/USDT:USDT``: a perpetual settled in its quote (not ``BTC/USD:BTC``, COIN-M,
    nor a dated future or option, ``BTC/USDT:USDT-250328``)."""
    pair, _, settle = symbol.partition(":")
    return "-" not in settle and settle == pair.partition("/")[2]


def not_on_venue(settings: ExitSettings, venue: str | None = None, symbols: Sequence[str] = ()) -> str | None:
    """Why a bot on an exchange account at ``venue`` trading ``symbols`` cannot rest these exits, or
    None (checked before the bot runs: an exit is only placed once the entry filled, and a refused
    one would leave the position without it). On a perpetual: lone exits on a Binance USDⓈ-M
    one only (``ALGO_EXIT_VENUES``), no bracket. A lone trailing stop goes as the venue's native
    trailing order where order-router sends one (``NATIVE_TRAILING_VENUES``, its percentage on the
    steps of every market the bot trades); a bracket's trailing leg is paper-only. A stop-loss with
    a take-profit goes as its venue bracket on spot (whether the venue takes one is order-router's
    answer when the entry is sent)."""
    derivatives = [symbol for symbol in symbols if ":" in symbol]  # ccxt: BTC/USDT:USDT
    if derivatives and settings.active:
        refused = _perp_problem(settings, venue, derivatives)
        if refused is not None:
            return refused
    trailing = settings.trailing_stop
    if trailing is None:
        return None
    if settings.take_profit is not None:
        return "sink.trailing_stop with sink.take_profit: an exchange account takes no trailing bracket leg"
    spot = len(derivatives) < len(symbols) or not symbols
    if venue not in (NATIVE_TRAILING_VENUES if spot else ALGO_EXIT_VENUES):
        return f"sink.trailing_stop: order-router rests no trailing stop at {venue} (binance only)"
    percent = trailing * 100
    grids = [VENUE_TRAILING_PERCENT] if spot else []
    grids += [PERP_TRAILING_PERCENT] if derivatives else []
    for low, high, step in grids:
        if not low <= percent <= high or percent % step != 0:
            return f"sink.trailing_stop of {trailing}: {venue} trails by {low}..{high} % in steps of {step}"
    return None


def _perp_problem(settings: ExitSettings, venue: str | None, derivatives: Sequence[str]) -> str | None:
    sinks = [f"sink.{name}" for name in ("stop_loss", "take_profit", "trailing_stop")
             if getattr(settings, name) is not None]  # fmt: skip
    other = next((s for s in derivatives if venue not in ALGO_EXIT_VENUES or not is_linear_perp(s)), None)
    if other is not None:
        return (
            f"{', '.join(sinks)} on {other}: order-router takes a derivative's stop, take-profit and "
            "trailing orders on Binance USDⓈ-M perpetuals only"
        )
    if is_bracket(settings):
        return f"{', '.join(sinks)} on {derivatives[0]}: an exchange account takes brackets on spot only"
    return None


def is_bracket(settings: ExitSettings) -> bool:
    """The entry goes as order-router's bracket: a take-profit with a stop-loss or a trailing stop."""
    return settings.take_profit is not None and settings.has_stop


def needs_levels(settings: ExitSettings) -> bool:
    """The entry's decision fixes price levels (on the instrument's tick): a take-profit's, a
    stop-loss's unless a trailing stop replaces it (that needs none)."""
    return settings.take_profit is not None or (
        settings.stop_loss is not None and settings.trailing_stop is None
    )


def bracket_trailing_percent(settings: ExitSettings) -> Decimal | None:
    """The trailing stop leg of a bracket entry (``trailing_stop_percent``), or None."""
    if settings.trailing_stop is None or not is_bracket(settings):
        return None
    return (settings.trailing_stop * 100).normalize()


def lone_exit(
    settings: ExitSettings, stop_loss_price: Decimal | None, take_profit_price: Decimal | None
) -> LoneExit | None:
    """The exit a filled entry gets from the bot, given the levels its decision recorded;
    None: none, or a bracket (order-router opens those)."""
    if is_bracket(settings):
        return None
    if settings.trailing_stop is not None:
        percent = (settings.trailing_stop * 100).normalize()
        return LoneExit("ts", "trailing_stop", 3, trailing_percent=percent)
    if stop_loss_price is not None:
        return LoneExit("sl", "stop_market", 1, stop_price=stop_loss_price)
    if take_profit_price is not None:
        return LoneExit("tp", "take_profit_market", 2, stop_price=take_profit_price)
    return None


def exit_client_id(entry_client_id: str, kind: str) -> str:
    """``<entry>-sl`` / ``-tp`` (as order-router names a bracket's) / ``-ts``."""
    return f"{entry_client_id[:60]}-{kind}"


def order_body(
    *, account_id: str, symbol: str, client_id: str, side: str, quantity: Decimal,
    order_type: str = "market", price: Decimal | None = None, stop_loss: Decimal | None = None,
    take_profit: Decimal | None = None, trailing_percent: Decimal | None = None,
) -> dict[str, Any]:  # fmt: skip
    """The ``orders_submit`` body of a bot's order: a market entry or exit (a bracket when a
    take-profit rides with a stop-loss or a trailing percent), a grid's GTC limit, or a resting
    exit (its ``price`` the stop price)."""
    body: dict[str, Any] = {
        "account_id": account_id, "client_order_id": client_id, "symbol": symbol, "side": side,
        "type": order_type, "quantity": quantity,
    }  # fmt: skip
    if order_type == "limit":
        body |= {"price": price, "time_in_force": "gtc"}
    elif order_type in ("stop_market", "take_profit_market"):
        body |= {"stop_price": price, "time_in_force": "gtc"}
    elif order_type == "trailing_stop":
        body |= {"trailing_percent": trailing_percent, "time_in_force": "gtc"}
    elif stop_loss is not None and take_profit is not None:
        body |= {"stop_loss_price": stop_loss, "take_profit_price": take_profit}
    elif trailing_percent is not None and take_profit is not None:
        body |= {"trailing_stop_percent": trailing_percent, "take_profit_price": take_profit}
    return body
