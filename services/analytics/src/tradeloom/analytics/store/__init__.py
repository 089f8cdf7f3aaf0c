"""SQL of analytics (schema ``analytics``)."""
