"""Positions per bot and venue: fills keep their order and venue, orders their client id, bot,
venue and creation time (the orders-per-minute count).

A fill's bot is its order's (``bot_id`` of ``orders``, from the client order id strategy-runner
gives its bots' orders); a fill seen before its order is folded under no bot ('') and moved to the
bot when the order's event arrives.

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
    for statement in (
        f"""ALTER TABLE "{s}".fills ADD COLUMN order_id text NOT NULL DEFAULT '',
            ADD COLUMN venue text NOT NULL DEFAULT ''""",
        f'CREATE INDEX fills_order_idx ON "{s}".fills (order_id)',
        f"""ALTER TABLE "{s}".positions ADD COLUMN venue text NOT NULL DEFAULT ''""",
        f"""ALTER TABLE "{s}".orders ADD COLUMN client_order_id text NOT NULL DEFAULT '',
            ADD COLUMN bot_id text NOT NULL DEFAULT '', ADD COLUMN venue text NOT NULL DEFAULT '',
            ADD COLUMN created_at timestamptz""",
        f'CREATE INDEX orders_created_idx ON "{s}".orders (account_id, created_at)',
    ):
        op.execute(statement)


def downgrade() -> None:
    s = current_schema()
    for statement in (
        f'DROP INDEX IF EXISTS "{s}".orders_created_idx',
        f'ALTER TABLE "{s}".orders DROP COLUMN client_order_id, DROP COLUMN bot_id, DROP COLUMN venue, '
        "DROP COLUMN created_at",
        f'ALTER TABLE "{s}".positions DROP COLUMN venue',
        f'DROP INDEX IF EXISTS "{s}".fills_order_idx',
        f'ALTER TABLE "{s}".fills DROP COLUMN order_id, DROP COLUMN venue',
    ):
        op.execute(statement)
