"""The interface order-router uses for any real venue (the paper exchange does not go through it)."""

from __future__ import annotations

from decimal import Decimal
from typing import Protocol

from tradeloom.order_router.venues.models import (
    Balance,
    ConnectionCheck,
    Permissions,
    PlaceOrder,
    VenueFill,
    VenueOrder,
)


class VenueAdapter(Protocol):
    """One authenticated connection to one venue account. Every method has a deadline and raises
    ``tradeloom.order_router.venues.errors.VenueError`` subclasses, never library exceptions."""

    venue: str

    @property
    def supports_amend(self) -> bool:
        """True when the venue amends price or quantity (in place, or by cancel-and-replace)."""

    @property
    def supports_fill_stream(self) -> bool:
        """True when the venue pushes the account's fills over a websocket (``watch_fills``)."""

    async def fill_stream_kinds(self) -> list[str]:
        """The market types whose fills the venue pushes (``spot``, ``future``), or none."""

    async def watch_fills(self, kind: str = "spot") -> list[VenueFill]:
        """The next fills of one kind the venue pushes; raises when the socket is lost (then reconcile)."""

    async def place(self, order: PlaceOrder) -> VenueOrder:
        """Send one order. ``OutcomeUnknown`` when it may have reached the venue without an answer."""

    async def cancel(
        self,
        symbol: str,
        *,
        venue_order_id: str | None = None,
        client_order_id: str | None = None,
        conditional: bool = False,
    ) -> VenueOrder:
        """Cancel by venue id or client id (one of them); ``conditional``: a stop, take-profit or
        trailing order, which some venues keep apart (Binance USDⓈ-M algo orders)."""

    async def amend(
        self, order: VenueOrder, *, quantity: Decimal | None = None, price: Decimal | None = None
    ) -> VenueOrder:
        """Change price and/or quantity (``NotSupported`` unless ``supports_amend``)."""

    async def fetch_open_orders(self, symbol: str | None = None) -> list[VenueOrder]:
        """Open orders, of one symbol or all."""

    async def fetch_order_by_client_id(self, symbol: str, client_order_id: str) -> VenueOrder | None:
        """The order the venue holds under this client id, or ``None`` if it never got it (a
        conditional order that triggered: the order it became, under this client id)."""

    async def fetch_fills_since(self, symbol: str, since_ms: int | None) -> list[VenueFill]:
        """The account's fills in ``symbol`` from ``since_ms`` (inclusive) on, oldest first."""

    async def fetch_balances(self) -> list[Balance]:
        """Non-zero balances per asset."""

    async def fetch_permissions(self) -> Permissions:
        """What the key may do, as far as the venue tells."""

    async def test_connection(self) -> ConnectionCheck:
        """A live authenticated call: its answer and latency (never raises for venue failures)."""

    async def close(self) -> None:
        """Release the HTTP session."""
