"""``bot_limit_removals`` rows written by an update removing a bot's own limits (reason ``update``).

``remove_risk_limits`` of ``bots_update`` / ``grid_bots_update`` / ``dca_bots_update`` clears the
bot's copy and writes the row in one transaction, then deletes the limits at risk-monitor and the
row; a row left behind (the process killed, risk-monitor silent) is swept like a deleted bot's,
since the sweep now keeps only the limits of a bot that exists *with* its limits.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07
"""

from alembic import op

from tradeloom.shared.migrations import current_schema

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    s = current_schema()
    op.execute(f'ALTER TABLE "{s}".bot_limit_removals DROP CONSTRAINT bot_limit_removals_reason_check')
    op.execute(
        f'ALTER TABLE "{s}".bot_limit_removals ADD CONSTRAINT bot_limit_removals_reason_check '
        "CHECK (reason IN ('create', 'delete', 'update'))"
    )


def downgrade() -> None:
    s = current_schema()
    op.execute(f"DELETE FROM \"{s}\".bot_limit_removals WHERE reason = 'update'")
    op.execute(f'ALTER TABLE "{s}".bot_limit_removals DROP CONSTRAINT bot_limit_removals_reason_check')
    op.execute(
        f'ALTER TABLE "{s}".bot_limit_removals ADD CONSTRAINT bot_limit_removals_reason_check '
        "CHECK (reason IN ('create', 'delete'))"
    )
