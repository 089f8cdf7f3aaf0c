"""A live bot's protective exits: its entry's bracket levels, and the bracket's exit orders.

``bot_orders`` gains ``stop_loss_price`` and ``take_profit_price`` (an entry sent as an
order-router bracket: a resend sends the same levels) and ``exit_kind`` (``sl`` or ``tp``: one
of the OCO exits order-router opened for a filled entry, recorded from its first order update
under the key ``entry bar + 1`` or ``+ 2``; not counted as an open order of the bot).

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
    op.execute(
        f'ALTER TABLE "{s}".bot_orders ADD COLUMN stop_loss_price numeric, '
        "ADD COLUMN take_profit_price numeric, "
        "ADD COLUMN exit_kind text CHECK (exit_kind IN ('sl', 'tp'))"
    )


def downgrade() -> None:
    s = current_schema()
    op.execute(
        f'ALTER TABLE "{s}".bot_orders DROP COLUMN exit_kind, DROP COLUMN take_profit_price, '
        "DROP COLUMN stop_loss_price"
    )
