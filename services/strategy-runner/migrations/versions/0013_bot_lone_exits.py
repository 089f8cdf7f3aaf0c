"""A live bot's lone exits: a trailing stop, or a stop-loss or take-profit without the other.

The bot places them itself once its entry fills (order-router's bracket needs both levels), as
``bot_orders`` rows: ``exit_kind`` gains ``ts`` (a trailing stop, key ``entry bar + 3``) and
``trailing_percent`` the distance it trails by (its stop price, for the others, is in ``price``).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06
"""

from alembic import op

from tradeloom.shared.migrations import current_schema

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    s = current_schema()
    op.execute(
        f'ALTER TABLE "{s}".bot_orders ADD COLUMN trailing_percent numeric, '
        "DROP CONSTRAINT bot_orders_exit_kind_check, "
        "ADD CONSTRAINT bot_orders_exit_kind_check CHECK (exit_kind IN ('sl', 'tp', 'ts'))"
    )


def downgrade() -> None:
    s = current_schema()
    op.execute(f"DELETE FROM \"{s}\".bot_orders WHERE exit_kind = 'ts'")
    op.execute(
        f'ALTER TABLE "{s}".bot_orders DROP COLUMN trailing_percent, '
        "DROP CONSTRAINT bot_orders_exit_kind_check, "
        "ADD CONSTRAINT bot_orders_exit_kind_check CHECK (exit_kind IN ('sl', 'tp'))"
    )
