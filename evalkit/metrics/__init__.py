"""Metrics: per-run evaluation, then aggregation; conventions come from profiles."""
