"""Benchmarks: synthetic data at scale and latency/throughput figures (docs/performance.md)."""
