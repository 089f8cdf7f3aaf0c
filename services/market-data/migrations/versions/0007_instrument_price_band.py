"""The instrument registry keeps each instrument's limit price band (``price_band_pct``).

order-router refuses a limit price outside last price × (1 ± band/100); null: no band (order-router
then falls back to its per-venue ``PRICE_BANDS`` setting).

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
    op.execute(
        f'ALTER TABLE "{s}".instruments ADD COLUMN price_band_pct numeric '
        "CHECK (price_band_pct > 0 AND price_band_pct < 100)"
    )


def downgrade() -> None:
    s = current_schema()
    op.execute(f'ALTER TABLE "{s}".instruments DROP COLUMN price_band_pct')
