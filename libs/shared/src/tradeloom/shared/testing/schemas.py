"""A service's schema migrated to head with its own Alembic scripts, for tests that run the service."""

from __future__ import annotations

import asyncio
from types import ModuleType

from tradeloom.shared.migrations import find_migrations, migrate


async def migrate_service(service_module: ModuleType, database_url: str, schema: str) -> str:
    """Migrate ``schema`` with the scripts of the service that ``service_module`` (any module of
    its package, e.g. its ``app``) belongs to; returns ``schema``. Alembic runs in a thread."""
    await asyncio.to_thread(migrate, database_url, schema, find_migrations(service_module.__file__ or ""))
    return schema
