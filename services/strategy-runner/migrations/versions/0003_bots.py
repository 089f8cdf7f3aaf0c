"""Live bots: the bots, their leases, decision logs, the orders they sent, and bar marks.

``bot_leases``: one replica owns a running bot at a time (``owner`` = instance id), renewing
``expires_at``; an expired lease is taken over. ``bot_orders`` is unique per (bot, symbol, bar),
so a redelivered candle or a restarted replica never sends a second order for one bar.
``bar_marks`` holds the newest closed bar per (venue, symbol, timeframe): the lease holder
catches its bots up to it even when another replica consumed the candle.

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
    statements = [
        f"""CREATE TABLE "{s}".bots (
            id uuid PRIMARY KEY,
            user_id text NOT NULL,
            name text NOT NULL,
            strategy_id uuid NOT NULL,
            strategy_version integer NOT NULL,
            template text NOT NULL,
            params jsonb NOT NULL,
            account_id text NOT NULL,
            venue text NOT NULL,
            symbol text NOT NULL,
            timeframe text NOT NULL,
            sizing jsonb NOT NULL,
            max_position numeric NOT NULL CHECK (max_position > 0),
            status text NOT NULL DEFAULT 'stopped',
            status_reason text NOT NULL DEFAULT '',
            last_bar_ns bigint,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now())""",
        f'CREATE INDEX bots_user_newest_idx ON "{s}".bots (user_id, id DESC)',
        f"CREATE INDEX bots_market_idx ON \"{s}\".bots (venue, symbol, timeframe) WHERE status = 'running'",
        f"""CREATE TABLE "{s}".bot_leases (
            bot_id uuid PRIMARY KEY REFERENCES "{s}".bots (id) ON DELETE CASCADE,
            owner text NOT NULL,
            expires_at timestamptz NOT NULL)""",
        f"""CREATE TABLE "{s}".bot_orders (
            bot_id uuid NOT NULL REFERENCES "{s}".bots (id) ON DELETE CASCADE,
            symbol text NOT NULL,
            bar_ns bigint NOT NULL,
            client_order_id text NOT NULL UNIQUE,
            side text NOT NULL,
            quantity numeric NOT NULL,
            filled_quantity numeric NOT NULL DEFAULT 0,
            status text NOT NULL DEFAULT 'sending',
            order_id text,
            created_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (bot_id, symbol, bar_ns))""",
        f"""CREATE TABLE "{s}".bot_decisions (
            id bigserial PRIMARY KEY,
            bot_id uuid NOT NULL REFERENCES "{s}".bots (id) ON DELETE CASCADE,
            bar_ns bigint NOT NULL,
            signal text NOT NULL,
            action text NOT NULL,
            reason text NOT NULL,
            quantity numeric,
            client_order_id text,
            order_id text,
            created_at timestamptz NOT NULL DEFAULT now())""",
        f'CREATE INDEX bot_decisions_bot_idx ON "{s}".bot_decisions (bot_id, id DESC)',
        f"""CREATE TABLE "{s}".bar_marks (
            venue text NOT NULL,
            symbol text NOT NULL,
            timeframe text NOT NULL,
            open_ns bigint NOT NULL,
            PRIMARY KEY (venue, symbol, timeframe))""",
    ]
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    s = current_schema()
    for table in ("bar_marks", "bot_decisions", "bot_orders", "bot_leases", "bots"):
        op.execute(f'DROP TABLE IF EXISTS "{s}".{table}')
