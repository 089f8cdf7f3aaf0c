"""``bot_decisions`` found by ``client_order_id``: a partial index.

order-router's answer to a bot's order settles its decision (``settle_decision``) and an order
update names one whose submit timed out (``decision_order_seen``), both by client order id; without
an index each was a scan of every decision ever logged (100 bots on 1m bars log 144,000 a day).
Only decisions with an order have a client id, so the index is partial.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07
"""

from alembic import op

from tradeloom.shared.migrations import current_schema

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    s = current_schema()
    op.execute(
        f'CREATE INDEX bot_decisions_client_order_idx ON "{s}".bot_decisions (client_order_id) '
        "WHERE client_order_id IS NOT NULL"
    )


def downgrade() -> None:
    s = current_schema()
    op.execute(f'DROP INDEX IF EXISTS "{s}".bot_decisions_client_order_idx')
