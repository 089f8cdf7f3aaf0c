"""Saved option strategies: a user's multi-leg option position on an underlying and its latest
valuation (revalued when a trade of the underlying moves its price).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

from alembic import op

from tradeloom.shared.migrations import current_schema

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    s = current_schema()
    op.execute(
        f"""CREATE TABLE "{s}".option_strategies (
            option_strategy_id text PRIMARY KEY,
            user_id text NOT NULL,
            name text NOT NULL,
            underlying text NOT NULL,
            venue text NOT NULL,
            model text NOT NULL,
            rate double precision NOT NULL,
            dividend_yield double precision NOT NULL,
            legs jsonb NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            valuation jsonb,
            marked_ts_ns bigint)"""
    )
    op.execute(f'CREATE INDEX option_strategies_user ON "{s}".option_strategies (user_id)')
    op.execute(f'CREATE INDEX option_strategies_underlying ON "{s}".option_strategies (venue, underlying)')


def downgrade() -> None:
    op.execute(f'DROP TABLE IF EXISTS "{current_schema()}".option_strategies')
