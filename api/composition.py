"""The composition root: from `Settings` to one immutable set of services, built once at start-up.

    async with running(settings, token_rules(settings)) as services:   # the app's lifespan
        services.uow()                  # a unit of work for one use case
        services.authenticator          # Authorization header -> Principal

Everything that talks to the outside world is chosen here from the settings, started here and
stopped (in reverse order) when the block ends: the database engine, the signing keys and their
background refresh, Microsoft Graph, the event bus, outgoing mail and the tax expiry reminders.
Tests and the demo pass some of them in ready-made (`engine`, `authenticator`, `graph`, ...); what is
passed in is theirs to close.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractContextManager, AsyncExitStack, asynccontextmanager, nullcontext
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from adapters.budgets import DEFAULT_POINTS, Budgets, InProcessBudgets, RedisBudgets
from adapters.call_spans import TracedAsyncTransport, TracedMail, TracedTransport
from adapters.driver_reads import on_every_statement
from adapters.events import bus_for
from adapters.graph import ClientCertificate, ClientCredential, ClientSecret, GraphClient, GraphConfig
from adapters.graph_mail import Clients, GraphMailTransport, default_clients
from adapters.loops import Periodic
from adapters.msal_http import DEFAULT_TIMEOUT, MsalHttpClient
from adapters.smtp import SmtpSettings, SmtpTransport
from adapters.sql_spans import trace_statements, tracer_for
from api import observed
from api.draining import Draining
from api.graphql.limits import Limits
from api.metrics import Metrics, readings_loop, time_checkouts
from api.read.versions import version_reader
from api.settings import Settings
from api.tracing import tracer, tracing_on
from auth.authenticate import Authenticator, Callers
from auth.keys import SigningKeys
from auth.principal import system_principal
from auth.tokens import TokenRules, TokenValidator
from domain.clock import Clock, SystemClock
from domain.database import create_engine, session_factory
from domain.directory import Directory
from domain.errors import Conflict
from domain.events import CallersChanged, Event, EventBus, EventsMissed, InvitationsIssued
from domain.fiscal import fiscal_year_of
from domain.jobs import ProgressCallback, Stopping
from domain.mail.delivery import OutboxDelivery, Transport
from domain.mail.reminders import queue_tax_expiry_reminders
from domain.model import OrganizationTenant
from domain.services.invitation_jobs import queue_new_year, run_invitation_jobs
from domain.services.rollover import roll_over_fiscal_year
from domain.uow import UnitOfWork

logger = logging.getLogger("incentives.api")

MAIL_POLL_SECONDS = 2.0
MAIL_STOP_SECONDS = 10.0  # and for a batch job's batch in flight, at most half the shutdown grace


class GraphMailNotConfigured(ValueError):
    """INCENTIVES_MAIL_TRANSPORT=graph without what Graph needs; `serve` refuses to start."""


@dataclass(frozen=True)
class Services:
    """What the running app holds for every request; built by `running`, never changed after."""

    clock: Clock
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    authenticator: Authenticator
    events: EventBus
    directory: Directory
    public_url: str
    # Deliver promptly what a mutation just queued (a no-op when mail stays queued).
    mail_queued: Callable[[], None]
    limits: Limits = field(default_factory=Limits)
    request_timeout: float = 10.0  # seconds a GraphQL request over HTTP may run (INCENTIVES_REQUEST_TIMEOUT)
    suggestions: bool = False  # "Did you mean ...?" in GraphQL errors
    introspection_for_everyone: bool = False  # else organization members and operators only
    # Each caller's points per minute (CONTRACT 6.3); in Redis when INCENTIVES_REDIS_URL is set.
    budgets: Budgets = field(default_factory=lambda: InProcessBudgets(DEFAULT_POINTS))
    # Set from SIGTERM on (api.graceful): /readyz answers 503, the loops below stop.
    draining: Draining = field(default_factory=Draining)
    # This process's Prometheus metrics (INCENTIVES_METRICS), else None.
    metrics: Metrics | None = None

    def uow(self) -> UnitOfWork:
        """A new unit of work for one use case (never shared between concurrent resolvers)."""
        return UnitOfWork(self.sessions, self.clock)

    @cached_property
    def reads(self) -> async_sessionmaker[AsyncSession]:
        """Sessions for reads only, without a transaction: no BEGIN and ROLLBACK round trips around
        them (at READ COMMITTED each statement sees its own snapshot either way)."""
        return async_sessionmaker(self.engine.execution_options(isolation_level="AUTOCOMMIT"))


def token_rules(settings: Settings) -> TokenRules:
    """The token rules from settings; a clear `ValueError` for what `serve` cannot start with."""
    missing = settings.missing_for_serve()
    if missing:
        raise ValueError(f"set {' and '.join(missing)} to serve the API")
    assert settings.azure_client_id is not None
    assert settings.azure_tenant_id is not None
    try:
        return TokenRules(
            authority_host=settings.azure_authority_host.rstrip("/"),
            client_id=settings.azure_client_id,
            operator_tenant_id=settings.azure_tenant_id,
            required_scope=settings.required_scope,
            accept_v1_tokens=settings.accept_v1_tokens,
            allowed_client_apps=settings.allowed_client_app_ids(),
        )
    except ValueError as error:
        raise ValueError(f"AZURE_AUTHORITY_HOST / AZURE_* settings refused: {error}") from error


@asynccontextmanager
async def running(
    settings: Settings,
    rules: TokenRules | None,
    *,
    clock: Clock | None = None,
    engine: AsyncEngine | None = None,
    authenticator: Authenticator | None = None,
    events: EventBus | None = None,
    graph: GraphClient | None = None,
) -> AsyncIterator[Services]:
    """The services for `settings`, started for the block; `rules` may be None only with `authenticator`."""
    clock = clock or SystemClock()
    metrics = Metrics() if settings.metrics else None
    async with AsyncExitStack() as stack:
        if engine is None:
            engine = create_engine(
                settings.database_url,
                pool_size=settings.database_pool_size,
                direct_url=settings.direct_database_url or None,
            )
            stack.push_async_callback(engine.dispose)
        if tracing_on() and tracer_for(engine) is None:
            trace_statements(engine, tracer(), comments=settings.trace_sql_comments)
        sessions = session_factory(engine)
        if authenticator is None:
            assert rules is not None, "token rules are needed unless an authenticator is given"
            authenticator = await _signing_in(stack, settings, rules, sessions, metrics)
        if events is None:
            events = bus_for(engine)
        _forget_changed_callers(events, authenticator)
        await events.start()
        stack.push_async_callback(events.stop)
        directory = graph or await _graph(stack, settings)
        draining = Draining()
        if metrics is not None:
            _observing(stack, settings, metrics, engine, clock, draining)
        mail_queued = await _mail_delivery(stack, settings, sessions, clock, draining, metrics)
        _tax_reminders(stack, settings, sessions, clock, mail_queued, draining)
        _roll_forward(stack, settings, sessions, clock, draining, metrics)
        _invitation_jobs(
            stack,
            settings,
            draining,
            lambda: invitation_job_loop(
                sessions,
                clock,
                operator_tenant_id=settings.azure_tenant_id or "",
                public_url=settings.public_url,
                interval=settings.invitation_job_interval,
                mail_queued=mail_queued,
                announce=events.publish,
                stopping=draining,
                grace=_stop_grace(settings),
                metrics=metrics,
            ),
        )
        budgets = budgets_for(settings)
        stack.push_async_callback(budgets.close)
        # First on the way out (or already under way since SIGTERM): the loops end, leases go back.
        stack.push_async_callback(draining.stop_background)
        yield Services(
            clock=clock,
            engine=engine,
            sessions=sessions,
            authenticator=authenticator,
            events=events,
            directory=directory,
            public_url=settings.public_url,
            mail_queued=mail_queued,
            limits=Limits(cost=settings.max_query_cost),
            budgets=budgets,
            request_timeout=settings.request_timeout,
            suggestions=settings.graphql_suggestions,
            introspection_for_everyone=settings.introspection == "everyone",
            draining=draining,
            metrics=metrics,
        )


def _observing(
    stack: AsyncExitStack,
    settings: Settings,
    metrics: Metrics,
    engine: AsyncEngine,
    clock: Clock,
    draining: Draining,
) -> None:
    """Metrics on: each request's statements counted, checkouts timed, the gauges read periodically."""
    stack.enter_context(on_every_statement(engine, lambda sql, parameters: observed.statement()))
    stack.callback(time_checkouts(engine, metrics))
    loop = readings_loop(metrics, engine, session_factory(engine), clock, settings.metrics_interval)
    _started(stack, draining, loop)


