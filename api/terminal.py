"""`incentives login` and `incentives query`: an admin at the terminal, signed in with MSAL.

    incentives login                      # device-code sign-in; prints the code to enter
    incentives query '{ viewer { objectId } }' [--variables '{"id": 1}'] [--url URL] [--token JWT]

`login` runs MSAL's device-code flow as a public client (INCENTIVES_CLI_CLIENT_ID, by default
AZURE_CLIENT_ID) against `{AZURE_AUTHORITY_HOST}/{AZURE_TENANT_ID or organizations}` (by default
`https://login.microsoftonline.com`; another host, such as the demo's loopback sign-in, is used as
given, without Microsoft's instance discovery) for the API's scope
`api://{AZURE_CLIENT_ID}/access_as_user`. The token cache is kept in `~/.incentives/msal_cache.json`
(mode 0600; the directory is INCENTIVES_HOME when set), never in the working tree. `query` sends
the token given with `--token` or in INCENTIVES_TOKEN (a demo
token line works as printed), else takes one from that cache silently (refreshing it if it must), posts
to the API (INCENTIVES_API_URL, default http://127.0.0.1:8000/graphql) and prints the JSON reply.

Exit codes: 0 done, 1 not signed in, sign-in failed, or the API answered with errors; 2 usage.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import msal

from adapters.msal_http import MsalHttpClient
from api.entry import USAGE, CommandError
from api.settings import Settings
from auth.keys import is_loopback_host

DEFAULT_API_URL = "http://127.0.0.1:8000/graphql"
MICROSOFT_AUTHORITY_HOST = "https://login.microsoftonline.com"
TOKEN_VARIABLE = "INCENTIVES_TOKEN"  # noqa: S105 (the variable's name, not a token)
CACHE_FILE = "msal_cache.json"
LOGIN_HINT = "not signed in: run `incentives login` first"
MAX_SIGN_IN_WAIT_SECONDS = 15 * 60
QUERY_TIMEOUT_SECONDS = 60.0


@dataclass(frozen=True)
class TerminalConfig:
    """Who the terminal signs in as and for what, where it keeps tokens, and which API it calls."""

    api_client_id: str
    cli_client_id: str
    tenant: str
    api_url: str
    home: Path
    authority_host: str = MICROSOFT_AUTHORITY_HOST

    @property
    def authority(self) -> str:
        return f"{self.authority_host.rstrip('/')}/{self.tenant}"

    @property
    def plain_loopback(self) -> bool:
        """A plain-HTTP authority on loopback (the demo's): named to MSAL as https, reached as http."""
        url = httpx.URL(self.authority_host)
        return url.scheme == "http" and is_loopback_host(url.host)

    @property
    def msal_authority(self) -> str:
        return "https" + self.authority.removeprefix("http") if self.plain_loopback else self.authority

    @property
    def is_microsoft(self) -> bool:
        """Whether the authority is Entra's own host (MSAL then checks it with instance discovery)."""
        return self.authority_host.rstrip("/") == MICROSOFT_AUTHORITY_HOST

    @property
    def scopes(self) -> list[str]:
        return [f"api://{self.api_client_id}/access_as_user"]

    @property
    def cache_path(self) -> Path:
        return self.home / CACHE_FILE

    @classmethod
    def from_settings(cls, settings: Settings, url: str | None = None) -> TerminalConfig:
        api_client_id = settings.azure_client_id
        if not api_client_id:
            raise CommandError("set AZURE_CLIENT_ID (the API's application id) to sign in", USAGE)
        home = settings.incentives_home
        return cls(
            api_client_id=api_client_id,
            cli_client_id=settings.cli_client_id or api_client_id,
            tenant=settings.azure_tenant_id or "organizations",
            api_url=url or settings.api_url or DEFAULT_API_URL,
            home=Path(home).expanduser() if home else Path.home() / ".incentives",
            authority_host=settings.azure_authority_host,
        )


def add_terminal_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `login` and `query` to the `incentives` sub-commands (each sets `run`)."""
    signed_in = commands.add_parser(
        "login", help="sign in at the terminal (device code)", description=login.__doc__
    )
    signed_in.set_defaults(run=login)
    queried = commands.add_parser(
        "query", help="call the API as the signed-in admin", description=query.__doc__
    )
    queried.add_argument("document", metavar="GRAPHQL", help="the GraphQL query or mutation")
    queried.add_argument("--variables", type=_json_object, default={}, metavar="JSON")
    queried.add_argument("--url", default=None, help=f"the API's GraphQL URL (default {DEFAULT_API_URL})")
    queried.add_argument(
        "--token",
        default=None,
        metavar="JWT",
        help=f"send this access token (default: ${TOKEN_VARIABLE}, else the one `login` cached)",
    )
    queried.set_defaults(run=query)


def login(settings: Settings, args: argparse.Namespace, *, msal_http: MsalHttpClient | None = None) -> int:
    """Sign in with a device code and keep the tokens in the user's token cache."""
    config = TerminalConfig.from_settings(settings)
    cache = _load_cache(config.cache_path)
    with _MsalSession(config, cache, msal_http) as app:
        flow = app.initiate_device_flow(scopes=config.scopes)
        if "user_code" not in flow:
            raise CommandError(f"sign-in could not start: {_reason(flow)}")
        print(flow["message"], flush=True)
        # MSAL polls until the code expires; never wait longer than our own limit either.
        flow["expires_at"] = min(flow["expires_at"], time.time() + MAX_SIGN_IN_WAIT_SECONDS)
        result = app.acquire_token_by_device_flow(flow)
    if "access_token" not in result:
        raise CommandError(f"sign-in failed: {_reason(result)}")
    _save_cache(cache, config.cache_path)
    who = result.get("id_token_claims", {}).get("preferred_username", "you")
    print(f"Signed in as {who}. Tokens are cached in {config.cache_path}.")
    return 0


def query(
    settings: Settings,
    args: argparse.Namespace,
    *,
    msal_http: MsalHttpClient | None = None,
    http: httpx.Client | None = None,
) -> int:
    """Send one GraphQL document to the API as the signed-in admin and print the JSON reply."""
    api_url: str = args.url or settings.api_url or DEFAULT_API_URL
    # A token given as is needs no sign-in settings; otherwise the one `login` cached.
    token = args.token or os.environ.get(TOKEN_VARIABLE)
    if not token:
        token = _cached_token(TerminalConfig.from_settings(settings, url=api_url), msal_http)
    payload = {"query": args.document, "variables": args.variables}
    client = http or httpx.Client(timeout=QUERY_TIMEOUT_SECONDS, trust_env=False)
    try:
        response = client.post(api_url, json=payload, headers={"Authorization": f"Bearer {token}"})
    except httpx.HTTPError as error:
        raise CommandError(f"the API at {api_url} could not be reached: {error}") from None
    finally:
        if http is None:
            client.close()
    return _print_reply(response)


def _cached_token(config: TerminalConfig, msal_http: MsalHttpClient | None) -> str:
    if not config.cache_path.exists():
        raise CommandError(LOGIN_HINT)
    cache = _load_cache(config.cache_path)
    with _MsalSession(config, cache, msal_http) as app:
        accounts = app.get_accounts()
        result = app.acquire_token_silent(config.scopes, account=accounts[0]) if accounts else None
    if not result or "access_token" not in result:
        raise CommandError(LOGIN_HINT if not accounts else f"your sign-in has expired: {LOGIN_HINT}")
    if cache.has_state_changed:  # a refresh token was redeemed: keep the new tokens
        _save_cache(cache, config.cache_path)
    token: str = result["access_token"]
    return token


def _print_reply(response: httpx.Response) -> int:
    try:
        body = response.json()
    except ValueError:
        raise CommandError(f"the API answered {response.status_code} without JSON") from None
    print(json.dumps(body, indent=2, ensure_ascii=False))
    failed = response.status_code != 200 or (isinstance(body, dict) and bool(body.get("errors")))
    return 1 if failed else 0


class _MsalSession:
    """A `PublicClientApplication` for the block, turning MSAL's transport failures into errors."""

    def __init__(
        self, config: TerminalConfig, cache: msal.SerializableTokenCache, http: MsalHttpClient | None
    ) -> None:
        self._config, self._cache = config, cache
        self._owns_http = http is None
        self._http = http or (_plain_loopback_http(config) if config.plain_loopback else MsalHttpClient())

    def __enter__(self) -> Any:
        try:
            return msal.PublicClientApplication(
                self._config.cli_client_id,
                authority=self._config.msal_authority,
                token_cache=self._cache,
                http_client=self._http,
                # Another host (the demo's loopback sign-in) is no Microsoft cloud: take it as given.
                instance_discovery=self._config.is_microsoft,
                validate_authority=self._config.is_microsoft,
            )
        except (httpx.HTTPError, ValueError) as error:
            self._close()
            raise CommandError(
                f"Entra ID could not be reached at {self._config.authority}: {error}"
            ) from None

    def __exit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        self._close()
        if isinstance(exc, httpx.HTTPError):
            raise CommandError(f"Entra ID could not be reached: {exc}") from None

    def _close(self) -> None:
        if self._owns_http:
            self._http.close()


class _PlainLoopbackTransport(httpx.BaseTransport):
    """MSAL accepts only https; a plain-HTTP sign-in service on loopback (the demo's, which
    AZURE_AUTHORITY_HOST may name) is named to MSAL as https, and reached as http here: requests to
    `https://{that host}` go out as http, and its discovery document names https endpoints."""

    def __init__(self, authority_host: str) -> None:
        self._plain = authority_host.rstrip("/")
        self._named = "https" + self._plain.removeprefix("http")
        self._inner = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if str(request.url).startswith(self._named + "/"):
            request.url = httpx.URL(self._plain + str(request.url).removeprefix(self._named))
        response = self._inner.handle_request(request)
        if not request.url.path.endswith("/.well-known/openid-configuration"):
            return response
        body = response.read().replace(self._plain.encode(), self._named.encode())
        headers = {"Content-Type": "application/json"}
        return httpx.Response(response.status_code, headers=headers, content=body)

    def close(self) -> None:
        self._inner.close()


def _plain_loopback_http(config: TerminalConfig) -> MsalHttpClient:
    transport = _PlainLoopbackTransport(config.authority_host)
    return MsalHttpClient(httpx.Client(transport=transport, timeout=QUERY_TIMEOUT_SECONDS, trust_env=False))


def _load_cache(path: Path) -> msal.SerializableTokenCache:
    cache = msal.SerializableTokenCache()
    if path.exists():
        path.chmod(0o600)  # tighten a cache someone loosened; it holds refresh tokens
        cache.deserialize(path.read_text())
    return cache


def _save_cache(cache: msal.SerializableTokenCache, path: Path) -> None:
    """Write the cache atomically, readable by this user only (0600, in a 0700 directory)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".msal_cache.")  # created 0600
    try:
        with os.fdopen(descriptor, "w") as file:
            file.write(cache.serialize())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _json_object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"--variables is not JSON: {error}") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError("--variables must be a JSON object")
    return value


def _reason(result: dict[str, Any]) -> str:
    description = str(result.get("error_description") or "").splitlines()
    return f"{result.get('error', 'error')}: {description[0] if description else 'no description'}"
