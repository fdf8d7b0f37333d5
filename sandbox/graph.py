"""A small Microsoft Graph on loopback: the directory's users and `sendMail`, as the tests' Graph.

    GET  /v1.0/users/{id or userPrincipalName}[?$select=...]
    GET  /v1.0/users?$search="displayName:ali" OR "mail:ali"&$top=20&$select=...
         (requires `ConsistencyLevel: eventual`, as Graph does)
    POST /v1.0/users/{id or userPrincipalName}/sendMail        -> 202, recorded in `sent_mail`

Every request needs a bearer token minted by the same `LoopbackIssuer` with `aud`
`https://graph.microsoft.com` and the application permission the call needs (`User.Read.All`
for users, `Mail.Send` for mail); the tenant served is the token's `tid`.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import jwt
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from auth.tokens import is_guid
from sandbox.tokens import LoopbackIssuer

GRAPH_AUDIENCE = "https://graph.microsoft.com"
USER_READ_ROLES = frozenset({"User.Read.All", "User.ReadBasic.All", "Directory.Read.All"})
MAIL_SEND_ROLE = "Mail.Send"
_DEFAULT_SELECT = ("id", "displayName", "mail", "userPrincipalName")
_SEARCH_CLAUSE = re.compile(r'"(displayName|mail|userPrincipalName):([^"]*)"')
_SEARCH_OPERATOR = re.compile(r"\s+(OR|AND)\s+")
_SEARCH_SHAPE = re.compile(r"C(?:\s+(?:OR|AND)\s+C)*")  # clauses (C) joined by one kind of operator
_MAX_TOP = 999


@dataclass(frozen=True)
class LoopbackUser:
    """A user in one tenant's directory, as Graph describes it."""

    tenant_id: str
    object_id: str
    user_principal_name: str
    display_name: str
    mail: str | None = None
    wids: tuple[str, ...] = ()  # the user's Entra directory roles (templates), for their tokens
    app_roles: tuple[str, ...] = ()  # app roles assigned to them on the API (`roles` in its tokens)

    def graph_fields(self) -> dict[str, Any]:
        return {
            "id": self.object_id,
            "displayName": self.display_name,
            "mail": self.mail,
            "userPrincipalName": self.user_principal_name,
        }

    def matches(self, field: str, text: str) -> bool:
        """Graph's `$search` matches the start of the value or of any word in it, ignoring case."""
        value = (self.graph_fields().get(field) or "").lower()
        text = text.lower()
        return value.startswith(text) or any(word.startswith(text) for word in re.split(r"\W+", value))


@dataclass(frozen=True)
class SentMail:
    """A message `sendMail` accepted: the sending user and Graph's `message` object."""

    tenant_id: str
    sender: LoopbackUser
    message: dict[str, Any]
    save_to_sent_items: bool


class LoopbackDirectory:
    """The users of every tenant, and the mail Graph was asked to send; safe across threads."""

    def __init__(self) -> None:
        self._users: dict[tuple[str, str], LoopbackUser] = {}
        self._sent: list[SentMail] = []
        self._lock = threading.Lock()

    def add(self, user: LoopbackUser) -> LoopbackUser:
        if not (is_guid(user.tenant_id) and is_guid(user.object_id)):
            raise ValueError("tenant_id and object_id must be GUIDs")
        with self._lock:
            self._users[(user.tenant_id, user.object_id.lower())] = user
        return user

    def find(self, tenant_id: str, id_or_upn: str) -> LoopbackUser | None:
        key = id_or_upn.lower()
        return next(
            (u for u in self.users(tenant_id) if key in (u.object_id.lower(), u.user_principal_name.lower())),
            None,
        )

    def users(self, tenant_id: str) -> list[LoopbackUser]:
        with self._lock:
            return sorted(
                (u for (t, _), u in self._users.items() if t == tenant_id), key=lambda u: u.display_name
            )

    def everyone(self) -> list[LoopbackUser]:
        """The users of every tenant, by name."""
        with self._lock:
            return sorted(self._users.values(), key=lambda u: (u.display_name, u.user_principal_name))

    def by_key(self, key: str) -> LoopbackUser | None:
        """The user keyed `{tenant_id}/{object_id}`, if any."""
        tenant_id, _, object_id = key.partition("/")
        with self._lock:
            return self._users.get((tenant_id, object_id.lower()))

    def record(self, mail: SentMail) -> None:
        with self._lock:
            self._sent.append(mail)

    @property
    def sent_mail(self) -> tuple[SentMail, ...]:
        with self._lock:
            return tuple(self._sent)


