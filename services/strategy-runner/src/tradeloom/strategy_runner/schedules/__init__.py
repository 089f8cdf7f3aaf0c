"""Schedules: cron and interval firings that run a backtest or start/stop a bot."""
