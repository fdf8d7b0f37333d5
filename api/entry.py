"""What the process entry points share: the app factory uvicorn imports, the schema check, errors."""

from __future__ import annotations

import gc
import os

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection, make_url
from starlette.applications import Starlette

from api.settings import Settings
from domain.database import create_engine
from migrations import alembic_config

MIGRATE_HINT = "run `incentives migrate` first"
USAGE = 2
FAILURE = 1


class CommandError(Exception):
    """A command cannot go on; `exit_code` is USAGE for configuration problems, else FAILURE."""

    def __init__(self, message: str, exit_code: int = FAILURE) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def settings_from_environment() -> Settings:
    """The settings as the environment gives them: the one place that reads it."""
    return Settings()


def app_from_environment() -> Starlette:
    """The API configured from the environment (`uvicorn --factory api.entry:app_from_environment`)."""
    from api.app import create_app
    from api.logs import configure_logging
    from api.tracing import configure_tracing

    settings = settings_from_environment()
    configure_logging(settings.log_level, settings.log_format)
    configure_tracing(os.environ)  # the standard OTEL_* settings, read by the SDK itself
    app = create_app(settings)
    tune_garbage_collector()
    return app


# Allocations between young-generation collections (CPython's default: 700), then how many
# collections of one generation before one of the next (the default's). A dashboard allocates tens
# of thousands of short-lived dicts and rows. Server CPU per dashboard under wrk (16 connections,
# two runs each, start-up heap frozen): 700: 5.6-6.2 ms; 10,000: 4.7-4.8; 20,000: 4.3-4.9;
# 50,000: 5.0-5.9. Not freezing, at 700: 7.0-7.2.
GC_THRESHOLDS = (20_000, 10, 10)


def tune_garbage_collector() -> None:
    """Everything loaded so far (modules, the schema, SQLAlchemy's metadata) lives as long as the
    process: freeze it out of the collector's sight, then collect less often."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def display_url(database_url: str) -> str:
    """The database URL with its password hidden, for messages."""
    return make_url(database_url).render_as_string(hide_password=True)


def latest_revision(database_url: str) -> str | None:
    return ScriptDirectory.from_config(alembic_config(database_url)).get_current_head()


async def schema_problem(database_url: str) -> str | None:
    """Why the database cannot be served yet (not migrated, or behind), or None when it is current."""
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            current = await connection.run_sync(_current_revision)
    finally:
        await engine.dispose()
    where = display_url(database_url)
    if current is None:
        return f"the database {where} has no schema yet: {MIGRATE_HINT}"
    latest = latest_revision(database_url)
    if current != latest:
        return f"the database {where} is at migration {current}, this version needs {latest}: {MIGRATE_HINT}"
    return None


def _current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()
