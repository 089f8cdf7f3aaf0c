"""Grid and DCA bots: a row of ``bots`` with ``kind`` ``grid`` or ``dca``, no strategy, sizing or timeframe.

The strategy columns become nullable (a strategy bot still always fills them: ``bots_create``
requires them and ``bots_get``/``bots_list`` answer only ``kind = 'strategy'`` rows). ``grid`` holds
the configuration and the ladder's prices (tick-rounded at create), ``grid_lots`` each lot's state
(holding, cycle), changed only under the bot's row lock; ``dca`` the DCA configuration with the
instrument's tick and lot, ``dca_state`` the cycle and its fills. ``bot_orders`` gains
``order_type`` and ``price`` (a ladder's limit orders), and ``cancel_requested`` (an order a fill
made obsolete: the cancel loop cancels it at order-router); a ladder order's ``bar_ns`` is a
negative key per (lot, side, cycle) or (cycle, step), so the (bot, symbol, bar) uniqueness keeps
each order once.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06
"""

from alembic import op

from tradeloom.shared.migrations import current_schema

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

LOOSENED = ("strategy_id", "strategy_version", "template", "params", "timeframe", "sizing", "max_position")


def upgrade() -> None:
    s = current_schema()
    loosen = ", ".join(f"ALTER COLUMN {column} DROP NOT NULL" for column in LOOSENED)
    op.execute(f'ALTER TABLE "{s}".bots {loosen}')
    op.execute(
        f"ALTER TABLE \"{s}\".bots ADD COLUMN kind text NOT NULL DEFAULT 'strategy', "
        "ADD COLUMN grid jsonb, ADD COLUMN grid_lots jsonb, ADD COLUMN dca jsonb, "
        "ADD COLUMN dca_state jsonb, "
        "ADD CONSTRAINT bots_kind_shape CHECK "
        "((kind = 'strategy' AND strategy_id IS NOT NULL AND sizing IS NOT NULL AND timeframe IS NOT NULL) "
        "OR (kind = 'grid' AND grid IS NOT NULL AND grid_lots IS NOT NULL) "
        "OR (kind = 'dca' AND dca IS NOT NULL AND dca_state IS NOT NULL))"
    )
    op.execute(
        f"ALTER TABLE \"{s}\".bot_orders ADD COLUMN order_type text NOT NULL DEFAULT 'market', "
        "ADD COLUMN price numeric, ADD COLUMN cancel_requested boolean NOT NULL DEFAULT false"
    )


def downgrade() -> None:
    s = current_schema()
    op.execute(f"DELETE FROM \"{s}\".bots WHERE kind <> 'strategy'")
    op.execute(
        f'ALTER TABLE "{s}".bot_orders DROP COLUMN cancel_requested, DROP COLUMN price, '
        "DROP COLUMN order_type"
    )
    op.execute(
        f'ALTER TABLE "{s}".bots DROP CONSTRAINT bots_kind_shape, DROP COLUMN grid_lots, '
        "DROP COLUMN grid, DROP COLUMN dca_state, DROP COLUMN dca, DROP COLUMN kind"
    )
    restore = ", ".join(f"ALTER COLUMN {column} SET NOT NULL" for column in LOOSENED)
    op.execute(f'ALTER TABLE "{s}".bots {restore}')
