"""INCENTIVES_DIRECT_DATABASE_URL: read once and checked, and where each kind of connection goes."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from api.settings import Settings
from domain.database import create_engine, session_url

POOLED = "postgresql+asyncpg://app@pgbouncer.example:6432/incentives"
DIRECT = "postgresql+asyncpg://app@db.example:5432/incentives"


def test_a_direct_url_that_is_not_postgresql_is_refused_with_its_name() -> None:
    with pytest.raises(ValidationError, match="INCENTIVES_DIRECT_DATABASE_URL must be a postgresql"):
        Settings.model_validate({"INCENTIVES_DIRECT_DATABASE_URL": "sqlite+aiosqlite:///x.db"})


def test_what_needs_a_session_goes_to_the_direct_url_when_there_is_one() -> None:
    behind = Settings.model_validate({"DATABASE_URL": POOLED, "INCENTIVES_DIRECT_DATABASE_URL": DIRECT})
    direct = Settings.model_validate({"DATABASE_URL": DIRECT})
    assert behind.session_database_url() == DIRECT
    assert direct.session_database_url() == DIRECT


async def test_an_engine_behind_pgbouncer_opens_its_sessions_on_the_direct_url() -> None:
    pooled, plain = create_engine(POOLED, direct_url=DIRECT), create_engine(DIRECT)
    try:
        assert session_url(pooled) == DIRECT
        assert session_url(plain) == DIRECT
    finally:
        await pooled.dispose()
        await plain.dispose()


def test_a_sqlite_direct_url_is_refused() -> None:
    with pytest.raises(ValueError, match="INCENTIVES_DIRECT_DATABASE_URL"):
        create_engine(POOLED, direct_url="sqlite+aiosqlite:///x.db")
