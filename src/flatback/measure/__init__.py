"""Measurement: checks, body geometry, lumbar clearance and signal cleaning (pure functions)."""
