"""Historical imports: ccxt backfill jobs with their stored cursor, progress and gaps.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""

from alembic import op

from tradeloom.shared.migrations import current_schema

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    s = current_schema()
    op.execute(
        f"""CREATE TABLE "{s}".imports (
            import_id uuid PRIMARY KEY,
            venue text NOT NULL,
            symbol text NOT NULL,
            kind text NOT NULL CHECK (kind IN ('candles')),
            from_ns bigint NOT NULL,
            to_ns bigint NOT NULL CHECK (to_ns > from_ns),
            cursor_ns bigint NOT NULL,
            status text NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed')),
            pages integer NOT NULL DEFAULT 0,
            fetched integer NOT NULL DEFAULT 0,
            stored integer NOT NULL DEFAULT 0,
            retries integer NOT NULL DEFAULT 0,
            gaps jsonb NOT NULL DEFAULT '[]',
            error text,
            created_by text NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now(),
            lease_until timestamptz)"""
    )
    op.execute(
        f"CREATE INDEX imports_pending ON \"{s}\".imports (created_at) WHERE status IN ('queued', 'running')"
    )


def downgrade() -> None:
    s = current_schema()
    op.execute(f'DROP TABLE "{s}".imports')
