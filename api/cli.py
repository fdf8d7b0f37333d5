"""The `incentives` command: migrate, serve, demo, export-schema, rollover, invite, login, query and
documents (extract, check).

Exit codes: 0 done, 1 failed, 2 usage or configuration error. Settings are read once, here.
The web stack (uvicorn, the app, the GraphQL schema) is imported only by the commands that use it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Awaitable, Callable, Coroutine, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError

from api.entry import (
    FAILURE,
    USAGE,
    CommandError,
    app_from_environment,
    display_url,
    latest_revision,
    schema_problem,
    settings_from_environment,
)
from api.metrics_server import MetricsServer, on_exit
from api.progress import ProgressMeter
from api.settings import Settings
from api.terminal import add_terminal_commands
from api.trusted.commands import add_documents_commands
from api.workers import Listen, serve_workers
from auth.principal import Principal, system_principal
from domain.database import check_url, create_engine, session_factory
from domain.errors import Conflict, DomainError, UserInputError
from domain.services import invitations
from domain.services.rollover import RolloverResult, roll_over_fiscal_year
from domain.uow import UnitOfWork
from migrations import upgrade

if TYPE_CHECKING:  # uvicorn is imported by `serve` only
    from starlette.applications import Starlette

    from api.graceful import Stopping

# The command line acts as an operator; without AZURE_TENANT_ID its audit entries name this tenant.
NO_TENANT = "00000000-0000-0000-0000-000000000000"

Command = Callable[[Settings, argparse.Namespace], int]
T = TypeVar("T")


def migrate(settings: Settings, args: argparse.Namespace) -> int:
    _database_url(settings)
    url = settings.session_database_url()  # DDL straight to PostgreSQL, past any PgBouncer
    upgrade(url)
    print(f"{display_url(url)} is at the latest schema (revision {latest_revision(url)}).")
    return 0


def serve(settings: Settings, args: argparse.Namespace) -> int:
    from api import graceful

    missing = settings.missing_for_serve()
    if missing:
        raise CommandError(f"set {' and '.join(missing)} in the environment to serve the API", USAGE)
    _require_current_schema(settings)
    _require_mail_settings(settings)
    _require_trace_settings()
    log_level = settings.log_level.lower()
    stopping = graceful.Stopping(settings.shutdown_grace_seconds, settings.shutdown_window_seconds)
    if args.workers > 1:
        _require_trusted_documents(settings)  # before any worker; one process's `_app` is the check
    with serving_metrics(settings) as metrics:
        if args.workers > 1:
            listen = Listen(args.host, args.port, log_level, stopping, settings.log_format)
            if serve_workers(listen, args.workers, on_exit(metrics)) != 0:
                raise CommandError("a worker did not start (see the log above)")
            return 0
        return _serve_one(settings, args, stopping)


@contextmanager
def serving_metrics(settings: Settings) -> Iterator[MetricsServer | None]:
    """/metrics on its own port for the block, when INCENTIVES_METRICS is on; before any worker starts."""
    if not settings.metrics:
        yield None
        return
    server = MetricsServer(settings.metrics_host, settings.metrics_port)
    try:
        server.start()
    except OSError as error:
        server.stop()
        raise CommandError(
            f"cannot serve metrics on {settings.metrics_host}:{settings.metrics_port}: {error.strerror}"
        ) from None
    try:
        yield server
    finally:
        server.stop()


def _serve_one(settings: Settings, args: argparse.Namespace, stopping: Stopping) -> int:
    from api import graceful

    # A service manager stops us with SIGTERM: drain (api.graceful), and exit 0.
    log_level = settings.log_level.lower()
    app = _app(settings)  # built here, once, rather than by uvicorn: its trusted documents prepared
    config = graceful.server_config(
        lambda: app, stopping, log_level, settings.log_format, host=args.host, port=args.port
    )
    server = graceful.GracefulServer(config, stopping)
    try:
        graceful.run(server)
    except SystemExit as exit_:
        if exit_.code not in (0, None):
            raise CommandError("the server did not start (see the log above)") from None
    if not server.started:
        raise CommandError("the server did not start (see the log above)")
    return 0


def demo(settings: Settings, args: argparse.Namespace) -> int:
    from sandbox.demo import run_demo

    return run_demo(settings, port=args.port)


def export_schema(settings: Settings, args: argparse.Namespace) -> int:
    from api.graphql.schema import print_sdl

    sdl = print_sdl()
    sys.stdout.write(sdl if sdl.endswith("\n") else sdl + "\n")
    return 0


def rollover(settings: Settings, args: argparse.Namespace) -> int:
    _require_current_schema(settings)
    year: int = args.from_fiscal_year

    async def roll_over(uow: UnitOfWork, actor: Principal) -> RolloverResult:
        return await roll_over_fiscal_year(
            uow, actor, from_fiscal_year=year, progress=ProgressMeter(sys.stderr)
        )

    result = _domain_call(lambda: _as_operator(settings, roll_over))
    print(
        f"Rolled fiscal year {year} forward to {year + 1}: carried {result.carried}, "
        f"action required {result.action_required}, ineligible {result.ineligible}, "
        f"inactive {result.inactive}. Enrollments still in progress ended with FY {year} (not carried)."
    )
    return 0


def invite(settings: Settings, args: argparse.Namespace) -> int:
    _require_current_schema(settings)

    async def issue(uow: UnitOfWork, actor: Principal) -> int:
        program_id = await invitations.program_id_for_code(uow, args.program)
        return await invitations.issue_invitations(
            uow,
            actor,
            program_id=program_id,
            public_url=settings.public_url,
            progress=ProgressMeter(sys.stderr),
        )

    created = _domain_call(lambda: _as_operator(settings, issue))
    print(f"Issued {created} invitations for program {args.program}.")
    return 0


async def _as_operator(settings: Settings, job: Callable[[UnitOfWork, Principal], Awaitable[T]]) -> T:
    """Run a batch job as the command line's operator, on an engine of its own."""
    engine = create_engine(settings.database_url, direct_url=settings.direct_database_url or None)
    try:
        actor = system_principal(settings.azure_tenant_id or NO_TENANT)
        return await job(UnitOfWork(session_factory(engine)), actor)
    finally:
        await engine.dispose()


