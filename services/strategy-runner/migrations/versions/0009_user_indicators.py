"""User indicators: a user's own indicator (Python code run only in the sandbox, or a builder graph
whose ``sink.output`` nodes are its outputs), with immutable numbered versions like a strategy.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

from alembic import op

from tradeloom.shared.migrations import current_schema

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    s = current_schema()
    statements = [
        f"""CREATE TABLE "{s}".user_indicators (
            id uuid PRIMARY KEY,
            user_id text NOT NULL,
            name text NOT NULL,
            kind text NOT NULL DEFAULT 'code' CHECK (kind IN ('code', 'graph')),
            description text NOT NULL DEFAULT '',
            latest_version integer NOT NULL DEFAULT 1 CHECK (latest_version >= 1),
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT user_indicators_user_name_key UNIQUE (user_id, name))""",
        f'CREATE INDEX user_indicators_user_newest_idx ON "{s}".user_indicators (user_id, id DESC)',
        f"""CREATE TABLE "{s}".user_indicator_versions (
            indicator_id uuid NOT NULL REFERENCES "{s}".user_indicators (id) ON DELETE CASCADE,
            version integer NOT NULL CHECK (version >= 1),
            code text,
            graph jsonb,
            params jsonb NOT NULL,
            note text NOT NULL DEFAULT '',
            created_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (indicator_id, version))""",
    ]
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    s = current_schema()
    op.execute(f'DROP TABLE IF EXISTS "{s}".user_indicator_versions')
    op.execute(f'DROP TABLE IF EXISTS "{s}".user_indicators')
