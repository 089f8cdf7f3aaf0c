"""What backtest-engine reads from other services (market-data candles)."""
