"""Benchmarks of the image path: `python -m bench` (see bench/README.md)."""
