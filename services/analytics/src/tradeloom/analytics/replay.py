"""Rebuild analytics from the streams: forget what was derived and replay.

``python -m tradeloom.analytics.replay`` (an operator's command, with analytics stopped) empties the
fills, bot tags, marks, daily equity (and its carries) and the inbox claims of analytics's durable
consumers, and deletes those durables (as the NATS admin identity: a service may not delete
consumers). The next ``python -m tradeloom.analytics run`` recreates the durables, which start at
the beginning of ORDERS and MD_CANDLES (trades: new only), and the rows come back identical
(test_replay).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys

import nats
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tradeloom.shared.db import check_schema_name, create_engine
from tradeloom.shared.nats_auth import admin_options
from tradeloom.shared.streams import CONSUMERS
from tradeloom.shared.subjects import Subjects

DERIVED = ("equity_carry", "daily_equity", "marks", "order_bots", "fills")
DURABLES = tuple(spec for spec in CONSUMERS if spec.durable.startswith("analytics_"))


async def reset(engine: AsyncEngine, schema: str, js: JetStreamContext, subjects: Subjects) -> None:
    """Empty the derived tables and inbox claims, delete the durables (idempotent)."""
    s = check_schema_name(schema)
    async with engine.begin() as conn:
        for table in DERIVED:
            await conn.execute(text(f'DELETE FROM "{s}".{table}'))
        await conn.execute(
            text(f'DELETE FROM "{s}".inbox WHERE consumer = ANY(:names)'),
            {"names": [spec.durable for spec in DURABLES]},
        )
    for spec in DURABLES:
        with contextlib.suppress(NotFoundError):
            await js.delete_consumer(subjects.stream(spec.stream), spec.durable)


async def _main() -> int:
    from tradeloom.analytics.settings import AnalyticsSettings  # the command's own settings

    settings = AnalyticsSettings.load()
    client = await nats.connect(
        settings.nats_url, connect_timeout=5, max_reconnect_attempts=0, **admin_options()
    )
    engine = create_engine(settings.sqlalchemy_url)
    try:
        await reset(engine, settings.db_schema, client.jetstream(), Subjects(settings.nats_prefix))
    finally:
        await engine.dispose()
        await client.close()
    sys.stdout.write(
        f"analytics schema {settings.db_schema} emptied, durables deleted: start analytics to replay\n"
    )
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1:
        sys.stderr.write("usage: python -m tradeloom.analytics.replay (settings from TL_ANALYTICS_*)\n")
        raise SystemExit(2)
    os.environ.setdefault("TL_ANALYTICS_LOG_JSON", "false")
    raise SystemExit(asyncio.run(_main()))
