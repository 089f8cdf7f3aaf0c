"""A bot's executions in its sub-ledger: each order's average fill price, fees and last fill time,
from order-router's ``order_updated`` events (a bot's trades, positions and PnL are computed from them).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06
"""

from alembic import op

from tradeloom.shared.migrations import current_schema

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    s = current_schema()
    op.execute(
        f'ALTER TABLE "{s}".bot_orders ADD COLUMN average_price numeric, '
        "ADD COLUMN fees numeric NOT NULL DEFAULT 0, ADD COLUMN executed_at timestamptz"
    )
    op.execute(f'CREATE INDEX bot_orders_bot_bar_idx ON "{s}".bot_orders (bot_id, bar_ns DESC, symbol DESC)')


def downgrade() -> None:
    s = current_schema()
    op.execute(f'DROP INDEX IF EXISTS "{s}".bot_orders_bot_bar_idx')
    op.execute(
        f'ALTER TABLE "{s}".bot_orders DROP COLUMN executed_at, DROP COLUMN fees, DROP COLUMN average_price'
    )
