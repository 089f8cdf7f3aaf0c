"""Market-data sources: synthetic, replay and live exchanges; each publishes to JetStream."""
