"""Benchmarks (``make bench``; ``BENCH=full`` for the issue's scale). Not tests: figures."""
