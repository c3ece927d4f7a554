"""Costs: budget alerts, attribution of spend, and forecasts."""
