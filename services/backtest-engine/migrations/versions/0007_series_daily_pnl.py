"""Series keep the daily PnL (UTC day starts and the PnL of each day) beside the equity curve.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""

from alembic import op

from tradeloom.shared.migrations import current_schema

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    s = current_schema()
    op.execute(f'ALTER TABLE "{s}".series ADD COLUMN daily_ns bytea, ADD COLUMN daily_pnl bytea')
    op.execute(
        f'COMMENT ON COLUMN "{s}".series.daily_pnl IS '
        "'PnL per UTC day (little-endian float64) at the days of daily_ns (int64 ns); null: stored "
        "before 0007, then derived from the equity curve'"
    )


def downgrade() -> None:
    s = current_schema()
    op.execute(f'ALTER TABLE "{s}".series DROP COLUMN daily_ns, DROP COLUMN daily_pnl')
