"""Message identifiers: UUIDv7 for events, uuid5 for ingested market data (restart dedupe)."""

from __future__ import annotations

import uuid

import uuid6

MARKET_DATA_NAMESPACE = uuid.UUID("6f1c1c3e-2a41-4c55-9a55-4b7a7d1f0e11")


def new_event_id() -> str:
    """A time-ordered UUIDv7 string."""
    return str(uuid6.uuid7())


def market_data_id(venue: str, symbol: str, trade_id: str) -> str:
    """A deterministic id for an ingested trade: the same trade always maps to the same id."""
    return str(uuid.uuid5(MARKET_DATA_NAMESPACE, f"{venue}|{symbol}|{trade_id}"))


def parse_uuid(value: str) -> uuid.UUID | None:
    """``value`` as a UUID, or ``None`` when it is not one: an id that cannot exist is "not found",
    never a failed cast in Postgres."""
    try:
        return uuid.UUID(value)
    except ValueError:
        return None
