"""`incentives demo`: sample data, a loopback sign-in service and the API, with printed tokens.

Everything listens on 127.0.0.1 only: the sign-in service mints tokens for anyone who asks, so it
must never be reachable from another machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import secrets
import signal
import socket
from collections.abc import AsyncIterator, Generator, Sequence
from datetime import timedelta
from pathlib import Path

import uvicorn
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from adapters.graph import ClientSecret, GraphClient, GraphConfig
from api.app import create_app
from api.console import CONSOLE_PATH
from api.entry import CommandError
from api.graceful import api_config
from api.settings import Settings
from domain.database import create_engine, session_factory
from migrations import upgrade
from sandbox.entra import DEMO_CLIENT_APP_ID, LoopbackEntra, serve_loopback
from sandbox.routing import routed_async_http, routed_msal_http
from sandbox.sample_data import CAST, COLLEAGUES, OPERATOR_TENANT_ID, Person, seed
from sandbox.server import tcp_listener

DEMO_DIRECTORY = Path("demo-data")
DEMO_API_CLIENT_ID = "4d56e3e7-fa96-4bdc-9e54-3f758a321659"
DEMO_CONSOLE_CLIENT_ID = "9b2e7c41-3d5a-4f86-a0b1-c2d3e4f5a6b7"  # the console's single-page-app registration
HOST = "127.0.0.1"
TOKEN_LIFETIME = timedelta(hours=12)
DEV_ORIGINS = ("http://127.0.0.1:5173", "http://localhost:5173")
PERSONAS_PATH = "/demo/personas"  # on the loopback sign-in service: GraphiQL's sample-user picker
STARTUP_SECONDS = 30
SHUTDOWN_SECONDS = 10
CURL_QUERY = '{"query":"{ viewer { displayName isGlobalAdmin organization { legalName } } }"}'


class _DemoServer(uvicorn.Server):
    # The demo stops every server itself on Ctrl+C; uvicorn's own handlers would stop only one.
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


def run_demo(settings: Settings, *, port: int, directory: Path = DEMO_DIRECTORY) -> int:
    """Recreate the demo database, then serve until Ctrl+C (or SIGTERM)."""
    api_socket = _loopback_socket(port)
    try:
        database_url = _fresh_database(directory)
        upgrade(database_url)
        asyncio.run(_serve(settings, api_socket, directory, database_url))
    finally:
        api_socket.close()
    return 0


def _loopback_socket(port: int) -> socket.socket:
    try:
        return tcp_listener((HOST, port))
    except OSError as error:
        reason = os.strerror(error.errno) if error.errno else str(error)
        raise CommandError(f"cannot listen on {HOST}:{port} ({reason}); pick another --port") from None


def _fresh_database(directory: Path) -> str:
    directory.mkdir(parents=True, exist_ok=True)
    database = directory / "demo.db"
    for stale in (database, *(database.with_name(database.name + s) for s in ("-wal", "-shm", "-journal"))):
        stale.unlink(missing_ok=True)
    return f"sqlite+aiosqlite:///{database.resolve()}"


async def _serve(settings: Settings, api_socket: socket.socket, directory: Path, database_url: str) -> None:
    api_url = f"http://{HOST}:{api_socket.getsockname()[1]}"
    entra = LoopbackEntra()
    entra.add_routes(_persona_routes(entra, api_url))
    entra_server, issuer_base = await serve_loopback(entra, HOST, 0)
    # The console signs in as a single-page app, redirected back to its page on the API's origin.
    entra.register_application(
        DEMO_CONSOLE_CLIENT_ID, public_client=True, redirect_uris=[f"{api_url}{CONSOLE_PATH}/"]
    )
    try:
        async with _loopback_graph(entra) as graph:
            demo_settings = _demo_settings(settings, database_url, issuer_base, api_url)
            await _seed(database_url, public_url=api_url)
            app = create_app(demo_settings, graph=graph)
            # No access log: a line per request would scroll the tokens off the screen.
            config = api_config(app, log_level=demo_settings.log_level.lower(), access_log=False)
            api_server = _DemoServer(config)
            _stop_on_signals([api_server])
            serving = asyncio.create_task(api_server.serve(sockets=[api_socket]))
            await _until_started(api_server, serving)
            tokens = {person: _mint(entra, person) for person in CAST}
            _write_tokens(directory / "tokens.json", api_url, issuer_base, tokens)
            print(_banner(api_url, issuer_base, directory, tokens), flush=True)
            await serving
    finally:
        # uvicorn's logger is shared: the sign-in service would say "Shutting down" a second time.
        logging.getLogger("uvicorn.error").setLevel(logging.WARNING)
        entra_server.should_exit = True
        await _others_finished()


@contextlib.asynccontextmanager
async def _loopback_graph(entra: LoopbackEntra) -> AsyncIterator[GraphClient]:
    """Graph as the demo API: registered on the loopback issuer, which MSAL and Graph are routed to."""
    secret = secrets.token_urlsafe(32)
    entra.register_application(DEMO_API_CLIENT_ID, secret=secret)
    # `incentives login` signs in as this public client (the Azure CLI's id, as in tokens' `azp`).
    entra.register_application(DEMO_CLIENT_APP_ID, public_client=True)
    for person in CAST:  # signing in as one gives their Entra roles too (`wids`)
        entra.add_directory_user(
            person.tenant_id,
            person.object_id,
            person.email,
            person.name,
            person.email,
            wids=sorted(person.wids),
            app_roles=sorted(person.app_roles),
        )
    for colleague in COLLEAGUES:
        entra.add_directory_user(
            colleague.tenant_id, colleague.object_id, colleague.email, colleague.name, colleague.email
        )
    msal_http, http = routed_msal_http(entra.base_url), routed_async_http(entra.base_url)
    try:
        yield GraphClient(GraphConfig(DEMO_API_CLIENT_ID, ClientSecret(secret)), http, msal_http=msal_http)
    finally:
        await http.aclose()
        await asyncio.to_thread(msal_http.close)


def _demo_settings(settings: Settings, database_url: str, issuer_base: str, api_url: str) -> Settings:
    return settings.model_copy(
        update={
            "database_url": database_url,
            "azure_client_id": DEMO_API_CLIENT_ID,
            "azure_tenant_id": OPERATOR_TENANT_ID,
            "azure_authority_host": issuer_base,
            "public_url": api_url,
            # A place to try things: GraphiQL, and "Did you mean ...?" in errors.
            "graphiql": True,
            # The browser console at /console/, signing in through the loopback service.
            "console_client_id": DEMO_CONSOLE_CLIENT_ID,
            "graphql_suggestions": True,
            # GraphiQL's picker signs the page in as any sample user (no token pasting).
            "graphiql_personas_url": f"{issuer_base}{PERSONAS_PATH}",
            # The usual local dev servers of a single-page app (Vite's port), and any others set.
            "cors_allowed_origins": ",".join((*DEV_ORIGINS, *settings.cors_origins())),
        }
    )


async def _seed(database_url: str, *, public_url: str) -> None:
    engine = create_engine(database_url)
    try:
        await seed(session_factory(engine), public_url=public_url)
    finally:
        await engine.dispose()


def _stop_on_signals(servers: Sequence[uvicorn.Server]) -> None:
    def stop() -> None:
        for server in servers:
            server.should_exit = True

    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop)


async def _until_started(server: uvicorn.Server, serving: asyncio.Task[None]) -> None:
    async with asyncio.timeout(STARTUP_SECONDS):
        while not server.started:
            if serving.done():
                await serving
                raise RuntimeError("the API did not start")
            await asyncio.sleep(0.02)


async def _others_finished() -> None:
    """Let the servers started in this loop finish shutting down, rather than be cancelled."""
    others = asyncio.all_tasks() - {asyncio.current_task()}
    if others:
        await asyncio.wait(others, timeout=SHUTDOWN_SECONDS)


def _persona_routes(entra: LoopbackEntra, api_url: str) -> list[Route]:
    """The sample users, and a fresh token for one, for GraphiQL's picker on the API's origin."""
    cors = {"Access-Control-Allow-Origin": api_url}
    cast = {person.key: person for person in CAST}

    async def personas(request: Request) -> Response:
        listed = [{"key": p.key, "label": p.label, "name": p.name, "email": p.email} for p in CAST]
        return JSONResponse(listed, headers=cors)

    async def token(request: Request) -> Response:
        person = cast.get(request.path_params["key"])
        if person is None:
            return JSONResponse({"error": "unknown sample user"}, status_code=404, headers=cors)
        return JSONResponse({"access_token": _mint(entra, person), "token_type": "Bearer"}, headers=cors)

    return [
        Route(PERSONAS_PATH, personas, methods=["GET"]),
        Route(f"{PERSONAS_PATH}/{{key}}/token", token, methods=["POST"]),
    ]


def _mint(entra: LoopbackEntra, person: Person) -> str:
    return entra.mint(
        tenant_id=person.tenant_id,
        object_id=person.object_id,
        audience=DEMO_API_CLIENT_ID,
        roles=sorted(person.app_roles),
        wids=sorted(person.wids),
        name=person.name,
        email=person.email,
        lifetime=TOKEN_LIFETIME,
    )


def _write_tokens(path: Path, api_url: str, issuer_base: str, tokens: dict[Person, str]) -> None:
    document = {
        "graphql": f"{api_url}/graphql",
        "authorityHost": issuer_base,
        "clientId": DEMO_API_CLIENT_ID,
        "tokens": {person.key: token for person, token in tokens.items()},
    }
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")


def _terminal_line(api_url: str, issuer_base: str) -> str:
    """The settings `incentives login` and `query` need to use the demo, as a line to paste."""
    return (
        f"export AZURE_AUTHORITY_HOST={issuer_base} AZURE_CLIENT_ID={DEMO_API_CLIENT_ID} "
        f"INCENTIVES_CLI_CLIENT_ID={DEMO_CLIENT_APP_ID} INCENTIVES_API_URL={api_url}/graphql "
        "INCENTIVES_HOME=demo-data/terminal"
    )


def _banner(api_url: str, issuer_base: str, directory: Path, tokens: dict[Person, str]) -> str:
    people = "\n".join(
        f"  # {person.label}: {person.name} <{person.email}>\n  export {person.variable}={token}\n"
        for person, token in tokens.items()
    )
    return f"""
