"""Real venues: the ``VenueAdapter`` protocol, its ccxt implementation, and reconciliation."""

from tradeloom.order_router.venues.catalog import REQUIRED_CAPABILITIES, is_supported, supported_venues
from tradeloom.order_router.venues.ccxt_venue import CcxtVenue
from tradeloom.order_router.venues.connections import open_ccxt_venue, vet_new_key
from tradeloom.order_router.venues.models import (
    Balance,
    ConnectionCheck,
    Permissions,
    PlaceOrder,
    VenueFill,
    VenueOrder,
)
from tradeloom.order_router.venues.protocol import VenueAdapter
from tradeloom.order_router.venues.reconcile import (
    Action,
    ApplyFill,
    LocalOrder,
    MarkAccepted,
    MarkVanished,
    UpdateStatus,
    VenueView,
    reconcile,
)
from tradeloom.order_router.venues.venue_view import gather_venue_view

__all__ = [
    "REQUIRED_CAPABILITIES",
    "Action",
    "ApplyFill",
    "Balance",
    "CcxtVenue",
    "ConnectionCheck",
    "LocalOrder",
    "MarkAccepted",
    "MarkVanished",
    "Permissions",
    "PlaceOrder",
    "UpdateStatus",
    "VenueAdapter",
    "VenueFill",
    "VenueOrder",
    "VenueView",
    "gather_venue_view",
    "is_supported",
    "open_ccxt_venue",
    "reconcile",
    "supported_venues",
    "vet_new_key",
]
