"""Benchmarks of the fiscal-year batch jobs (`python -m bench.fiscal_year`)."""