def budgets_for(settings: Settings) -> Budgets:
    """Callers' budgets: shared in Redis when INCENTIVES_REDIS_URL is set, else this process's own."""
    if settings.redis_url:
        return RedisBudgets(settings.redis_url, settings.rate_limit_points)
    return InProcessBudgets(settings.rate_limit_points)


async def _signing_in(
    stack: AsyncExitStack,
    settings: Settings,
    rules: TokenRules,
    sessions: async_sessionmaker[AsyncSession],
    metrics: Metrics | None = None,
) -> Authenticator:
    """The authenticator, with the signing keys of the tenants in use refreshed in the background."""
    http = await stack.enter_async_context(httpx.AsyncClient(timeout=10.0, transport=traced_http()))
    keys = SigningKeys(
        rules.authority_host,
        http,
        min_refresh_interval=settings.key_refresh_interval,
        new_tenants_per_minute=settings.new_tenants_per_minute,
        fetched=metrics.key_fetched if metrics is not None else lambda ok: None,
    )
    keys.known({rules.operator_tenant_id, *await known_tenants(sessions)})
    refresh = key_refresh_loop(keys.refresh_in_use, interval=settings.key_background_refresh)
    refresh.start()
    stack.push_async_callback(refresh.stop)
    validator = TokenValidator(rules, keys)
    read_version = version_reader(sessions)
    return Authenticator(
        validator, sessions, rules.operator_tenant_id, recent=Callers(), read_version=read_version
    )


