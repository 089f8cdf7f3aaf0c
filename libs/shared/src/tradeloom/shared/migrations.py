"""Alembic per service: schema per service, version table inside it, advisory lock, Timescale guarded.

A service's ``migrations/env.py`` is two lines: ``from tradeloom.shared.migrations import run_env;
run_env()``. ``migrate()`` runs it programmatically (``python -m tradeloom.<service> migrate``).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncConnection

from tradeloom.shared.db import check_schema_name, create_engine

log = logging.getLogger(__name__)

# Alembic keeps the running migration context in module globals (``alembic.context``), so two
# migrations in threads of one process would clobber each other; the Postgres advisory lock only
# serialises separate processes (replicas). This lock serialises threads of one process.
_ALEMBIC_LOCK = threading.Lock()


def advisory_lock_key(schema: str) -> str:
    return f"tradeloom.migrate.{schema}"


def migration_config(url: str, schema: str, script_location: Path) -> Config:
    """An Alembic config for one service's migrations and schema (no ini file needed)."""
    config = Config()
    config.set_main_option("script_location", str(script_location))
    config.set_main_option("path_separator", "os")
    config.attributes["url"] = url
    config.attributes["schema"] = check_schema_name(schema)
    return config


def migrate(url: str, schema: str, script_location: Path, revision: str = "head") -> None:
    """Upgrade ``schema`` to ``revision``; safe to run from several replicas (or threads) at once."""
    with _ALEMBIC_LOCK:
        command.upgrade(migration_config(url, schema, script_location), revision)


def downgrade(url: str, schema: str, script_location: Path, revision: str = "base") -> None:
    with _ALEMBIC_LOCK:
        command.downgrade(migration_config(url, schema, script_location), revision)


def current_schema() -> str:
    """The schema being migrated, for use inside revision scripts."""
    schema = context.get_context().version_table_schema
    if not schema:
        raise RuntimeError("migrations must run through tradeloom.shared.migrations")
    return check_schema_name(schema)


def _run_sync(connection: Connection, schema: str) -> None:
    context.configure(
        connection=connection,
        version_table_schema=schema,
        include_schemas=False,
        transaction_per_migration=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_async(url: str, schema: str) -> None:
    engine = create_engine(url, application_name=f"migrate:{schema}", pooled=False)
    try:
        async with engine.connect() as connection:
            await connection.execute(
                text("SELECT pg_advisory_lock(hashtext(:key))"), {"key": advisory_lock_key(schema)}
            )
            await connection.commit()
            try:
                exists = await connection.execute(
                    text("SELECT 1 FROM pg_namespace WHERE nspname = :schema"), {"schema": schema}
                )
                if (
                    exists.first() is None
                ):  # CREATE SCHEMA needs CREATE on the database even with IF NOT EXISTS
                    await connection.execute(text(f'CREATE SCHEMA "{schema}"'))
                await connection.execute(text(f'SET search_path TO "{schema}"'))
                await connection.commit()
                await connection.run_sync(_run_sync, schema)
                await connection.commit()
            finally:
                await connection.rollback()  # a failed migration leaves the transaction aborted
                await connection.execute(
                    text("SELECT pg_advisory_unlock(hashtext(:key))"), {"key": advisory_lock_key(schema)}
                )
                await connection.commit()
    finally:
        await engine.dispose()


def run_env() -> None:
    """Body of every service's ``migrations/env.py`` (online, asyncpg)."""
    config = context.config
    url = config.attributes.get("url") or config.get_main_option("sqlalchemy.url")
    schema = config.attributes.get("schema") or config.get_main_option("tradeloom.schema")
    if not url or not schema:
        raise RuntimeError("run migrations with `python -m tradeloom.<service> migrate`")
    if context.is_offline_mode():
        raise RuntimeError("offline migrations are not supported")
    asyncio.run(_run_async(url, check_schema_name(schema)))


def create_outbox_and_inbox_sql(schema: str) -> list[str]:
    """DDL of the transactional outbox and the consumer inbox inside ``schema``."""
    s = check_schema_name(schema)
    return [
        f"""CREATE TABLE "{s}".outbox (
            seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            event_id text NOT NULL UNIQUE,
            subject text NOT NULL,
            payload bytea NOT NULL,
            headers jsonb NOT NULL DEFAULT '{{}}'::jsonb,
            created_at timestamptz NOT NULL DEFAULT now(),
            published_at timestamptz,
            attempts integer NOT NULL DEFAULT 0,
            last_error text)""",
        f'CREATE INDEX outbox_unpublished ON "{s}".outbox (seq) WHERE published_at IS NULL',
        f"""CREATE FUNCTION "{s}".outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN PERFORM pg_notify('{outbox_channel(s)}', ''); RETURN NULL; END $$""",
        f"""CREATE TRIGGER outbox_notify AFTER INSERT ON "{s}".outbox
            FOR EACH STATEMENT EXECUTE FUNCTION "{s}".outbox_notify()""",
        f"""CREATE TABLE "{s}".inbox (
            consumer text NOT NULL,
            message_id text NOT NULL,
            subject text NOT NULL,
            received_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (consumer, message_id))""",
        f'CREATE INDEX inbox_received_at ON "{s}".inbox (received_at)',
    ]


def drop_outbox_and_inbox_sql(schema: str) -> list[str]:
    s = check_schema_name(schema)
    return [
        f'DROP TABLE IF EXISTS "{s}".inbox',
        f'DROP TRIGGER IF EXISTS outbox_notify ON "{s}".outbox',
        f'DROP FUNCTION IF EXISTS "{s}".outbox_notify()',
        f'DROP TABLE IF EXISTS "{s}".outbox',
    ]


def outbox_channel(schema: str) -> str:
    """The LISTEN/NOTIFY channel that wakes the outbox relay of ``schema``."""
    return f"tl_outbox_{check_schema_name(schema)}"


async def timescale_available(connection: AsyncConnection) -> bool:
    """True when the TimescaleDB extension can be (or is) installed on this server."""
    result = await connection.execute(
        text("SELECT count(*) FROM pg_available_extensions WHERE name = 'timescaledb'")
    )
    return bool(result.scalar_one())


async def enable_timescale(connection: AsyncConnection) -> bool:
    """Install TimescaleDB when the server has it; False (and plain Postgres) otherwise."""
    if not await timescale_available(connection):
        log.info("timescaledb not available: using plain Postgres tables")
        return False
    await connection.execute(text("CREATE EXTENSION IF NOT EXISTS timescaledb"))
    return True


def timescale_available_sync(connection: Connection) -> bool:
    """The same guard for synchronous Alembic revision scripts (``op.get_bind()``)."""
    result = connection.execute(
        text("SELECT count(*) FROM pg_available_extensions WHERE name = 'timescaledb'")
    )
    return bool(result.scalar_one())


def find_migrations(package_file: str) -> Path:
    """A service's ``migrations/`` folder: inside the installed package, else the source tree.

    The wheel force-includes ``services/<name>/migrations`` as ``tradeloom/<pkg>/migrations``;
    an editable install finds it at ``services/<name>/migrations`` next to ``src/``.
    """
    package_dir = Path(package_file).resolve().parent
    for candidate in (package_dir / "migrations", package_dir.parents[2] / "migrations"):
        if (candidate / "env.py").is_file():
            return candidate
    raise FileNotFoundError(f"no migrations folder for {package_dir.name}")