class GraphRefusal(Exception):
    """An error response in Graph's shape: `{"error": {"code", "message"}}`."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message

    def response(self) -> JSONResponse:
        return JSONResponse({"error": {"code": self.code, "message": self.message}}, self.status)


class LoopbackGraph:
    """The Graph endpoints of a loopback issuer, over its directory."""

    def __init__(self, entra: LoopbackIssuer, directory: LoopbackDirectory) -> None:
        self._entra = entra
        self._directory = directory

    def routes(self) -> list[Route]:
        return [
            Route("/v1.0/users", self._guarded(self._list_users, USER_READ_ROLES)),
            Route("/v1.0/users/{user}", self._guarded(self._get_user, USER_READ_ROLES)),
            Route(
                "/v1.0/users/{user}/sendMail",
                self._guarded(self._send_mail, frozenset({MAIL_SEND_ROLE})),
                methods=["POST"],
            ),
        ]

    def _guarded(
        self, endpoint: Callable[[Request, str], Any], roles: frozenset[str]
    ) -> Callable[[Request], Any]:
        async def guarded(request: Request) -> Response:
            try:
                tenant_id = self._authorize(request, roles)
                self._entra.count_request("graph", tenant_id)
                response: Response = await endpoint(request, tenant_id)
            except GraphRefusal as refusal:
                return refusal.response()
            return response

        return guarded

    def _authorize(self, request: Request, roles: frozenset[str]) -> str:
        """The tenant of a valid Graph token that carries one of `roles`."""
        claims = self._verified_claims(request.headers.get("authorization", ""))
        if not roles & set(claims.get("roles", [])):
            raise GraphRefusal(
                403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation."
            )
        tenant_id: str = claims["tid"]
        return tenant_id

    def _verified_claims(self, authorization: str) -> dict[str, Any]:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise _invalid_token("Access token is empty.")
        try:
            header = jwt.get_unverified_header(token)
            tenant_id = str(jwt.decode(token, options={"verify_signature": False}).get("tid"))
            key = next(k for k in self._entra.published_keys if k.kid == header.get("kid"))
            if not is_guid(tenant_id):
                raise _invalid_token("Access token validation failure.")
            claims: dict[str, Any] = jwt.decode(
                token,
                key.private_key.public_key(),
                algorithms=["RS256"],
                audience=GRAPH_AUDIENCE,
                issuer=self._entra.issuer(tenant_id),
                options={"require": ["exp", "iat", "tid", "aud", "iss"]},
            )
        except jwt.InvalidAudienceError:
            raise _invalid_token("Access token validation failure. Invalid audience.") from None
        except (jwt.PyJWTError, StopIteration):
            raise _invalid_token("Access token validation failure.") from None
        return claims

    async def _get_user(self, request: Request, tenant_id: str) -> Response:
        user = self._user(tenant_id, request.path_params["user"])
        return JSONResponse(_selected(user, request.query_params.get("$select")))

    async def _list_users(self, request: Request, tenant_id: str) -> Response:
        params = request.query_params
        users: Iterable[LoopbackUser] = self._directory.users(tenant_id)
        if "$search" in params:
            if request.headers.get("consistencylevel", "").lower() != "eventual":
                raise GraphRefusal(
                    400,
                    "Request_UnsupportedQuery",
                    "Request with $search query parameter only works through MSGraph with a special "
                    "request header: 'ConsistencyLevel: eventual'",
                )
            users = _searched(users, params["$search"])
        top = _top(params.get("$top"))
        value = [_selected(user, params.get("$select")) for user in list(users)[:top]]
        return JSONResponse({"@odata.context": f"{GRAPH_AUDIENCE}/v1.0/$metadata#users", "value": value})

    async def _send_mail(self, request: Request, tenant_id: str) -> Response:
        sender = self._user(tenant_id, request.path_params["user"])
        try:
            body = json.loads(await request.body())
            message = body["message"]
        except (ValueError, KeyError, TypeError):
            raise GraphRefusal(400, "ErrorInvalidRequest", "The message is missing or malformed.") from None
        if not isinstance(message, dict) or not message.get("toRecipients"):
            raise GraphRefusal(400, "ErrorInvalidRecipients", "At least one recipient is required.")
        save = bool(body.get("saveToSentItems", True))
        self._directory.record(SentMail(tenant_id, sender, message, save))
        return Response(status_code=202)

    def _user(self, tenant_id: str, id_or_upn: str) -> LoopbackUser:
        user = self._directory.find(tenant_id, id_or_upn)
        if user is None:
            raise GraphRefusal(
                404,
                "Request_ResourceNotFound",
                f"Resource '{id_or_upn}' does not exist or one of its "
                "queried reference-property objects are not present.",
            )
        return user


def _invalid_token(message: str) -> GraphRefusal:
    return GraphRefusal(401, "InvalidAuthenticationToken", message)


def _searched(users: Iterable[LoopbackUser], search: str) -> list[LoopbackUser]:
    clauses = _SEARCH_CLAUSE.findall(search)
    shape = _SEARCH_CLAUSE.sub("C", search.strip())
    operators = set(_SEARCH_OPERATOR.findall(shape))
    if not _SEARCH_SHAPE.fullmatch(shape) or len(operators) > 1:
        raise GraphRefusal(400, "Request_UnsupportedQuery", f"Unsupported $search: {search}")
    combine = all if operators == {"AND"} else any
    return [user for user in users if combine(user.matches(field, text) for field, text in clauses)]


def _selected(user: LoopbackUser, select: str | None) -> dict[str, Any]:
    fields = user.graph_fields()
    wanted: Sequence[str] = [name.strip() for name in select.split(",")] if select else _DEFAULT_SELECT
    unknown = [name for name in wanted if name not in fields]
    if unknown:
        raise GraphRefusal(400, "Request_BadRequest", f"Could not find a property named '{unknown[0]}'.")
    return {name: fields[name] for name in wanted}


def _top(value: str | None) -> int:
    if value is None:
        return 100
    if not value.isdigit() or not 1 <= int(value) <= _MAX_TOP:
        raise GraphRefusal(400, "Request_BadRequest", f"Invalid page size specified: '{value}'.")
    return int(value)
