"""Benchmarks that measure seedqa against baselines; see benchmarks/README.md."""
