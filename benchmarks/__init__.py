"""Benchmarks of the catalog sync against the local stack: `scripts/bench` (see README.md).

Not part of the test run: numbers depend on the machine and on whatever else runs on it.
"""
