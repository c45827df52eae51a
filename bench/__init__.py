"""Benchmarks: scripts that measure AION (run them as `python -m bench.<name>`), not tests."""
