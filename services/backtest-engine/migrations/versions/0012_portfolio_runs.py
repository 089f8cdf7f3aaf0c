"""Portfolio runs: ``runs.kind`` 'portfolio', per-symbol results and each trade's symbol.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06
"""

from alembic import op

from tradeloom.shared.migrations import current_schema

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    s = current_schema()
    op.execute(f'ALTER TABLE "{s}".runs DROP CONSTRAINT runs_kind_check')
    op.execute(
        f'ALTER TABLE "{s}".runs ADD CONSTRAINT runs_kind_check '
        "CHECK (kind IN ('backtest', 'search', 'walk_forward', 'portfolio'))"
    )
    op.execute(f'ALTER TABLE "{s}".results ADD COLUMN portfolio jsonb')
    op.execute(
        f'COMMENT ON COLUMN "{s}".results.portfolio IS '
        "'a portfolio run: symbols, weights, allocations and per-symbol metrics; null otherwise'"
    )
    op.execute(f'ALTER TABLE "{s}".trades ADD COLUMN symbol text')


def downgrade() -> None:
    s = current_schema()
    op.execute(f"DELETE FROM \"{s}\".runs WHERE kind = 'portfolio'")
    op.execute(f'ALTER TABLE "{s}".trades DROP COLUMN symbol')
    op.execute(f'ALTER TABLE "{s}".results DROP COLUMN portfolio')
    op.execute(f'ALTER TABLE "{s}".runs DROP CONSTRAINT runs_kind_check')
    op.execute(
        f'ALTER TABLE "{s}".runs ADD CONSTRAINT runs_kind_check '
        "CHECK (kind IN ('backtest', 'search', 'walk_forward'))"
    )
