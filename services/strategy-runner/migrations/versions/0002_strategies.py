"""Saved strategies and their immutable, numbered versions.

``strategies.latest_version`` is the counter that numbers versions: adding one bumps it with an
atomic ``UPDATE … RETURNING``, which row-locks the strategy, so concurrent adds get distinct numbers.
Ids are UUIDv7 (time-ordered), so ``(user_id, id DESC)`` lists a user's strategies newest first.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from alembic import op

from tradeloom.shared.migrations import current_schema

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    s = current_schema()
    statements = [
        f"""CREATE TABLE "{s}".strategies (
            id uuid PRIMARY KEY,
            user_id text NOT NULL,
            name text NOT NULL,
            template text NOT NULL,
            description text NOT NULL DEFAULT '',
            latest_version integer NOT NULL DEFAULT 1 CHECK (latest_version >= 1),
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT strategies_user_name_key UNIQUE (user_id, name))""",
        f'CREATE INDEX strategies_user_newest_idx ON "{s}".strategies (user_id, id DESC)',
        f"""CREATE TABLE "{s}".strategy_versions (
            strategy_id uuid NOT NULL REFERENCES "{s}".strategies (id) ON DELETE CASCADE,
            version integer NOT NULL CHECK (version >= 1),
            params jsonb NOT NULL,
            note text NOT NULL DEFAULT '',
            created_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (strategy_id, version))""",
    ]
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    s = current_schema()
    op.execute(f'DROP TABLE IF EXISTS "{s}".strategy_versions')
    op.execute(f'DROP TABLE IF EXISTS "{s}".strategies')
