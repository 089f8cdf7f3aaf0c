"""Live bots: the ops, the runner (closed candles → decisions → orders) and its event consumers."""
