"""``imports_*``: an admin starts a historical import (a job run by ``sources/history_import.py``);
everyone lists the jobs with their progress and gaps.

Validated before the job exists: the venue must be a configured ccxt venue (422 ``venue``), the
symbol one of its markets (422 ``symbol``), ``from_ns < to_ns`` (422 ``from_ns``) and the range at
most ``IMPORT_MAX_DAYS`` long (422 ``to_ns``), ``from_ns`` in the past (422 ``from_ns``; a
``to_ns`` in the future is cut at now).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from tradeloom.market_data.api_subscriptions import Forbidden
from tradeloom.market_data.domain.history_import import first_cursor, merge_gaps
from tradeloom.market_data.domain.symbols import SymbolError, normalise_symbol
from tradeloom.market_data.settings import MarketDataSettings
from tradeloom.market_data.store.imports_store import insert_import, list_imports
from tradeloom.market_data.store.instruments_store import instrument_exists
from tradeloom.shared.context import CallerContext
from tradeloom.shared.contracts.market_data_imports import (
    ImportGap,
    ImportJob,
    ImportsListRequest,
    ImportsReply,
    ImportStart,
)
from tradeloom.shared.errors import NotFound, field_invalid, require_user
from tradeloom.shared.ids import new_event_id, parse_uuid

DAY_NS = 86_400 * 10**9


def job_out(row: Any) -> ImportJob:
    span = row.to_ns - row.from_ns
    done = min(max(row.cursor_ns - row.from_ns, 0), span)
    gaps = merge_gaps([(g["from_ns"], g["to_ns"]) for g in row.gaps])
    return ImportJob(
        import_id=row.import_id, venue=row.venue, symbol=row.symbol, kind=row.kind, from_ns=row.from_ns,
        to_ns=row.to_ns, cursor_ns=row.cursor_ns, status=row.status,
        progress=1.0 if row.status == "done" else done / span, pages=row.pages, fetched=row.fetched,
        stored=row.stored, retries=row.retries, error=row.error, created_by=row.created_by,
        gaps=[ImportGap(from_ns=a, to_ns=b) for a, b in gaps],
        created_at_ns=row.created_at_ns, updated_at_ns=row.updated_at_ns,
    )  # fmt: skip


class ImportsApi:
    def __init__(self, engine: Callable[[], AsyncEngine], settings: MarketDataSettings) -> None:
        self._engine = engine
        self.settings = settings
        self.schema = settings.db_schema
        self.venues = {live.venue_name for live in settings.live_sources}

    def handlers(self) -> dict[str, Any]:
        return {"imports_start": self.start, "imports_list": self.list}

    async def start(self, caller: CallerContext, body: ImportStart) -> ImportJob:
        user = require_user(caller)
        if "admin" not in caller.roles:
            raise Forbidden("only an admin may import market data")
        if body.venue not in self.venues:
            known = ", ".join(sorted(self.venues)) or "none configured"
            raise field_invalid("venue", f"unknown ccxt venue {body.venue!r}: known venues are {known}")
        try:
            symbol = normalise_symbol(body.symbol)
        except SymbolError as error:
            raise field_invalid("symbol", str(error)) from None
        now = time.time_ns()
        if body.from_ns >= body.to_ns:
            raise field_invalid("from_ns", "must be before to_ns")
        if body.from_ns >= now:
            raise field_invalid("from_ns", "must be in the past")
        if body.to_ns - body.from_ns > self.settings.import_max_days * DAY_NS:
            raise field_invalid("to_ns", f"the range may span at most {self.settings.import_max_days} days")
        import_id = new_event_id()
        async with self._engine().begin() as connection:
            if not await instrument_exists(connection, self.schema, body.venue, symbol):
                raise field_invalid("symbol", f"{symbol} is not a market of venue {body.venue}")
            await insert_import(
                connection, self.schema,
                {"import_id": import_id, "venue": body.venue, "symbol": symbol, "kind": body.kind,
                 "from_ns": body.from_ns, "to_ns": min(body.to_ns, now),
                 "cursor_ns": first_cursor(body.from_ns), "created_by": user},
            )  # fmt: skip
        return (await self.list(caller, ImportsListRequest(import_id=import_id))).imports[0]

    async def list(self, _: CallerContext, body: ImportsListRequest) -> ImportsReply:
        if body.import_id is not None and parse_uuid(body.import_id) is None:
            raise field_invalid("import_id", "not an import id")
        async with self._engine().connect() as connection:
            rows = await list_imports(
                connection, self.schema, import_id=body.import_id, venue=body.venue, limit=body.limit
            )
        if body.import_id is not None and not rows:
            raise NotFound(f"no import {body.import_id}", details={"import_id": body.import_id})
        return ImportsReply(imports=[job_out(row) for row in rows])
