"""Settings from the environment (README, "Settings"), read once by the entry points."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from adapters.budgets import DEFAULT_POINTS
from auth.keys import is_loopback_host

_ORIGIN = re.compile(r"https?://[A-Za-z0-9.\-\[\]:]+")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    database_url: str = Field("sqlite+aiosqlite:///./incentives.db", validation_alias="DATABASE_URL")
    azure_client_id: str | None = Field(None, validation_alias="AZURE_CLIENT_ID")
    azure_tenant_id: str | None = Field(None, validation_alias="AZURE_TENANT_ID")
    azure_authority_host: str = Field(
        "https://login.microsoftonline.com", validation_alias="AZURE_AUTHORITY_HOST"
    )
    required_scope: str = Field("access_as_user", validation_alias="INCENTIVES_REQUIRED_SCOPE")
    smtp_host: str | None = Field(None, validation_alias="INCENTIVES_SMTP_HOST")
    smtp_port: int = Field(25, validation_alias="INCENTIVES_SMTP_PORT")
    smtp_starttls: bool = Field(False, validation_alias="INCENTIVES_SMTP_STARTTLS")
    smtp_username: str | None = Field(None, validation_alias="INCENTIVES_SMTP_USERNAME")
    smtp_password: SecretStr | None = Field(None, validation_alias="INCENTIVES_SMTP_PASSWORD")
    smtp_timeout: float = Field(30.0, validation_alias="INCENTIVES_SMTP_TIMEOUT")
    mail_max_attempts: int = Field(8, ge=1, le=100, validation_alias="INCENTIVES_MAIL_MAX_ATTEMPTS")
    # Seconds a sender holds the messages it claimed; a crashed sender's unsent ones go out after it.
    mail_lease_seconds: float = Field(300.0, ge=5, validation_alias="INCENTIVES_MAIL_LEASE_SECONDS")
    mail_from: str = Field(
        "Microsoft Partner Center <no-reply@partner.example>",
        validation_alias="INCENTIVES_MAIL_FROM",
    )
    public_url: str = Field("http://127.0.0.1:8000", validation_alias="INCENTIVES_PUBLIC_URL")
    # Outbound calls to Microsoft Graph (MSAL client credentials, as the service).
    azure_client_secret: SecretStr | None = Field(None, validation_alias="AZURE_CLIENT_SECRET")
    azure_client_certificate_path: str | None = Field(None, validation_alias="AZURE_CLIENT_CERTIFICATE_PATH")
    graph_endpoint: str = Field("https://graph.microsoft.com", validation_alias="GRAPH_ENDPOINT")
    # The terminal (`incentives login` / `incentives query`): MSAL public client and where to call.
    cli_client_id: str | None = Field(None, validation_alias="INCENTIVES_CLI_CLIENT_ID")
    api_url: str | None = Field(None, validation_alias="INCENTIVES_API_URL")
    incentives_home: str | None = Field(None, validation_alias="INCENTIVES_HOME")
    log_level: str = Field("INFO", validation_alias="INCENTIVES_LOG_LEVEL")
    # "text" (readable lines) or "json" (one JSON object per line, and a line per request).
    log_format: str = Field("text", pattern="^(text|json)$", validation_alias="INCENTIVES_LOG_FORMAT")
    # Prometheus metrics (docs/observability.md) at /metrics on their own port, never the API's.
    metrics: bool = Field(False, validation_alias="INCENTIVES_METRICS")
    metrics_host: str = Field("127.0.0.1", validation_alias="INCENTIVES_METRICS_HOST")
    metrics_port: int = Field(9464, ge=1, le=65535, validation_alias="INCENTIVES_METRICS_PORT")
    # Seconds between readings of what the database says (the outbox) and of the pool, for metrics.
    metrics_interval: float = Field(15.0, gt=0, validation_alias="INCENTIVES_METRICS_INTERVAL")
    # PostgreSQL connections each `serve` process keeps open; a request uses one for all its SQL.
    database_pool_size: int = Field(20, ge=1, le=500, validation_alias="INCENTIVES_DATABASE_POOL_SIZE")
    # When DATABASE_URL is PgBouncer in transaction mode: PostgreSQL itself, for what needs a session
    # of its own (LISTEN, the batch jobs' advisory locks, migrations). Empty: DATABASE_URL is direct.
    direct_database_url: str = Field("", validation_alias="INCENTIVES_DIRECT_DATABASE_URL")
    # v1 tokens (issuer https://sts.windows.net/{tid}/) are refused unless this is switched on.
    accept_v1_tokens: bool = Field(False, validation_alias="INCENTIVES_ACCEPT_V1_TOKENS")
    # Comma-separated client application ids (azp/appid) allowed to call; empty allows any.
    allowed_client_apps: str = Field("", validation_alias="INCENTIVES_ALLOWED_CLIENT_APPS")
    # How mail leaves: "smtp" (INCENTIVES_SMTP_*) or "graph" (Graph sendMail as MAIL_SENDER_USER).
    mail_transport: str = Field(
        "smtp", pattern="^(smtp|graph)$", validation_alias="INCENTIVES_MAIL_TRANSPORT"
    )
    mail_sender_user: str | None = Field(None, validation_alias="INCENTIVES_MAIL_SENDER_USER")
    # Days before a tax profile expires when its location's Incentives admins are reminded.
    tax_reminder_days: int = Field(30, ge=1, le=365, validation_alias="INCENTIVES_TAX_REMINDER_DAYS")
    # Seconds between rounds of those reminders in `serve` (the first at startup); 0 switches them off.
    tax_reminder_interval: float = Field(3600.0, ge=0, validation_alias="INCENTIVES_TAX_REMINDER_INTERVAL")
    # Rule 15: how often `serve` looks whether the last fiscal year still needs rolling forward
    # (at start-up, then every this many seconds); 0: never (operators run `incentives rollover`).
    rollover_interval: float = Field(3600.0, ge=0, validation_alias="INCENTIVES_ROLLOVER_INTERVAL")
    # Rule 24: how often a server looks for createProgram's and the new year's invitations to issue
    # (0: never); well under the 60 s the contract allows.
    invitation_job_interval: float = Field(5.0, ge=0, validation_alias="INCENTIVES_INVITATION_JOB_INTERVAL")
    # Least seconds between refetches of one tenant's keys for an unknown kid; 0 in tests.
    key_refresh_interval: float = Field(300.0, ge=0, validation_alias="INCENTIVES_KEY_REFRESH_INTERVAL")
    # Seconds between background refreshes of the signing keys of the tenants in use (about hourly).
    key_background_refresh: float = Field(3300.0, gt=0, validation_alias="INCENTIVES_KEY_BACKGROUND_REFRESH")

    # Limits (README "Limits", CONTRACT 6.3).
    max_query_cost: int = Field(50_000, ge=1, le=10_000_000, validation_alias="INCENTIVES_MAX_QUERY_COST")
    rate_limit_points: int = Field(DEFAULT_POINTS, ge=1, validation_alias="INCENTIVES_RATE_LIMIT_POINTS")
    redis_url: str | None = Field(None, validation_alias="INCENTIVES_REDIS_URL")
    request_timeout: float = Field(10.0, gt=0, le=3600, validation_alias="INCENTIVES_REQUEST_TIMEOUT")
    # SIGTERM (CONTRACT 6.5): /readyz answers 503 for the window while new connections are still
    # taken, then the listener closes; everything ends within the grace.
    shutdown_grace_seconds: float = Field(
        25.0, ge=2, le=3600, validation_alias="INCENTIVES_SHUTDOWN_GRACE_SECONDS"
    )
    shutdown_window_seconds: float = Field(
        1.0, ge=1, le=600, validation_alias="INCENTIVES_SHUTDOWN_WINDOW_SECONDS"
    )

    # Traces (the standard OTEL_* settings): whether a sampled request's SQL statements carry its
    # traceparent as a comment (sqlcommenter). Off unless asked for, as OpenTelemetry's own
    # instrumentations leave it: each such text is new to PostgreSQL, which parses and plans it again
    # (docs/observability.md#the-trace-id-in-the-sql).
    trace_sql_comments: bool = Field(False, validation_alias="INCENTIVES_TRACE_SQL_COMMENTS")

    # Tenants never seen before whose signing keys may be fetched, per minute (the rest: 401 at once).
    new_tenants_per_minute: int = Field(60, ge=1, validation_alias="INCENTIVES_NEW_TENANTS_PER_MINUTE")
    # GraphiQL at GET /graphql (the demo turns it on); "Did you mean ...?" in errors (likewise).
    graphiql: bool = Field(False, validation_alias="INCENTIVES_GRAPHIQL")
    # Local development and demos: a loopback service listing sample users and issuing their tokens
    # (the demo's sign-in service); GraphiQL then shows a picker. Empty: no picker.
    graphiql_personas_url: str = Field("", validation_alias="INCENTIVES_GRAPHIQL_PERSONAS_URL")
    graphql_suggestions: bool = Field(False, validation_alias="INCENTIVES_GRAPHQL_SUGGESTIONS")
    # Who may introspect the schema: "members" (of an organization, and operators) or "everyone".
    introspection: str = Field(
        "members", pattern="^(members|everyone)$", validation_alias="INCENTIVES_INTROSPECTION"
    )

    # Trusted documents (CONTRACT 6.5, docs/trusted-documents.md): "off", "log" (untrusted documents
    # served and logged once per id) or "enforce" (partner callers run trusted documents only); and
    # the manifest (empty: the committed trusted-documents.json), for a deployer's own SPA.
    trusted_documents: str = Field(
        "log", pattern="^(off|log|enforce)$", validation_alias="INCENTIVES_TRUSTED_DOCUMENTS"
    )
    trusted_documents_file: str = Field("", validation_alias="INCENTIVES_TRUSTED_DOCUMENTS_FILE")

    # The browser console at /console/ (README "Console"): the application (client) ID of its
    # single-page-app registration in Entra ID, with redirect URI {public URL}/console/. Empty: off.
    console_client_id: str = Field("", validation_alias="INCENTIVES_CONSOLE_CLIENT_ID")

    # Browser origins (scheme://host[:port], comma-separated) that may call the API: CORS on /graphql
    # and the websocket's Origin. Empty: none but the API's own.
    cors_allowed_origins: str = Field("", validation_alias="INCENTIVES_CORS_ALLOWED_ORIGINS")

    @field_validator("graphiql_personas_url")
    @classmethod
    def _loopback_personas(cls, value: str) -> str:
        # It hands out tokens for anyone who asks: only a service on this machine may do that.
        if value and not (
            value.startswith(("http://", "https://")) and is_loopback_host(urlsplit(value).hostname or "")
        ):
            raise ValueError("INCENTIVES_GRAPHIQL_PERSONAS_URL must be an http(s) URL on a loopback host")
        return value

    @field_validator("direct_database_url")
    @classmethod
    def _direct_postgres(cls, value: str) -> str:
        if value and not value.startswith("postgresql+asyncpg://"):
            raise ValueError(
                "INCENTIVES_DIRECT_DATABASE_URL must be a postgresql+asyncpg://user@host:port/db URL"
            )
        return value

    @field_validator("cors_allowed_origins")
    @classmethod
    def _exact_origins(cls, value: str) -> str:
        for origin in (part.strip() for part in value.split(",") if part.strip()):
            if origin == "*":
                raise ValueError("'*' is not allowed: list the exact origins")
            if not _ORIGIN.fullmatch(origin):
                raise ValueError(f"{origin!r} is not an origin (scheme://host[:port], no path)")
        return value

    @model_validator(mode="after")
    def _window_within_grace(self) -> Settings:
        if self.shutdown_window_seconds >= self.shutdown_grace_seconds:
            raise ValueError(
                "INCENTIVES_SHUTDOWN_WINDOW_SECONDS must be less than INCENTIVES_SHUTDOWN_GRACE_SECONDS"
            )
        return self

    def cors_origins(self) -> tuple[str, ...]:
        return tuple(part.strip().lower() for part in self.cors_allowed_origins.split(",") if part.strip())

    def allowed_client_app_ids(self) -> frozenset[str]:
        return frozenset(app.strip().lower() for app in self.allowed_client_apps.split(",") if app.strip())

    def session_database_url(self) -> str:
        """PostgreSQL itself, for what needs a session: the direct URL when there is one."""
        return self.direct_database_url or self.database_url

    def missing_for_serve(self) -> list[str]:
        """The settings `serve` cannot start without."""
        missing = []
        if not self.azure_client_id:
            missing.append("AZURE_CLIENT_ID")
        if not self.azure_tenant_id:
            missing.append("AZURE_TENANT_ID")
        return missing
