"""Keyset pages for the services' list ops: one rule for "is there a next page" and its cursor.

A list op asks its store for ``fetch_size(limit)`` rows (one more than the page); the extra row
only says that another page exists and is never returned. The cursor is the key of the last row
returned, so the next page starts strictly after it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import TypeVar

from tradeloom.shared.errors import field_invalid
from tradeloom.shared.ids import parse_uuid

RowT = TypeVar("RowT")
ItemT = TypeVar("ItemT")

NOT_OURS = "not a cursor this service returned (use next_cursor)"


def fetch_size(limit: int) -> int:
    """How many rows to read for a page of ``limit``: the extra one tells whether there is more."""
    return limit + 1


def page_of(
    rows: Sequence[RowT],
    limit: int,
    convert: Callable[[RowT], ItemT],
    cursor_of: Callable[[ItemT], str],
) -> tuple[list[ItemT], str | None]:
    """The page's items (at most ``limit``, converted) and the next cursor (None on the last page).

    ``rows`` were read with ``fetch_size(limit)``; ``cursor_of`` gives the key of an item.
    """
    items = [convert(row) for row in rows[:limit]]
    more = len(rows) > limit
    return items, (cursor_of(items[-1]) if more and items else None)


def uuid_cursor(cursor: str | None, field: str = "cursor") -> uuid.UUID | None:
    """The id a uuid-keyed cursor holds (None on the first page); a 422 naming ``field`` otherwise."""
    if cursor is None:
        return None
    key = parse_uuid(cursor)
    if key is None:
        raise field_invalid(field, NOT_OURS)
    return key
