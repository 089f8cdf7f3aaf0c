"""Queue position: an account option, and the volume still ahead of a resting limit order.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06
"""

from alembic import op

from tradeloom.shared.migrations import current_schema

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    s = current_schema()
    op.execute(f'ALTER TABLE "{s}".accounts ADD COLUMN queue_position boolean NOT NULL DEFAULT false')
    op.execute(f'ALTER TABLE "{s}".orders ADD COLUMN queue_ahead numeric(38, 18) CHECK (queue_ahead >= 0)')


def downgrade() -> None:
    s = current_schema()
    op.execute(f'ALTER TABLE "{s}".orders DROP COLUMN queue_ahead')
    op.execute(f'ALTER TABLE "{s}".accounts DROP COLUMN queue_position')
