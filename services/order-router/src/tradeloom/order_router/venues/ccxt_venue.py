"""``CcxtVenue``: the ``VenueAdapter`` over ``ccxt.async_support`` for any supported exchange."""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import time
from collections.abc import Awaitable, Callable, Mapping
from decimal import Decimal
from typing import Any, TypeVar

import ccxt.async_support as ccxt
import ccxt.pro as ccxt_pro

from tradeloom.order_router.credentials import ApiCredentials
from tradeloom.order_router.venues.algo_orders import (
    CONDITIONAL_KINDS,
    algo_info,
    conditional_problem,
    is_algo_market,
    is_waiting_algo,
    parse_any,
    triggered_order_id,
)
from tradeloom.order_router.venues.catalog import is_supported
from tradeloom.order_router.venues.ccxt_params import create_params
from tradeloom.order_router.venues.ccxt_parse import parse_balances, parse_fill, parse_order
from tradeloom.order_router.venues.errors import (
    NotSupported,
    OrderNotFound,
    VenueError,
    map_ccxt_error,
)
from tradeloom.order_router.venues.models import (
    Balance,
    ConnectionCheck,
    Permissions,
    PlaceOrder,
    VenueFill,
    VenueOrder,
)
from tradeloom.order_router.venues.permissions import read_permissions
from tradeloom.order_router.venues.venue_wallets import Wallet, read_wallets

T = TypeVar("T")