async def known_tenants(sessions: async_sessionmaker[AsyncSession]) -> list[str]:
    """The tenants of the organizations the service holds: their keys are never budgeted or forgotten."""
    try:
        async with sessions() as session:
            return list((await session.scalars(select(OrganizationTenant.tenant_id))).all())
    except Exception:  # the database away at start-up: they are let in as they come, budgeted
        logger.warning("the organizations' tenants could not be read; signing in continues", exc_info=True)
        return []


def _forget_changed_callers(events: EventBus, authenticator: Authenticator) -> None:
    """A fast path only: the version of a tenant's callers is what makes a change hold everywhere
    (`domain.caller_versions`); a listener that was down drops everything remembered."""
    recent = authenticator.recent
    if recent is None:
        return

    def forget(event: Event) -> None:
        if isinstance(event, CallersChanged):
            recent.forget_tenant(event.tenant_id)
        elif isinstance(event, EventsMissed):
            recent.forget_all()

    events.on_event(forget)


def key_refresh_loop(
    refresh: Callable[[], Awaitable[None]],
    *,
    interval: float,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> Periodic:
    """Entra rolls its keys without notice (https://learn.microsoft.com/entra/identity-platform/
    signing-key-rollover): refresh those in use about hourly (`SigningKeys.refresh_in_use`). The
    first round waits an interval, because a tenant's keys are fetched when its first token arrives."""
    return Periodic(
        "signing-key-refresh",
        refresh,
        interval=interval,
        wait_first=True,
        failure="background refresh of signing keys failed",
        sleep=sleep,
    )


async def _graph(stack: AsyncExitStack, settings: Settings) -> GraphClient:
    """Microsoft Graph as the service (directory lookups); says it is not configured without credentials."""
    http = await stack.enter_async_context(
        httpx.AsyncClient(timeout=10.0, trust_env=False, transport=traced_http(trust_env=False))
    )
    msal_http = _traced_msal_http()
    if msal_http is not None:
        stack.callback(msal_http.close)
    graph = GraphClient(graph_config(settings), http, msal_http=msal_http)
    stack.push_async_callback(graph.close)
    if not graph.configured:
        logger.info("AZURE_CLIENT_SECRET / AZURE_CLIENT_CERTIFICATE_PATH not set: directory lookups are off")
    return graph


def traced_http(*, trust_env: bool = True) -> httpx.AsyncBaseTransport | None:
    """The transport of an `httpx.AsyncClient` whose calls are spans (`adapters.call_spans`) when
    traces are on (httpx's own inside, as the client's `trust_env` would make it); None otherwise."""
    if not tracing_on():
        return None
    return TracedAsyncTransport(tracer(), httpx.AsyncHTTPTransport(trust_env=trust_env))


def _traced_msal_http() -> MsalHttpClient | None:
    """MSAL's HTTP client with its token calls as spans, when traces are on (else MSAL's default)."""
    if not tracing_on():
        return None
    transport = TracedTransport(tracer(), httpx.HTTPTransport(trust_env=False))
    return MsalHttpClient(httpx.Client(timeout=DEFAULT_TIMEOUT, trust_env=False, transport=transport))


def _traced_graph_clients() -> tuple[httpx.AsyncClient, MsalHttpClient]:
    """Graph mail's HTTP clients (`adapters.graph_mail.default_clients`), their calls as spans."""
    msal_http = _traced_msal_http()
    assert msal_http is not None
    http = httpx.AsyncClient(timeout=30.0, trust_env=False, transport=traced_http(trust_env=False))
    return http, msal_http


def graph_config(settings: Settings) -> GraphConfig:
    """Who the service is to Entra when it calls Graph: a secret, else a certificate, else nothing."""
    secret = settings.azure_client_secret.get_secret_value() if settings.azure_client_secret else ""
    certificate = settings.azure_client_certificate_path
    credential: ClientCredential | None = (
        ClientSecret(secret) if secret else ClientCertificate(Path(certificate)) if certificate else None
    )
    return GraphConfig(settings.azure_client_id, credential, settings.graph_endpoint.rstrip("/"))


def smtp_settings(settings: Settings) -> SmtpSettings | None:
    """The mail server, or None when INCENTIVES_SMTP_HOST is unset (mail stays queued)."""
    if not settings.smtp_host:
        return None
    password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
    return SmtpSettings(
        host=settings.smtp_host,
        port=settings.smtp_port,
        starttls=settings.smtp_starttls,
        username=settings.smtp_username or None,
        password=password or None,
        timeout=settings.smtp_timeout,
        max_attempts=settings.mail_max_attempts,
    )


def mail_transport(
    settings: Settings, *, graph_clients: Clients = default_clients
) -> SmtpTransport | GraphMailTransport | None:
    """How mail leaves (INCENTIVES_MAIL_TRANSPORT), or None when it stays queued.

    With `graph`, a missing setting is a `GraphMailNotConfigured`: the app does not start
    half-configured. Graph sends as INCENTIVES_MAIL_SENDER_USER in the operator tenant
    (AZURE_TENANT_ID), signed in with AZURE_CLIENT_ID and its secret or certificate.
    """
    if settings.mail_transport == "graph":
        config = graph_config(settings)
        tenant_id, sender = settings.azure_tenant_id, settings.mail_sender_user
        missing = [
            name
            for name, value in (
                ("AZURE_CLIENT_ID", config.client_id),
                ("AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH", config.credential),
                ("AZURE_TENANT_ID", tenant_id),
                ("INCENTIVES_MAIL_SENDER_USER", sender),
            )
            if not value
        ]
        if missing:
            raise GraphMailNotConfigured(
                f"INCENTIVES_MAIL_TRANSPORT=graph needs {', '.join(missing)} to send mail through "
                "Microsoft Graph"
            )
        assert tenant_id is not None
        assert sender is not None
        return GraphMailTransport(config, tenant_id=tenant_id, sender=sender, clients=graph_clients)
    smtp = smtp_settings(settings)
    return None if smtp is None else SmtpTransport(smtp, mail_from=settings.mail_from)


def mail_delivery(
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    clock: Clock,
    transport: Transport,
    metrics: Metrics | None = None,
) -> OutboxDelivery:
    return OutboxDelivery(
        sessions,
        transport,
        clock=clock,
        max_attempts=settings.mail_max_attempts,
        lease_seconds=settings.mail_lease_seconds,
        delivered=metrics.delivered if metrics is not None else lambda result: None,
    )


def mail_delivery_loop(
    delivery: OutboxDelivery,
    *,
    poll_interval: float = MAIL_POLL_SECONDS,
    stop_timeout: float = MAIL_STOP_SECONDS,
) -> Periodic:
    """Delivers due mail every `poll_interval` seconds, at once after `wake()`, and again at once
    while batches come back full; stopping lets the message in flight finish (up to `stop_timeout`)."""

    async def deliver() -> float | None:
        delivered = await delivery.run_once(stopping=lambda: loop.stopping)
        return 0.0 if delivered >= delivery.batch_size else None

    loop = Periodic(
        "outbox-delivery",
        deliver,
        interval=poll_interval,
        grace=stop_timeout,
        failure="outbox delivery round failed; retrying next round",
    )
    return loop


async def _mail_delivery(
    stack: AsyncExitStack,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    clock: Clock,
    draining: Draining,
    metrics: Metrics | None = None,
) -> Callable[[], None]:
    """Deliver the outbox in the background while the app runs; returns how to wake the delivery."""
    traced = tracing_on()
    transport: SmtpTransport | GraphMailTransport | TracedMail | None = mail_transport(
        settings, graph_clients=_traced_graph_clients if traced else default_clients
    )
    if traced and isinstance(transport, SmtpTransport) and settings.smtp_host:
        transport = TracedMail(transport, tracer(), server=settings.smtp_host, port=settings.smtp_port)
    if transport is None:
        logger.info("INCENTIVES_SMTP_HOST is not set: outgoing mail stays queued")
        return _nothing
    stack.push_async_callback(transport.aclose)
    # The message in flight may finish within the stop grace; the rest of the batch goes back.
    delivery = mail_delivery(settings, sessions, clock, transport, metrics)
    loop = mail_delivery_loop(delivery, stop_timeout=_stop_grace(settings))
    _started(stack, draining, loop)
    return loop.wake


def tax_reminder_loop(
    sessions: async_sessionmaker[AsyncSession],
    clock: Clock,
    *,
    days: int,
    public_url: str,
    interval: float,
    mail_queued: Callable[[], None] = lambda: None,
    grace: float = 0.0,
) -> Periodic:
    """Queues the due tax expiry reminders at start-up, then every `interval` seconds. Each round
    claims what it sends in the database, so several workers never queue a reminder twice; a
    round in flight when the loop stops may commit within `grace` seconds."""

    async def remind() -> None:
        queued = await queue_tax_expiry_reminders(
            UnitOfWork(sessions, clock), today=clock.today(), days=days, public_url=public_url
        )
        if queued:
            logger.info("queued %d tax profile expiry reminder(s)", queued)
            mail_queued()

    return Periodic(
        "tax-expiry-reminders", remind, interval=interval, grace=grace, failure="tax expiry reminders failed"
    )


def _tax_reminders(
    stack: AsyncExitStack,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    clock: Clock,
    mail_queued: Callable[[], None],
    draining: Draining,
) -> None:
    if settings.tax_reminder_interval <= 0:
        return
    loop = tax_reminder_loop(
        sessions,
        clock,
        days=settings.tax_reminder_days,
        public_url=settings.public_url,
        interval=settings.tax_reminder_interval,
        mail_queued=mail_queued,
        grace=_stop_grace(settings),
    )
    _started(stack, draining, loop)


def roll_forward_loop(
    sessions: async_sessionmaker[AsyncSession],
    clock: Clock,
    *,
    operator_tenant_id: str,
    interval: float,
    stopping: Stopping | None = None,
    grace: float = 0.0,
    metrics: Metrics | None = None,
) -> Periodic:
    """Rule 15: on or after July 1 of N+1 the running server rolls fiscal year N forward by itself,
    as the operator, under the same lease as `incentives rollover`: of several servers one does it,
    the others find it busy and, next round, nothing left. Each server remembers the years it
    finished; a re-run (or the operator's mutation) changes nothing more. Once `stopping` is
    requested the run ends after the batch in flight (committed within `grace` seconds) and gives
    its lease back, so another server carries the rest at once."""
    finished: set[int] = set()
    operator = system_principal(operator_tenant_id)

    async def roll() -> None:
        from_year = fiscal_year_of(clock.today()) - 1
        if from_year in finished:
            return
        try:
            with _job(metrics, "rollover") as progress:
                made = await roll_over_fiscal_year(
                    UnitOfWork(sessions, clock),
                    operator,
                    from_fiscal_year=from_year,
                    stopping=stopping,
                    progress=progress,
                )
        except Conflict:
            return  # another server is rolling it forward now: look again next round
        if stopping is None or not stopping.requested():
            # Rules 24 and 25: the new year's invitations, issued by the invitation worker.
            await queue_new_year(UnitOfWork(sessions, clock), from_year + 1)
            finished.add(from_year)
        if made.total:
            logger.info(
                "rolled FY %d forward: carried %d, action required %d, ineligible %d, inactive %d",
                from_year,
                made.carried,
                made.action_required,
                made.ineligible,
                made.inactive,
            )

    return Periodic(
        "roll-forward", roll, interval=interval, grace=grace, failure="the fiscal-year roll-forward failed"
    )


def _roll_forward(
    stack: AsyncExitStack,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    clock: Clock,
    draining: Draining,
    metrics: Metrics | None = None,
) -> None:
    if settings.rollover_interval <= 0:
        return
    loop = roll_forward_loop(
        sessions,
        clock,
        operator_tenant_id=settings.azure_tenant_id or "",
        interval=settings.rollover_interval,
        stopping=draining,
        grace=_stop_grace(settings),
        metrics=metrics,
    )
    _started(stack, draining, loop)


def _job(metrics: Metrics | None, name: str) -> AbstractContextManager[ProgressCallback | None]:
    """A batch job's round, counted when metrics are on (running, rows done)."""
    return nullcontext(None) if metrics is None else metrics.job(name)


def _stop_grace(settings: Settings) -> float:
    """How long a loop's batch in flight may run on once it is told to stop, before it is cancelled."""
    return min(MAIL_STOP_SECONDS, settings.shutdown_grace_seconds / 2)


def _started(stack: AsyncExitStack, draining: Draining, loop: Periodic) -> None:
    """Start a background loop, stopped at SIGTERM (giving up its leases) or else on the way out."""
    if tracing_on():
        loop.tracer = tracer()  # each batch a trace (`Periodic`)
    loop.start()
    stack.push_async_callback(loop.stop)
    draining.on_stop(loop.stop)


def invitation_job_loop(
    sessions: async_sessionmaker[AsyncSession],
    clock: Clock,
    *,
    operator_tenant_id: str,
    public_url: str,
    interval: float,
    mail_queued: Callable[[], None] = lambda: None,
    announce: Callable[[Event], Awaitable[None]] | None = None,
    stopping: Stopping | None = None,
    grace: float = 0.0,
    metrics: Metrics | None = None,
) -> Periodic:
    """Rule 24: issues the pending invitation jobs (createProgram's, the new year's) as the operator;
    their lease per program lets one server work on a program, the others skip it. Each program's
    new invitations are announced, as the operator's batch announces them (live notices), and the
    outbox is woken. Once `stopping` is requested the job ends after the batch in flight."""
    operator = system_principal(operator_tenant_id)

    async def issue() -> None:
        with _job(metrics, "invitations"):
            issued = await run_invitation_jobs(
                UnitOfWork(sessions, clock), operator, public_url=public_url, stopping=stopping
            )
        made = [job for job in issued if job.invited]
        if metrics is not None:
            metrics.job_rows.labels("invitations").inc(sum(job.invited for job in made))
        if announce is not None:
            for job in made:
                await announce(InvitationsIssued(job.program_id, job.fiscal_year))
        if made:
            logger.info("issued %d invitation(s) in the background", sum(job.invited for job in made))
            mail_queued()

    return Periodic(
        "invitation-jobs", issue, interval=interval, grace=grace, failure="background invitations failed"
    )


def _invitation_jobs(
    stack: AsyncExitStack, settings: Settings, draining: Draining, loop: Callable[[], Periodic]
) -> None:
    """Rule 24's worker, unless INCENTIVES_INVITATION_JOB_INTERVAL is 0."""
    if settings.invitation_job_interval > 0:
        _started(stack, draining, loop())


def _nothing() -> None:
    return None
