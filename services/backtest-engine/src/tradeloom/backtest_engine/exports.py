"""Full series as CSV in the JetStream object store, streamed from there by the gateway.

The bucket is ``exports_bucket(subjects)`` — the one place its name is built: ``BACKTEST_EXPORTS``
inside the NATS namespace (``<PREFIX>_BACKTEST_EXPORTS`` with a prefix), file storage, objects
kept ``export_ttl_s``. Object names are ``<backtest_id>/<kind>.csv``; writing the same export
again replaces the object (same name), so retries are harmless.
"""

from __future__ import annotations

import io

from nats.js import JetStreamContext
from nats.js.api import ObjectStoreConfig, StorageType
from nats.js.errors import BucketNotFoundError
from nats.js.object_store import ObjectStore

from tradeloom.shared.subjects import Subjects

EXPORTS_BUCKET = "BACKTEST_EXPORTS"


def exports_bucket(subjects: Subjects) -> str:
    return subjects.stream(EXPORTS_BUCKET)


def object_name(backtest_id: str, kind: str) -> str:
    return f"{backtest_id}/{kind}.csv"


async def open_exports(js: JetStreamContext, subjects: Subjects, ttl_s: float) -> ObjectStore:
    """The exports bucket, created on first use."""
    bucket = exports_bucket(subjects)
    try:
        return await js.object_store(bucket)
    except BucketNotFoundError:
        config = ObjectStoreConfig(
            bucket=bucket,
            description="backtest CSV exports (backtest-engine)",
            ttl=ttl_s,
            storage=StorageType.FILE,
        )
        return await js.create_object_store(bucket, config=config)


async def put_csv(store: ObjectStore, name: str, payload: bytes) -> int:
    """Store ``payload`` (chunked by the client); returns its size."""
    info = await store.put(name, io.BytesIO(payload))
    return int(info.size or len(payload))
