"""Benchmarks kept with the project; run them with ``scripts/benchmark`` (docs/benchmark.md)."""