def _domain_call(call: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a batch job; a run already going (Conflict) fails (1), other bad input is usage (2)."""
    try:
        return asyncio.run(call())
    except Conflict as error:
        raise CommandError(str(error)) from None
    except UserInputError as error:
        raise CommandError(str(error), USAGE) from None
    except DomainError as error:
        raise CommandError(str(error)) from None


def _database_url(settings: Settings) -> str:
    try:
        return check_url(settings.database_url)
    except ValueError as error:
        raise CommandError(str(error), USAGE) from None


def _require_current_schema(settings: Settings) -> None:
    _database_url(settings)
    problem = asyncio.run(schema_problem(settings.session_database_url()))
    if problem is not None:
        raise CommandError(problem)


def _require_mail_settings(settings: Settings) -> None:
    """INCENTIVES_MAIL_TRANSPORT=graph without its settings: refuse before starting any worker."""
    from api.composition import GraphMailNotConfigured, mail_transport

    try:
        mail_transport(settings)
    except GraphMailNotConfigured as error:
        raise CommandError(str(error), USAGE) from None


def _require_trace_settings() -> None:
    """OTEL_* settings this service cannot follow: refuse before starting any worker."""
    from api.tracing import TracingMisconfigured, exporters_asked

    try:
        exporters_asked(os.environ)
    except TracingMisconfigured as error:
        raise CommandError(str(error), USAGE) from None


def _app(settings: Settings) -> Starlette:
    """The app of a single-process `serve`, refused as `_require_trusted_documents` says."""
    from api.trusted.prepared import TrustedDocumentsError

    try:
        return app_from_environment()
    except TrustedDocumentsError as error:
        raise _untrusted(settings, error) from None


def _require_trusted_documents(settings: Settings) -> None:
    """The manifest of trusted documents, loaded and prepared as each worker will: refused before
    starting any worker when it cannot be served (missing under log or enforce, not valid)."""
    from api.app import GraphQLApp, TrustedSettings
    from api.trusted.prepared import TrustedDocumentsError, load_manifest, manifest_path

    mode = settings.trusted_documents
    try:
        documents = load_manifest(mode, manifest_path(settings.trusted_documents_file))
        GraphQLApp(trusted=TrustedSettings(mode, documents))
    except TrustedDocumentsError as error:
        raise _untrusted(settings, error) from None


def _untrusted(settings: Settings, error: Exception) -> CommandError:
    return CommandError(f"INCENTIVES_TRUSTED_DOCUMENTS={settings.trusted_documents}: {error}", USAGE)


def _port(text: str) -> int:
    port = int(text)
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a TCP port")
    return port


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="incentives", description="Partner incentive programs, over GraphQL."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, run: Command, help_: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_, description=help_)
        sub.set_defaults(run=run)
        return sub

    command("migrate", migrate, "bring DATABASE_URL to the latest schema (safe to run twice)")
    served = command("serve", serve, "serve the API with uvicorn (needs AZURE_CLIENT_ID, AZURE_TENANT_ID)")
    served.add_argument("--host", default="127.0.0.1")
    served.add_argument("--port", type=_port, default=8000)
    served.add_argument("--workers", type=_positive, default=1)
    shown = command("demo", demo, "sample data, a loopback sign-in service, the API and printed tokens")
    shown.add_argument("--port", type=_port, default=8000)
    command("export-schema", export_schema, "print the GraphQL SDL (the committed schema.graphql)")
    rolled = command("rollover", rollover, "roll ENROLLED enrollments of a fiscal year into the next")
    rolled.add_argument("--from-fiscal-year", type=int, required=True, metavar="N")
    invited = command("invite", invite, "issue a program's invitations to every eligible location")
    invited.add_argument("--program", required=True, metavar="CODE")
    add_terminal_commands(commands)
    add_documents_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return _run(args)
    except CommandError as error:
        print(f"incentives {args.command}: {error}", file=sys.stderr)
        return error.exit_code
    except (OSError, SQLAlchemyError) as error:
        # Typically the database is unreachable or refuses us; the first line says why.
        first_line = (str(error) or type(error).__name__).splitlines()[0]
        print(f"incentives {args.command}: failed: {first_line}", file=sys.stderr)
        return FAILURE
    except KeyboardInterrupt:
        return 130


def _run(args: argparse.Namespace) -> int:
    try:
        settings = settings_from_environment()
    except ValidationError as error:
        raise CommandError(f"invalid settings in the environment:\n{error}", USAGE) from None
    run: Command = args.run
    return run(settings, args)


if __name__ == "__main__":
    sys.exit(main())
