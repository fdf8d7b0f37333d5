"""`python -m bench.api`: see `bench.api.cli`."""

from bench.api.cli import main

main()
