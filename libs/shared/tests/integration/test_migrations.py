"""Alembic per service: schema, outbox, inbox and version table inside the schema; idempotent,
safe to run concurrently (advisory lock), reversible; TimescaleDB guarded."""

from __future__ import annotations

import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tradeloom.shared.migrations import (
    downgrade,
    enable_timescale,
    find_migrations,
    migrate,
    timescale_available,
)
from tradeloom.shared.testing.postgres_server import PostgresServer

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

REPO = Path(__file__).resolve().parents[4]
# A migrations folder of the shared library's own (one revision: schema, outbox, inbox), so these
# tests do not change when a service adds revisions.
MIGRATIONS = Path(__file__).parent / "outbox_migrations"


@pytest.fixture
def fresh_schema(pg_server: PostgresServer, database_url: str) -> Iterator[str]:
    """A schema name that does not exist yet (migrate must create it), dropped afterwards."""
    schema = f"m_{uuid.uuid4().hex[:12]}"
    yield schema
    pg_server.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def tables(pg_server: PostgresServer, schema: str) -> set[str]:
    found = pg_server.execute(
        "SELECT coalesce(string_agg(table_name, ',' ORDER BY table_name), '') "
        f"FROM information_schema.tables WHERE table_schema = '{schema}'"
    )
    return set(filter(None, str(found).split(",")))


def version(pg_server: PostgresServer, schema: str) -> str | None:
    result = pg_server.execute(f'SELECT max(version_num) FROM "{schema}".alembic_version')
    return None if result is None else str(result)


def test_migrate_creates_schema_tables_and_version_table_inside(
    pg_server: PostgresServer, database_url: str, fresh_schema: str
) -> None:
    assert pg_server.execute(f"SELECT count(*) FROM pg_namespace WHERE nspname = '{fresh_schema}'") == 0
    migrate(database_url, fresh_schema, MIGRATIONS)
    assert tables(pg_server, fresh_schema) == {"alembic_version", "inbox", "outbox"}
    assert version(pg_server, fresh_schema) == "0001"
    # nothing leaked into public (the version table lives inside the service's schema)
    assert (
        pg_server.execute(
            "SELECT count(*) FROM information_schema.tables "
            "WHERE table_schema = 'public' AND table_name = 'alembic_version'"
        )
        == 0
    )
    trigger = pg_server.execute(
        "SELECT count(*) FROM information_schema.triggers "
        f"WHERE event_object_schema = '{fresh_schema}' AND trigger_name = 'outbox_notify'"
    )
    assert trigger == 1


def test_second_migrate_is_a_no_op(pg_server: PostgresServer, database_url: str, fresh_schema: str) -> None:
    migrate(database_url, fresh_schema, MIGRATIONS)
    pg_server.execute(
        f"INSERT INTO \"{fresh_schema}\".inbox (consumer, message_id, subject) VALUES ('c', 'm', 's')"
    )
    migrate(database_url, fresh_schema, MIGRATIONS)
    assert version(pg_server, fresh_schema) == "0001"
    assert pg_server.execute(f'SELECT count(*) FROM "{fresh_schema}".alembic_version') == 1
    assert pg_server.execute(f'SELECT count(*) FROM "{fresh_schema}".inbox') == 1  # data untouched


def test_schemas_are_migrated_independently(
    pg_server: PostgresServer, database_url: str, fresh_schema: str, db_schema: str
) -> None:
    migrate(database_url, fresh_schema, MIGRATIONS)
    migrate(database_url, db_schema, MIGRATIONS)  # the fixture created it empty: still migrates
    downgrade(database_url, db_schema, MIGRATIONS)
    assert tables(pg_server, fresh_schema) == {"alembic_version", "inbox", "outbox"}
    assert "outbox" not in tables(pg_server, db_schema)


def test_concurrent_migrations_in_threads_both_succeed(
    pg_server: PostgresServer, database_url: str, fresh_schema: str
) -> None:
    errors: list[BaseException] = []
    barrier = threading.Barrier(3)

    def run() -> None:
        try:
            barrier.wait(timeout=10)
            migrate(database_url, fresh_schema, MIGRATIONS)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=40)
    assert not errors, errors
    assert tables(pg_server, fresh_schema) == {"alembic_version", "inbox", "outbox"}
    assert pg_server.execute(f'SELECT count(*) FROM "{fresh_schema}".alembic_version') == 1


def test_concurrent_migrations_in_processes_both_succeed(
    pg_server: PostgresServer, database_url: str, fresh_schema: str
) -> None:
    """Replicas starting at once: separate processes, serialised by the advisory lock."""
    code = (
        "import sys; from pathlib import Path; from tradeloom.shared.migrations import migrate; "
        "migrate(sys.argv[1], sys.argv[2], Path(sys.argv[3]))"
    )
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", code, database_url, fresh_schema, str(MIGRATIONS)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        for _ in range(3)
    ]
    outputs = [process.communicate(timeout=40)[0].decode(errors="replace") for process in processes]
    assert [process.returncode for process in processes] == [0, 0, 0], outputs
    assert tables(pg_server, fresh_schema) == {"alembic_version", "inbox", "outbox"}


def test_downgrade_to_base_removes_the_tables(
    pg_server: PostgresServer, database_url: str, fresh_schema: str
) -> None:
    migrate(database_url, fresh_schema, MIGRATIONS)
    downgrade(database_url, fresh_schema, MIGRATIONS, "base")
    assert tables(pg_server, fresh_schema) <= {"alembic_version"}
    assert pg_server.execute(f'SELECT count(*) FROM "{fresh_schema}".alembic_version') == 0
    functions = pg_server.execute(
        "SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
        f"WHERE n.nspname = '{fresh_schema}'"
    )
    assert functions == 0
    migrate(database_url, fresh_schema, MIGRATIONS)  # and back up again
    assert tables(pg_server, fresh_schema) == {"alembic_version", "inbox", "outbox"}


def test_find_migrations_locates_a_service_folder() -> None:
    package_file = REPO / "services" / "market-data" / "src" / "tradeloom" / "market_data" / "__init__.py"
    assert find_migrations(str(package_file)) == REPO / "services" / "market-data" / "migrations"
    with pytest.raises(FileNotFoundError):
        find_migrations(str(REPO / "libs" / "shared" / "src" / "tradeloom" / "shared" / "__init__.py"))


async def test_timescale_guard_on_plain_postgres(db_engine: AsyncEngine) -> None:
    async with db_engine.connect() as connection:
        has_extension = (
            await connection.execute(
                text("SELECT count(*) FROM pg_available_extensions WHERE name = 'timescaledb'")
            )
        ).scalar_one()
        if has_extension:
            pytest.skip("this Postgres ships TimescaleDB; the guard is for servers without it")
        assert await timescale_available(connection) is False
        assert await enable_timescale(connection) is False
        installed = await connection.execute(
            text("SELECT count(*) FROM pg_extension WHERE extname = 'timescaledb'")
        )
        assert installed.scalar_one() == 0
