"""Coaching: the end-range test and the next session's plan."""
