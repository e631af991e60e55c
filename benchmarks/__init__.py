"""Benchmarks of the suite (run with ``nox -s bench`` or ``python -m benchmarks``)."""
