"""Benchmarks for issue 8: `python -m bench` measures, prints and writes bench/RESULTS.md."""
