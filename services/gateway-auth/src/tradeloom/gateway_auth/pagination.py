"""Cursor pagination shared by every list: ``?limit=`` (1..200) and an opaque, signed ``?cursor=``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from fastapi import Query

from tradeloom.gateway_auth.domain.cursors import MAX_CURSOR_CHARS, InvalidCursor
from tradeloom.gateway_auth.errors import field_error
from tradeloom.gateway_auth.gateway import Gateway

MAX_PAGE = 200
RowT = TypeVar("RowT")


@dataclass(frozen=True)
class PageQuery:
    limit: int
    cursor: str | None


async def page_query(  # async: FastAPI runs a plain def dependency in a thread per request
    limit: int = Query(50, ge=1, le=MAX_PAGE, description=f"items per page (1..{MAX_PAGE})"),
    cursor: str | None = Query(
        None, min_length=1, max_length=MAX_CURSOR_CHARS, description="next_cursor of the previous page"
    ),
) -> PageQuery:
    return PageQuery(limit, cursor)


def after(gateway: Gateway, kind: str, query: PageQuery, kind_of: type = str) -> Any:
    """The position encoded in the cursor (None on the first page); 422 naming ``cursor`` if bad."""
    if query.cursor is None:
        return None
    try:
        position = gateway.cursors.decode(kind, query.cursor)
    except InvalidCursor as error:
        raise field_error("query.cursor", str(error)) from error
    if not isinstance(position, kind_of):
        raise field_error("query.cursor", "malformed cursor")
    return position


def page_of(
    gateway: Gateway, kind: str, rows: Sequence[RowT], limit: int, position: Callable[[RowT], Any]
) -> tuple[list[RowT], str | None]:
    """Rows were fetched with ``limit + 1``: the extra row only says another page exists."""
    items = list(rows[:limit])
    more = len(rows) > limit
    return items, (gateway.cursors.encode(kind, position(items[-1])) if more and items else None)
