"""Paper accounts, balances, orders, fills, the account audit trail, halts and last trade prices.

Orders are unique on (account_id, client_order_id) and, when given, (account_id, idempotency_key);
fills on (venue, venue_fill_id). Balances refuse to go negative (CHECK), so an arithmetic bug is a
failed transaction, never a silent overdraft. Ids are UUIDv7 (time-ordered): ``id DESC`` is newest
first and the cursor of every list.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-06
"""

from alembic import op

from tradeloom.shared.migrations import current_schema

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

NUM = "numeric(38, 18)"


def upgrade() -> None:
    s = current_schema()
    statements = [
        f"""CREATE TABLE "{s}".accounts (
            id uuid PRIMARY KEY,
            user_id text NOT NULL,
            name text NOT NULL,
            kind text NOT NULL DEFAULT 'paper' CHECK (kind IN ('paper')),
            venue text NOT NULL,
            status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'archived')),
            maker_fee_rate {NUM} NOT NULL,
            taker_fee_rate {NUM} NOT NULL,
            slippage_model text NOT NULL CHECK (slippage_model IN ('none', 'fixed', 'percent')),
            slippage {NUM} NOT NULL,
            risk_fail_open boolean NOT NULL DEFAULT false,
            initial_balances jsonb NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now())""",
        f'CREATE INDEX accounts_user_idx ON "{s}".accounts (user_id, id DESC)',
        f"""CREATE TABLE "{s}".balances (
            account_id uuid NOT NULL REFERENCES "{s}".accounts (id),
            asset text NOT NULL,
            free {NUM} NOT NULL CHECK (free >= 0),
            locked {NUM} NOT NULL CHECK (locked >= 0),
            PRIMARY KEY (account_id, asset))""",
        f"""CREATE TABLE "{s}".orders (
            id uuid PRIMARY KEY,
            account_id uuid NOT NULL REFERENCES "{s}".accounts (id),
            user_id text NOT NULL,
            client_order_id text NOT NULL,
            idempotency_key text,
            venue text NOT NULL,
            symbol text NOT NULL,
            base_asset text NOT NULL,
            quote_asset text NOT NULL,
            lot_size {NUM} NOT NULL CHECK (lot_size > 0),
            side text NOT NULL CHECK (side IN ('buy', 'sell')),
            type text NOT NULL,
            status text NOT NULL,
            quantity {NUM} NOT NULL CHECK (quantity > 0),
            filled_quantity {NUM} NOT NULL DEFAULT 0,
            filled_notional {NUM} NOT NULL DEFAULT 0,
            price {NUM},
            stop_price {NUM},
            trailing_amount {NUM},
            trailing_percent {NUM},
            trail_extreme {NUM},
            triggered boolean NOT NULL DEFAULT false,
            time_in_force text NOT NULL,
            expire_at timestamptz,
            post_only boolean NOT NULL DEFAULT false,
            reduce_only boolean NOT NULL DEFAULT false,
            reference_price {NUM},
            lock_asset text NOT NULL,
            locked {NUM} NOT NULL DEFAULT 0 CHECK (locked >= 0),
            fees {NUM} NOT NULL DEFAULT 0,
            reject_reason text,
            accepted_ns bigint NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT orders_client_id_key UNIQUE (account_id, client_order_id))""",
        f"""CREATE UNIQUE INDEX orders_idempotency_key ON "{s}".orders (account_id, idempotency_key)
            WHERE idempotency_key IS NOT NULL""",
        f'CREATE INDEX orders_user_idx ON "{s}".orders (user_id, id DESC)',
        f"""CREATE INDEX orders_open_idx ON "{s}".orders (venue, symbol, id)
            WHERE status IN ('new', 'partially_filled', 'pending_cancel')""",
        f"""CREATE TABLE "{s}".fills (
            id uuid PRIMARY KEY,
            order_id uuid NOT NULL REFERENCES "{s}".orders (id),
            account_id uuid NOT NULL REFERENCES "{s}".accounts (id),
            user_id text NOT NULL,
            venue text NOT NULL,
            venue_fill_id text NOT NULL,
            symbol text NOT NULL,
            side text NOT NULL,
            price {NUM} NOT NULL CHECK (price > 0),
            quantity {NUM} NOT NULL CHECK (quantity > 0),
            fee {NUM} NOT NULL CHECK (fee >= 0),
            fee_asset text NOT NULL,
            liquidity text NOT NULL CHECK (liquidity IN ('maker', 'taker')),
            trade_id text NOT NULL,
            filled_at timestamptz NOT NULL,
            CONSTRAINT fills_venue_fill_key UNIQUE (venue, venue_fill_id))""",
        f'CREATE INDEX fills_order_idx ON "{s}".fills (order_id)',
        f'CREATE INDEX fills_user_idx ON "{s}".fills (user_id, id DESC)',
        f"""CREATE TABLE "{s}".account_audit (
            id bigserial PRIMARY KEY,
            account_id uuid NOT NULL REFERENCES "{s}".accounts (id),
            actor text NOT NULL,
            action text NOT NULL,
            details jsonb NOT NULL DEFAULT '{{}}',
            at timestamptz NOT NULL DEFAULT now())""",
        f"""CREATE TABLE "{s}".halts (
            scope text NOT NULL CHECK (scope IN ('user', 'global')),
            user_key text NOT NULL,
            reason text NOT NULL DEFAULT '',
            event_id text NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (scope, user_key))""",
        f"""CREATE TABLE "{s}".last_prices (
            venue text NOT NULL,
            symbol text NOT NULL,
            price {NUM} NOT NULL,
            ts_ns bigint NOT NULL,
            PRIMARY KEY (venue, symbol))""",
    ]
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    s = current_schema()
    for table in ("last_prices", "halts", "account_audit", "fills", "orders", "balances", "accounts"):
        op.execute(f'DROP TABLE IF EXISTS "{s}".{table}')
