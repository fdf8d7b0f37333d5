"""The pool's checkout wait, as the metrics time it (api.metrics.time_checkouts), on a real engine."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from api.metrics import Metrics, time_checkouts
from domain.database import create_engine


async def test_a_checkout_from_the_pool_is_timed_until_undone(tmp_path: Path) -> None:
    metrics = Metrics()
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'pool.db'}")
    undo = time_checkouts(engine, metrics)
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        undo()
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    finally:
        await engine.dispose()

    assert "incentives_database_connection_wait_seconds_count 1.0" in metrics.exposition().decode()
