"""Shared fixtures, one module per concern under tests/support/."""

from __future__ import annotations

pytest_plugins = [
    "tests.support.entra",
    "tests.support.pgbouncer",
    "tests.support.databases",
    "tests.support.server",
    "tests.support.in_process",
    "tests.support.smtp",
]
