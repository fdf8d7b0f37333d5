"""The caller's Entra directory, read through Microsoft Graph as the service.

`Query.directoryUsers` lets a console pick users, and `assignRole` finds a user by principal name
with `find_user`. Both read the caller's own tenant only, and only for a caller who may manage
roles, so nobody else can probe a directory. How Graph's failures show:

    NotConfigured          directoryUsers: NOT_CONFIGURED error    assignRole: INVALID userError
    OutsideServiceError    directoryUsers: DIRECTORY_UNAVAILABLE   assignRole: INVALID userError
                         (logged; the caller is asked to try again)
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Annotated, Any, TypeVar

import strawberry

from api.graphql.context import Context
from api.graphql.declared import Argument, Asked, Guard, Reading
from api.graphql.errors import ExpectedError, ForbiddenError
from api.graphql.fields import batch, column, computed
from api.graphql.pagination import BadUserInputError, given
from api.graphql.types.base import Info, object_type
from domain import directory
from domain.access import Action, Scope
from domain.directory import Directory
from domain.errors import Invalid, NotConfigured, NotFound, OutsideServiceError

logger = logging.getLogger("incentives.graphql.directory")

T = TypeVar("T")

MAX_SEARCH_LENGTH = 100
DEFAULT_DIRECTORY_USERS = 20
MAX_DIRECTORY_USERS = 50
UNREACHABLE = "the directory could not be reached; try again"
UPN_FIELD = ("userPrincipalName",)
DIRECTORY_USERS = (
    "Users of the caller's Entra tenant whose display name, mail or user principal name has a word "
    f"starting with `search` (1 to {MAX_SEARCH_LENGTH} characters), at most `first` (1 to "
    f"{MAX_DIRECTORY_USERS}), read through Microsoft Graph. "
    "Null with an error at this path: FORBIDDEN for anyone else, NOT_CONFIGURED when the service has "
    "no Graph credentials, DIRECTORY_UNAVAILABLE when Graph could not be reached."
)

# How a caller is told that Graph failed: (message, configured) -> the exception to raise.
Refusal = Callable[[str, bool], Exception]


@object_type(
    "A user of the caller's Entra tenant, as Microsoft Graph knows them.", Guard(Action.MANAGE_ROLES)
)
class DirectoryUser:
    """Its row: a `domain.directory.DirectoryUser`."""

    row: strawberry.Private[Any]
    object_id: strawberry.ID = column("The Entra object ID; `assignRole` takes it as `userObjectId`.")
    display_name: str | None = computed(
        lambda user: user.display_name or None, "The directory's display name; null when it has none."
    )
    mail: str | None = column("The directory's mail address; null when it has none.")
    user_principal_name: str | None = computed(
        lambda user: user.user_principal_name or None,
        "The sign-in name; `assignRole` takes it as `userPrincipalName`.",
    )


def require_role_manager(info: Info) -> None:
    """FORBIDDEN unless the caller is a Global or Account admin of its organization (`assignRole`
    asks before it reads the directory)."""
    organization_id = info.context.principal.organization_id
    if not info.context.principal.can(Action.MANAGE_ROLES, Scope(organization_id=organization_id)):
        raise ForbiddenError(Action.MANAGE_ROLES)


async def find_user(info: Info, user_principal_name: str) -> directory.DirectoryUser:
    """The user of the caller's tenant with this UPN; a NOT_FOUND or INVALID userError otherwise.

    The caller must have passed `require_role_manager`: this reads the directory.
    """
    found = await _in_callers_directory(
        info.context,
        lambda client, tenant_id: client.user_by_principal_name(tenant_id, user_principal_name),
        lambda message, configured: Invalid(message, UPN_FIELD),
    )
    if found is None:
        raise NotFound("no user of your tenant has this user principal name", UPN_FIELD)
    return found


async def _directory_users(reading: Reading, roots: Sequence[Any], asked: Asked) -> list[Any]:
    """A search of the caller's directory (the field's guard let only role managers here)."""
    try:
        text, limit = _search_arguments(asked.args["search"], asked.args.get("first"))
        users: Any = await _in_callers_directory(
            reading.context,
            lambda client, tenant_id: client.search_users(tenant_id, text, limit),
            _query_refusal,
        )
    except ExpectedError as error:
        users = error
    return [users for _ in roots]


SEARCH = Argument(
    Annotated[
        str,
        strawberry.argument(
            description=f"The start of a word of the display name, mail or sign-in name, 1 to "
            f"{MAX_SEARCH_LENGTH} characters."
        ),
    ]
)
FIRST = Argument(
    Annotated[
        int | None,
        strawberry.argument(
            description=f"How many at most, 1 to {MAX_DIRECTORY_USERS}; null: {DEFAULT_DIRECTORY_USERS}."
        ),
    ],
    DEFAULT_DIRECTORY_USERS,
)
directory_users = batch(
    _directory_users,
    DIRECTORY_USERS,
    guard=Guard(Action.MANAGE_ROLES),
    arguments={"search": SEARCH, "first": FIRST},
)


def _search_arguments(search: str, first: int | None) -> tuple[str, int]:
    text = search.strip()
    if not 1 <= len(text) <= MAX_SEARCH_LENGTH:
        raise BadUserInputError(f"`search` must be 1 to {MAX_SEARCH_LENGTH} characters.")
    limit = given(first)
    limit = DEFAULT_DIRECTORY_USERS if limit is None else limit
    if not 1 <= limit <= MAX_DIRECTORY_USERS:
        raise BadUserInputError(f"`first` must be between 1 and {MAX_DIRECTORY_USERS}.")
    return text, limit


async def _in_callers_directory(
    context: Context, call: Callable[[Directory, str], Awaitable[T]], refuse: Refusal
) -> T:
    """`call(graph, tenant_id)` for the caller's tenant; Graph's failures become `refuse(...)`."""
    tenant_id = context.principal.tenant_id
    try:
        return await call(context.services.directory, tenant_id)
    except NotConfigured as error:
        raise refuse(str(error), False) from error
    except OutsideServiceError as error:
        logger.warning("Microsoft Graph failed for tenant %s: %s", tenant_id, error)
        raise refuse(UNREACHABLE, True) from error


def _query_refusal(message: str, configured: bool) -> Exception:
    code = "DIRECTORY_UNAVAILABLE" if configured else "NOT_CONFIGURED"
    return ExpectedError(message, extensions={"code": code})