class CcxtVenue:
    """One venue account through ccxt: rate limits on, a deadline on every call, our errors out.

    The exchange object is ccxt pro's where ccxt pro has the venue (its REST calls are the same;
    it adds the websocket ``watch_*`` calls), else ccxt's async one. ``api_urls`` replaces entries
    of the exchange's ``urls['api']`` (a local stand-in venue in tests, a regional host in
    production); a dotted name (``ws.ws-api.spot``) replaces a nested entry. ``options`` is merged
    into ccxt's exchange options."""

    def __init__(
        self,
        venue: str,
        credentials: ApiCredentials,
        *,
        sandbox: bool = False,
        timeout_s: float = 10.0,
        api_urls: Mapping[str, str] | None = None,
        options: Mapping[str, Any] | None = None,
        fill_page_size: int = 500,
        max_fill_pages: int = 100,
    ) -> None:
        if not is_supported(venue):
            raise NotSupported(f"venue: {venue!r} is not a ccxt exchange with the calls order-router needs")
        self.venue = venue
        self.timeout_s = timeout_s
        config: dict[str, Any] = {
            "apiKey": credentials.api_key,
            "secret": credentials.secret,
            "enableRateLimit": True,
            "timeout": int(timeout_s * 1000),
            # asking for all open orders is deliberate (reconciliation); do not refuse it
            "options": {
                "warnOnFetchOpenOrdersWithoutSymbol": False,
                # fill streams only: no position snapshot behind a futures subscription
                "watchPositions": {"fetchPositionsSnapshot": False},
                **(options or {}),
            },
        }
        if credentials.passphrase:
            config["password"] = credentials.passphrase
        self._exchange: Any = getattr(ccxt_pro if hasattr(ccxt_pro, venue) else ccxt, venue)(config)
        if sandbox:
            self._exchange.set_sandbox_mode(True)
        for name, url in (api_urls or {}).items():
            _replace_url(self._exchange.urls, ["api", *name.split(".")], url)
        self._markets_loaded = False
        self._perp_settings: dict[str, tuple[int, str]] = {}  # symbol -> (leverage, margin mode) set
        self._position_mode: bool | None = None  # hedged? as last checked or set at the venue
        self.fill_page_size = fill_page_size
        self.max_fill_pages = max_fill_pages

    @property
    def supports_bracket(self) -> bool:
        """A bracket's two exits can rest at this venue as its own conditional orders (ccxt's
        ``createStopLossOrder`` and ``createTakeProfitOrder``); order-router pairs them (OCO)."""
        has = self._exchange.has
        return bool(has.get("createStopLossOrder")) and bool(has.get("createTakeProfitOrder"))

    @property
    def supports_hedge(self) -> bool:
        """ccxt can switch this venue's position mode (``setPositionMode``): hedge mode possible."""
        return bool(self._exchange.has.get("setPositionMode"))

    @property
    def supports_amend(self) -> bool:
        return bool(self._exchange.has.get("editOrder"))

    @property
    def supports_fill_stream(self) -> bool:
        """True when ccxt pro pushes this venue's own trades (``watchMyTrades``)."""
        return isinstance(self._exchange, ccxt_pro.Exchange) and bool(self._exchange.has.get("watchMyTrades"))

    async def fill_stream_kinds(self) -> list[str]:
        """The streams that push this account's fills: ``spot`` and, when linear perpetuals are
        among the loaded markets, ``future`` (ccxt's market type names). Options have none."""
        if not self.supports_fill_stream:
            return []
        await self._load_markets()
        markets = self._exchange.markets.values()
        kinds = ["spot"] if any(m.get("spot") for m in markets) else []
        # ccxt pro has no user stream for Binance options (eapi): their fills are polled
        return kinds + (["future"] if any(m.get("linear") and m.get("swap") for m in markets) else [])

    async def watch_fills(self, kind: str = "spot") -> list[VenueFill]:
        """The account's next fills of one market type (``fill_stream_kinds``) pushed over the
        venue's websocket (ccxt pro subscribes on the first call and reconnects on a later one).
        No deadline: it waits for the next fill; a lost socket raises (``VenueUnavailable``), and
        what it missed is for reconciliation to find."""
        if not self.supports_fill_stream:
            raise NotSupported(f"{self.venue} pushes no fills through ccxt pro; poll them")
        await self._load_markets()
        try:
            raws = await self._exchange.watch_my_trades(None, None, None, {"type": kind})
        except ccxt.BaseError as error:
            raise map_ccxt_error(error) from None
        return [parse_fill(raw) for raw in raws]

    async def _load_markets(self) -> None:
        if not self._markets_loaded:
            try:
                async with asyncio.timeout(self.timeout_s):
                    await self._exchange.load_markets()
            except (ccxt.BaseError, TimeoutError) as error:
                raise map_ccxt_error(error) from None
            self._markets_loaded = True

    async def _call(self, make: Callable[[], Awaitable[T]], *, placing: bool = False) -> T:
        """Run one ccxt call under a deadline; ccxt's own per-request timeout is the same value,
        this one also bounds its rate-limit wait. Markets load first, under their own deadline."""
        await self._load_markets()
        try:
            async with asyncio.timeout(self.timeout_s):
                return await make()
        except (ccxt.BaseError, TimeoutError) as error:
            raise map_ccxt_error(error, placing=placing) from None

    async def place(self, order: PlaceOrder) -> VenueOrder:
        """Market and limit orders; stop and take-profit ones as ccxt's ``triggerPrice`` and
        ``takeProfitPrice``, trailing stops as its ``trailingPercent`` (the venue's own conditional
        order types: on a Binance USDⓈ-M perpetual an algo order, ``algo_orders``). Options:
        limit only. What ``conditional_problem`` refuses is for the caller to refuse first."""
        await self._load_markets()
        market = self._exchange.market(order.symbol)
        params = create_params(order, market)
        if market.get("swap"):
            await self.prepare_perp(
                order.symbol, leverage=order.leverage or 1, margin_mode=order.margin_mode,
                hedged=order.position_side is not None,
            )  # fmt: skip
        price = str(order.price) if order.is_limit else None
        kind = "limit" if order.is_limit else "market"
        raw = await self._call(
            lambda: self._exchange.create_order(
                order.symbol, kind, order.side, str(order.quantity), price, params
            ),
            placing=True,
        )
        return parse_any(raw)

    async def conditional_problem(
        self, symbol: str, kind: str, trailing_percent: Decimal | None = None
    ) -> tuple[str, str] | None:
        """(field, why) when this venue cannot rest a ``kind`` order on ``symbol`` through
        order-router, else None: where ccxt routes each venue's conditional orders is known here
        (``algo_orders.conditional_problem``)."""
        if kind not in CONDITIONAL_KINDS:
            return None
        await self._load_markets()
        market = self._exchange.markets.get(symbol) or {}
        return conditional_problem(self.venue, symbol, market, kind, trailing_percent)

    def _algo_market(self, symbol: str) -> bool:
        return is_algo_market(self.venue, self._exchange.markets.get(symbol) or {})

    async def prepare_perp(
        self, symbol: str, *, leverage: int, margin_mode: str, hedged: bool = False
    ) -> None:
        """Before the first order on a perpetual (and when its leverage, margin mode or position
        mode changes): the position mode the order needs (one-way, or hedge when it names a
        ``position_side``; checked once per adapter and mode, switched if the venue is in the
        other: at Binance it is account-wide, so a one-way and a hedge symbol of one account
        conflict, and the venue refuses the switch while a position or order is open), the margin
        mode, then the leverage. Each is sent once, not with every order."""
        if self._position_mode is not hedged:
            mode = await self._call(lambda: self._exchange.fetch_position_mode(symbol))
            if bool(mode.get("hedged")) is not hedged:
                await self._call(lambda: self._exchange.set_position_mode(hedged, symbol))
            self._position_mode = hedged
        if self._perp_settings.get(symbol) == (leverage, margin_mode):
            return
        if not self._exchange.has.get("setMarginMode"):  # the order is rejected, never sent
            raise NotSupported(f"margin_mode: {self.venue} has no margin mode switch through ccxt")
        # risk-monitor's margin mode (cross or isolated); ccxt answers "no need to change"
        # (Binance -4046) as success
        await self._call(lambda: self._exchange.set_margin_mode(margin_mode, symbol))
        await self._call(lambda: self._exchange.set_leverage(leverage, symbol))
        self._perp_settings[symbol] = (leverage, margin_mode)

    async def cancel(
        self,
        symbol: str,
        *,
        venue_order_id: str | None = None,
        client_order_id: str | None = None,
        conditional: bool = False,
    ) -> VenueOrder:
        """Cancel by venue id or client id (one of them). ``conditional`` (by client id): the
        order may be a Binance USDⓈ-M algo order; one not triggered is cancelled through the
        algo-order API (its answer carries no status: success is canceled), a triggered one as
        the normal order it became."""
        if (venue_order_id is None) == (client_order_id is None):
            raise ValueError("cancel needs exactly one of venue_order_id and client_order_id")
        await self._load_markets()
        if conditional and client_order_id is not None and self._algo_market(symbol):
            found = await self.fetch_order_by_client_id(symbol, client_order_id)
            if found is None:
                raise OrderNotFound(f"{symbol}: no order {client_order_id!r} at {self.venue}")
            if is_waiting_algo(found):
                params = {"clientOrderId": client_order_id, "trigger": True}
                await self._call(lambda: self._exchange.cancel_order("", symbol, params))
                return dataclasses.replace(found, status="canceled")
            raw = await self._call(lambda: self._exchange.cancel_order(found.venue_order_id, symbol))
            return dataclasses.replace(parse_order(raw), client_order_id=client_order_id)
        params = {} if client_order_id is None else {"clientOrderId": client_order_id}
        raw = await self._call(lambda: self._exchange.cancel_order(venue_order_id or "", symbol, params))
        return parse_order(raw)

    async def amend(
        self, order: VenueOrder, *, quantity: Decimal | None = None, price: Decimal | None = None
    ) -> VenueOrder:
        """ccxt's ``editOrder``; the order keeps its client id. Some venues (Binance spot) amend by
        cancel-and-replace: the answer then carries a new venue order id and ``quantity`` is the
        new order's full quantity (pass the remaining quantity for a partially filled order)."""
        if not self.supports_amend:
            raise NotSupported(f"{self.venue} does not amend orders; cancel and place a new one")
        new_quantity = str(quantity if quantity is not None else order.quantity)
        new_price = price if price is not None else order.price
        params = {"clientOrderId": order.client_order_id} if order.client_order_id else {}
        raw = await self._call(
            lambda: self._exchange.edit_order(
                order.venue_order_id,
                order.symbol,
                order.kind,
                order.side,
                new_quantity,
                None if new_price is None else str(new_price),
                params,
            ),
            placing=True,
        )
        return parse_order(raw)

    async def fetch_open_orders(self, symbol: str | None = None) -> list[VenueOrder]:
        """Open orders; of a Binance USDⓈ-M perpetual also its algo orders waiting to trigger."""
        raws = await self._call(lambda: self._exchange.fetch_open_orders(symbol))
        orders = [parse_order(raw) for raw in raws]
        if symbol is not None and self._algo_market(symbol):
            algos = await self._call(
                lambda: self._exchange.fetch_open_orders(symbol, None, None, {"trigger": True})
            )
            orders += [parse_any(raw) for raw in algos]
        return orders

    async def fetch_order_by_client_id(self, symbol: str, client_order_id: str) -> VenueOrder | None:
        """The order under this client id; on a Binance USDⓈ-M perpetual, when there is no normal
        one, the algo order (``clientAlgoId``), followed to the order it became once triggered
        (that order under our client id: its fills are ours)."""
        try:
            raw = await self._call(
                lambda: self._exchange.fetch_order_with_client_order_id(client_order_id, symbol)
            )
        except OrderNotFound:
            if not self._algo_market(symbol):
                return None
            return await self._fetch_algo(symbol, client_order_id)
        return parse_order(raw)

    async def _fetch_algo(self, symbol: str, client_order_id: str) -> VenueOrder | None:
        params = {"clientOrderId": client_order_id, "trigger": True}
        try:
            raw = await self._call(lambda: self._exchange.fetch_order("", symbol, params))
        except OrderNotFound:
            return None
        info = algo_info(raw) or {}
        actual = triggered_order_id(info)
        if actual is None:
            return parse_any(raw)
        triggered = await self._call(lambda: self._exchange.fetch_order(actual, symbol))
        return dataclasses.replace(parse_order(triggered), client_order_id=client_order_id)

    async def fetch_fills_since(self, symbol: str, since_ms: int | None) -> list[VenueFill]:
        """Every fill from ``since_ms`` on, page by page (a page restarts at the newest timestamp
        of the previous one; fills seen twice at that boundary are dropped by id). A full page of
        fills all in one millisecond would end the paging early: ``fill_page_size`` must exceed
        the most fills the account can have in one millisecond."""
        fills: dict[str, VenueFill] = {}
        cursor = since_ms
        for _ in range(self.max_fill_pages):
            page = functools.partial(self._exchange.fetch_my_trades, symbol, cursor, self.fill_page_size)
            raws = await self._call(page)
            new = [fill for fill in map(parse_fill, raws) if fill.venue_fill_id not in fills]
            fills.update((fill.venue_fill_id, fill) for fill in new)
            if len(raws) < self.fill_page_size or not new:
                break
            cursor = max(fill.timestamp_ms for fill in new)
        return sorted(fills.values(), key=lambda fill: (fill.timestamp_ms, fill.venue_fill_id))

    async def fetch_balances(self) -> list[Balance]:
        return parse_balances(await self._call(self._exchange.fetch_balance))

    async def fetch_mark_price(self, symbol: str) -> Decimal | None:
        """A perpetual's mark price at the venue (Binance USDⓈ-M: ``premiumIndex``); ``None``: none."""
        ticker = await self._call(lambda: self._exchange.fetch_mark_price(symbol))
        mark = ticker.get("markPrice") or ticker.get("last")
        return None if mark is None else Decimal(str(mark))

    async def fetch_best_bid(self, symbol: str) -> Decimal | None:
        """The best bid of the venue's order book of ``symbol`` (an option: Binance's ``eapi``
        depth); ``None``: nobody bids."""
        book = await self._call(lambda: self._exchange.fetch_order_book(symbol))
        bids = book.get("bids") or []
        return Decimal(str(bids[0][0])) if bids else None

    async def fetch_wallets(self) -> list[Wallet]:
        """The venue's separate wallets (spot, futures, options: ``venue_wallets``)."""
        await self._load_markets()
        return await read_wallets(self._exchange, self._call)

    async def fetch_permissions(self) -> Permissions:
        return await self._call(lambda: read_permissions(self._exchange))

    async def test_connection(self) -> ConnectionCheck:
        """Latency is that of one authenticated balance request (markets are loaded before)."""
        started = time.perf_counter()
        try:
            await self._load_markets()
            started = time.perf_counter()
            balances = await self.fetch_balances()
            latency = (time.perf_counter() - started) * 1000
            permissions = await self.fetch_permissions()
        except VenueError as error:
            latency = (time.perf_counter() - started) * 1000
            return ConnectionCheck(ok=False, latency_ms=latency, answer=error.message, error_code=error.code)
        answer = f"authenticated; {len(balances)} assets with a balance"
        return ConnectionCheck(ok=True, latency_ms=latency, answer=answer, permissions=permissions)

    async def close(self) -> None:
        await self._exchange.close()
        if self._exchange.session is not None:
            # a request ccxt had queued behind its rate limiter reopened the session while closing
            await self._exchange.close()


def _replace_url(urls: dict[str, Any], path: list[str], url: str) -> None:
    """Set ``urls[path[0]]...[path[-1]] = url``, copying each nested dict on the way (ccxt shares
    them between instances of one exchange class)."""
    head, *rest = path
    if not rest:
        urls[head] = url
        return
    nested = dict(urls.get(head) or {})
    _replace_url(nested, rest, url)
    urls[head] = nested
