"""An outbox relay process that publishes a batch and dies before marking it (for test_outbox.py).

Usage: ``python relay_dies_after_publish.py '<json config>'`` with nats_url, database_url and
schema. The ``after_publish`` hook ends the process with ``os._exit(1)`` once JetStream has
acknowledged the batch, so the rows stay unmarked and locked only by a dead session.
Exits 2 when there was nothing to publish.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys

import nats

from tradeloom.shared.db import create_engine
from tradeloom.shared.nats_auth import admin_options
from tradeloom.shared.outbox import OutboxRelay


async def main(config: dict[str, str]) -> int:
    nc = await nats.connect(config["nats_url"], **admin_options())
    engine = create_engine(config["database_url"], application_name="doomed-relay")

    async def die(published: list[int]) -> None:
        if published:
            os._exit(1)  # published and acked by JetStream, not marked

    relay = OutboxRelay(
        engine, nc.jetstream(), config["schema"], database_url=config["database_url"], after_publish=die
    )
    await relay.relay_once()
    return 2


if __name__ == "__main__":
    sys.exit(asyncio.run(main(json.loads(sys.argv[1]))))
