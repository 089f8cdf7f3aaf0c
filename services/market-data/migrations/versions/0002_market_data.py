"""Instruments, trades, candles, market state, order books and datasets.

``trades`` becomes a TimescaleDB hypertable (on ``ts_ns``, one-day chunks) when the extension
exists; otherwise it stays a plain table with the same columns and keys, so answers are the same.
Compression and retention policies are applied at service start from settings (see store/timescale.py).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from alembic import op

from tradeloom.shared.migrations import current_schema, timescale_available_sync

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

DAY_NS = 86_400 * 1_000_000_000


def upgrade() -> None:
    s = current_schema()
    statements = [
        f"""CREATE TABLE "{s}".instruments (
            venue text NOT NULL, symbol text NOT NULL, kind text NOT NULL
                CHECK (kind IN ('spot', 'perpetual', 'future', 'option')),
            base text NOT NULL, quote text NOT NULL, settle text,
            tick_size numeric NOT NULL CHECK (tick_size > 0),
            lot_size numeric NOT NULL CHECK (lot_size > 0),
            min_notional numeric NOT NULL DEFAULT 0 CHECK (min_notional >= 0),
            status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'inactive')),
            expiry timestamptz, underlying text, strike numeric,
            option_type text CHECK (option_type IN ('call', 'put')),
            multiplier numeric NOT NULL DEFAULT 1,
            source text NOT NULL DEFAULT 'file',
            updated_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (venue, symbol))""",
        f"""CREATE TABLE "{s}".trades (
            venue text NOT NULL, symbol text NOT NULL, ts_ns bigint NOT NULL,
            trade_id text COLLATE "C" NOT NULL,
            price numeric NOT NULL, amount numeric NOT NULL, side text NOT NULL,
            PRIMARY KEY (venue, symbol, ts_ns, trade_id))""",
        f"""CREATE TABLE "{s}".candles (
            venue text NOT NULL, symbol text NOT NULL, tf text NOT NULL, open_ns bigint NOT NULL,
            open numeric NOT NULL, high numeric NOT NULL, low numeric NOT NULL, close numeric NOT NULL,
            volume numeric NOT NULL, trade_count integer NOT NULL,
            first_ts_ns bigint NOT NULL, first_tid text COLLATE "C" NOT NULL,
            last_ts_ns bigint NOT NULL, last_tid text COLLATE "C" NOT NULL,
            PRIMARY KEY (venue, symbol, tf, open_ns))""",
        f"""CREATE TABLE "{s}".market_state (
            venue text NOT NULL, symbol text NOT NULL, watermark_ns bigint NOT NULL,
            last_ts_ns bigint NOT NULL, last_tid text COLLATE "C" NOT NULL, last_price numeric NOT NULL,
            PRIMARY KEY (venue, symbol))""",
        f"""CREATE TABLE "{s}".candle_close_state (
            venue text NOT NULL, symbol text NOT NULL, tf text NOT NULL, closed_through_ns bigint NOT NULL,
            PRIMARY KEY (venue, symbol, tf))""",
        f"""CREATE TABLE "{s}".order_books (
            venue text NOT NULL, symbol text NOT NULL, ts_ns bigint NOT NULL, seq bigint NOT NULL,
            bids jsonb NOT NULL, asks jsonb NOT NULL, PRIMARY KEY (venue, symbol))""",
        f"""CREATE TABLE "{s}".datasets (
            dataset_id uuid PRIMARY KEY, owner text NOT NULL, name text NOT NULL, symbol text,
            bar_count integer NOT NULL, start_ns bigint, end_ns bigint, interval_ns bigint,
            created_at timestamptz NOT NULL DEFAULT now(), UNIQUE (owner, name))""",
        f"""CREATE TABLE "{s}".dataset_bars (
            dataset_id uuid NOT NULL REFERENCES "{s}".datasets ON DELETE CASCADE, ts_ns bigint NOT NULL,
            open numeric NOT NULL, high numeric NOT NULL, low numeric NOT NULL, close numeric NOT NULL,
            volume numeric NOT NULL, PRIMARY KEY (dataset_id, ts_ns))""",
        f"""CREATE TABLE "{s}".dataset_uploads (
            upload_id uuid PRIMARY KEY, owner text NOT NULL, name text NOT NULL, symbol text,
            next_seq integer NOT NULL DEFAULT 0, received_bytes bigint NOT NULL DEFAULT 0,
            created_at timestamptz NOT NULL DEFAULT now())""",
        f"""CREATE TABLE "{s}".dataset_upload_chunks (
            upload_id uuid NOT NULL REFERENCES "{s}".dataset_uploads ON DELETE CASCADE,
            seq integer NOT NULL, data text NOT NULL, PRIMARY KEY (upload_id, seq))""",
    ]
    for statement in statements:
        op.execute(statement)
    if timescale_available_sync(op.get_bind()):
        op.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")
        op.execute(
            f"SELECT create_hypertable('\"{s}\".trades', 'ts_ns', chunk_time_interval => {DAY_NS}, "
            "migrate_data => true)"
        )
        op.execute(
            f"""CREATE FUNCTION "{s}".now_ns() RETURNS bigint LANGUAGE sql STABLE AS
            $$ SELECT (extract(epoch FROM now()) * 1e9)::bigint $$"""
        )
        op.execute(f"SELECT set_integer_now_func('\"{s}\".trades', '\"{s}\".now_ns')")


def downgrade() -> None:
    s = current_schema()
    for table in (
        "dataset_upload_chunks", "dataset_uploads", "dataset_bars", "datasets", "order_books",
        "candle_close_state", "market_state", "candles", "trades", "instruments",
    ):  # fmt: skip
        op.execute(f'DROP TABLE IF EXISTS "{s}".{table}')
    op.execute(f'DROP FUNCTION IF EXISTS "{s}".now_ns()')
