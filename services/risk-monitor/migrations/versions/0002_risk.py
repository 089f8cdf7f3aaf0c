"""Positions, the fills they are folded from, orders seen, limits, alerts, halts and last prices.

Positions are a cache of the fold of ``fills`` (unique on ``fill_id``, each with the PnL it realised in
the fold) per (account, symbol, bot):
a fill that arrives out of order makes the position be folded again from its stored fills, so the
result does not depend on delivery order. ``orders`` keeps the last known state of each order
(newest ``updated_at`` wins) for the open-order count of the pre-trade check. ``limits`` holds one
row per account (``account_id`` set) or per user (``account_id`` ''). Alerts are unique per
(account, limit, level, episode), so a redelivered event or a repeated check never doubles one.

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
TABLES = ("last_prices", "halts", "alerts", "limits", "orders", "positions", "fills")


def upgrade() -> None:
    s = current_schema()
    statements = [
        f"""CREATE TABLE "{s}".fills (
            fill_id text PRIMARY KEY,
            account_id text NOT NULL,
            user_id text NOT NULL,
            symbol text NOT NULL,
            bot_id text NOT NULL DEFAULT '',
            side text NOT NULL CHECK (side IN ('buy', 'sell')),
            price {NUM} NOT NULL CHECK (price > 0),
            quantity {NUM} NOT NULL CHECK (quantity > 0),
            fee {NUM} NOT NULL CHECK (fee >= 0),
            realised_pnl {NUM} NOT NULL DEFAULT 0,
            filled_at timestamptz NOT NULL)""",
        f'CREATE INDEX fills_position_idx ON "{s}".fills (account_id, symbol, bot_id, filled_at, fill_id)',
        f'CREATE INDEX fills_day_idx ON "{s}".fills (account_id, filled_at)',
        f"""CREATE TABLE "{s}".positions (
            account_id text NOT NULL,
            symbol text NOT NULL,
            bot_id text NOT NULL DEFAULT '',
            user_id text NOT NULL,
            quantity {NUM} NOT NULL,
            average_entry {NUM} NOT NULL,
            realised_pnl {NUM} NOT NULL,
            fees {NUM} NOT NULL,
            fill_count integer NOT NULL,
            last_filled_at timestamptz NOT NULL,
            last_fill_id text NOT NULL,
            updated_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (account_id, symbol, bot_id))""",
        f'CREATE INDEX positions_user_idx ON "{s}".positions (user_id, account_id)',
        f"""CREATE TABLE "{s}".orders (
            order_id text PRIMARY KEY,
            account_id text NOT NULL,
            user_id text NOT NULL,
            symbol text NOT NULL,
            side text NOT NULL,
            status text NOT NULL,
            open boolean NOT NULL,
            updated_at timestamptz NOT NULL)""",
        f'CREATE INDEX orders_open_idx ON "{s}".orders (account_id) WHERE open',
        f"""CREATE TABLE "{s}".limits (
            user_id text NOT NULL,
            account_id text NOT NULL DEFAULT '',
            max_order_notional {NUM},
            max_position_notional {NUM},
            max_open_orders integer,
            max_daily_loss {NUM},
            max_gross_exposure {NUM},
            alert_threshold_pct {NUM} NOT NULL DEFAULT 80,
            day_boundary_tz text NOT NULL DEFAULT 'UTC',
            day_boundary_time time NOT NULL DEFAULT '00:00',
            updated_by text NOT NULL,
            updated_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (user_id, account_id))""",
        f"""CREATE TABLE "{s}".alerts (
            id text PRIMARY KEY,
            user_id text NOT NULL,
            account_id text NOT NULL,
            limit_name text NOT NULL,
            level text NOT NULL CHECK (level IN ('approaching', 'breached')),
            severity text NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
            episode text NOT NULL,
            value {NUM} NOT NULL,
            threshold {NUM} NOT NULL,
            message text NOT NULL,
            acknowledged_at timestamptz,
            created_at timestamptz NOT NULL DEFAULT now(),
            UNIQUE (account_id, limit_name, level, episode))""",
        f'CREATE INDEX alerts_user_idx ON "{s}".alerts (user_id, created_at DESC)',
        f"""CREATE TABLE "{s}".halts (
            scope text NOT NULL CHECK (scope IN ('user', 'global')),
            user_key text NOT NULL,
            reason text NOT NULL,
            created_by text NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (scope, user_key))""",
        f"""CREATE TABLE "{s}".last_prices (
            symbol text PRIMARY KEY,
            price {NUM} NOT NULL,
            ts_ns bigint NOT NULL)""",
    ]
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    s = current_schema()
    for table in TABLES:
        op.execute(f'DROP TABLE IF EXISTS "{s}".{table}')
