"""Orders keep the trace context they were submitted in, so the paper match that fills them later
(on a market-data trade) continues the order's trace.

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
    op.execute(f'ALTER TABLE "{current_schema()}".orders ADD COLUMN traceparent text')


def downgrade() -> None:
    op.execute(f'ALTER TABLE "{current_schema()}".orders DROP COLUMN traceparent')
