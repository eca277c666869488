"""Upgrade recommendations: evaluation, forecasts, advice and the review queue (IO side)."""
