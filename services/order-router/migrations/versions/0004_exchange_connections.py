"""Exchange connections (a user's sealed API key at a real venue), exchange accounts trading
through one, and the venue's order id on orders.

The key, secret and passphrase are one AES-256-GCM token (``sealed``); ``key_version`` repeats its
key version so rotation finds the rows to re-seal with an index. Only ``api_key_last4`` is ever shown.
An exchange account keeps its history when its connection is deleted (``connection_id`` set NULL:
it takes no new orders).

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
    statements = [
        f"""CREATE TABLE "{s}".exchange_connections (
            id uuid PRIMARY KEY,
            user_id text NOT NULL,
            venue text NOT NULL,
            label text NOT NULL,
            sandbox boolean NOT NULL DEFAULT false,
            sealed text NOT NULL,
            key_version integer NOT NULL CHECK (key_version > 0),
            api_key_last4 text NOT NULL,
            permissions jsonb NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now())""",
        f'CREATE INDEX exchange_connections_user_idx ON "{s}".exchange_connections (user_id, id DESC)',
        f'CREATE INDEX exchange_connections_version_idx ON "{s}".exchange_connections (key_version)',
        f'ALTER TABLE "{s}".accounts DROP CONSTRAINT IF EXISTS accounts_kind_check',
        f"""ALTER TABLE "{s}".accounts
            ADD CONSTRAINT accounts_kind_check CHECK (kind IN ('paper', 'exchange')),
            ADD COLUMN connection_id uuid REFERENCES "{s}".exchange_connections (id) ON DELETE SET NULL,
            ADD COLUMN venue_fills_since_ms bigint,
            ADD CONSTRAINT accounts_paper_no_connection_check
                CHECK (kind = 'exchange' OR connection_id IS NULL)""",
        f'ALTER TABLE "{s}".orders ADD COLUMN venue_order_id text',
        f"""CREATE INDEX orders_venue_order_idx ON "{s}".orders (account_id, venue_order_id)
            WHERE venue_order_id IS NOT NULL""",
    ]
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    s = current_schema()
    op.execute(f'ALTER TABLE "{s}".orders DROP COLUMN venue_order_id')
    op.execute(f"DELETE FROM \"{s}\".accounts WHERE kind = 'exchange'")
    op.execute(
        f'ALTER TABLE "{s}".accounts DROP CONSTRAINT accounts_paper_no_connection_check, '
        "DROP COLUMN venue_fills_since_ms, DROP COLUMN connection_id, "
        "DROP CONSTRAINT accounts_kind_check"
    )
    op.execute(f"ALTER TABLE \"{s}\".accounts ADD CONSTRAINT accounts_kind_check CHECK (kind IN ('paper'))")
    op.execute(f'DROP TABLE IF EXISTS "{s}".exchange_connections')
