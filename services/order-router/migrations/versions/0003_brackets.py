"""Bracket orders: exit prices on the entry, and the OCO pair of exits it opens once it fills.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06
"""

from alembic import op

from tradeloom.shared.migrations import current_schema

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    s = current_schema()
    op.execute(
        f'ALTER TABLE "{s}".orders ADD COLUMN stop_loss_price numeric(38, 18), '
        "ADD COLUMN take_profit_price numeric(38, 18), "
        f'ADD COLUMN parent_id uuid REFERENCES "{s}".orders (id), ADD COLUMN oco_group uuid'
    )
    op.execute(f'CREATE INDEX orders_oco_idx ON "{s}".orders (oco_group) WHERE oco_group IS NOT NULL')


def downgrade() -> None:
    s = current_schema()
    op.execute(
        f'ALTER TABLE "{s}".orders DROP COLUMN oco_group, DROP COLUMN parent_id, '
        "DROP COLUMN take_profit_price, DROP COLUMN stop_loss_price"
    )
