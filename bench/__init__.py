"""Latency measurement: per stage, end to end, with baselines and report writers."""
