"""SQL of the ``backtest_engine`` schema (runs; results, trades and series)."""