Incentives demo: sample data in {directory / "demo.db"} (recreated on every start).

  Console:        {api_url}{CONSOLE_PATH}/   (sign in as any sample user)
  GraphiQL:       {api_url}/graphql
  Sign-in (fake): {issuer_base}   (loopback Entra ID; tokens valid for 12 hours)
  Directory:      loopback Microsoft Graph; as Contoso's Global admin, try directoryUsers(search: "Nils")

Tokens for sample users (also in {directory / "tokens.json"}); paste a line into your shell:

{people}
Try it:

  curl -s {api_url}/graphql -H "Authorization: Bearer $GLOBAL_ADMIN_TOKEN" \\
    -H 'Content-Type: application/json' -d '{CURL_QUERY}'

Or from the command line, with a token above, or signed in with a device code as any sample user:

  incentives query --token "$GLOBAL_ADMIN_TOKEN" '{{ viewer {{ displayName }} }}' --url {api_url}/graphql
  {_terminal_line(api_url, issuer_base)}
  incentives login && incentives query '{{ viewer {{ displayName }} }}'

In GraphiQL, pick a sample user at the top of the page (or paste a header under "Headers":
{{"Authorization": "Bearer <a token above>"}}). It works offline: its files ship with the package.
Requests are not logged, so this stays on screen.

Press Ctrl+C to stop.
"""
