"""A consumer process that commits its effect and dies before it can ack (for test_consumer.py).

Usage: ``python consumer_dies_after_commit.py '<json config>'`` with nats_url, database_url,
schema, prefix and the consumer spec fields. The handler inserts one row into
``<schema>.effects``; the ``after_commit`` hook then ends the process with ``os._exit(1)``: no
ack, no clean NATS or Postgres shutdown, as if the pod were OOM-killed at the worst moment.
Exits 2 when no message arrives within 20 seconds.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys

import nats
from prometheus_client import CollectorRegistry
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from tradeloom.shared.consumer import ConsumerMetrics, DurableConsumer
from tradeloom.shared.db import create_engine
from tradeloom.shared.envelope import Envelope
from tradeloom.shared.nats_auth import admin_options
from tradeloom.shared.streams import ConsumerSpec
from tradeloom.shared.subjects import Subjects


async def main(config: dict[str, object]) -> int:
    schema = str(config["schema"])
    spec_fields = dict(config["spec"])  # type: ignore[call-overload]
    spec_fields["backoff_s"] = tuple(spec_fields["backoff_s"])
    spec = ConsumerSpec(**spec_fields)
    nc = await nats.connect(str(config["nats_url"]), **admin_options())
    engine = create_engine(str(config["database_url"]), application_name="doomed-consumer")

    async def apply(connection: AsyncConnection, envelope: Envelope) -> None:
        await connection.execute(
            text(f'INSERT INTO "{schema}".effects (event_id, applied_by) VALUES (:id, :by)'),
            {"id": envelope.id, "by": "doomed"},
        )

    async def die(_: Envelope) -> None:
        os._exit(1)  # committed, not acked

    consumer = DurableConsumer(
        js=nc.jetstream(),
        engine=engine,
        schema=schema,
        spec=spec,
        subjects=Subjects(str(config["prefix"])),
        handler=apply,
        metrics=ConsumerMetrics(CollectorRegistry()),
        fetch_timeout_s=0.2,
        after_commit=die,
    )
    stop = asyncio.Event()
    try:
        await asyncio.wait_for(consumer.run(stop), timeout=20)
    except TimeoutError:
        return 2
    return 3


if __name__ == "__main__":
    sys.exit(asyncio.run(main(json.loads(sys.argv[1]))))
