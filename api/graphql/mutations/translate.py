"""The one translation every mutation makes: input at the edge -> use case -> payload.

    return await perform(info, AddLocationPayload,
                         lambda uow, actor: add_location(uow, actor, name=text(input.name, "name", 200)),
                         lambda location: AddLocationPayload(location=Location(row=location)))

Edge readers (`text`, `key`, ...) raise the domain's own input errors, so a malformed ID or an
over-long string becomes a userError before anything reaches the use case or the database.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import strawberry

from api.graphql.errors import ForbiddenError, UserErrorCode
from api.graphql.fields import held, resolved
from api.graphql.ids import key_of
from api.graphql.types import Info
from auth.principal import Principal
from domain.access import Action
from domain.errors import Forbidden, Invalid, NotFound, UserInputError
from domain.events import Event
from domain.uow import UnitOfWork

T = TypeVar("T")


@strawberry.type(description="An expected failure of a mutation; nothing was written.")
class UserError:
    field: list[str] | None = held(description='Path to the input field at fault, e.g. ["input", "country"].')
    message: str = held(description="What went wrong, in English, for people.")
    code: UserErrorCode = held(description="What went wrong, for programs.")


def user_errors(error: UserInputError) -> list[UserError]:
    code = UserErrorCode(error.code)
    return [
        UserError(
            field=["input", *problem.field] if problem.field is not None else None,
            message=problem.message,
            code=code,
        )
        for problem in error.problems
    ]


@strawberry.type
class Payload:
    """What every mutation payload holds besides the changed object(s)."""

    user_errors: list[UserError] = held(
        default_factory=list, description="Why nothing was done; empty on success."
    )


P = TypeVar("P", bound=Payload)


def mutation(resolver: Callable[..., Any], what: str, action: Action) -> Any:
    """The mutation field: `what` it does, and who may (derived from `action`; its use case checks
    it, and admission before several mutations of one request run)."""
    field = resolved(resolver, what, requires=action, kind=strawberry.mutation)
    for argument in field.arguments:  # every mutation takes one argument, `input`
        argument.description = "What to do; malformed values are answered in `userErrors`."
    return field


async def perform(
    info: Info,
    payload: type[P],
    call: Callable[[UnitOfWork, Principal], Awaitable[T]],
    present: Callable[[T], P | Awaitable[P]],
    announce: Callable[[T], Event | None] | None = None,
) -> P:
    """Run one use case for the caller; expected failures become userErrors, refusals FORBIDDEN.

    `announce` names the live-notification event of the change (api/events.py); it is published
    only after the use case committed, so a subscriber never reads uncommitted data.
    """
    try:
        changed = await call(info.context.uow(), info.context.principal)
    except UserInputError as error:
        return payload(user_errors=user_errors(error))
    except Forbidden as error:
        raise ForbiddenError(error.action) from error
    info.context.forget_read()
    info.context.mail_queued()
    if announce is not None:
        await info.context.announce(announce(changed))
    presented = present(changed)
    return await presented if inspect.isawaitable(presented) else presented


def text(value: str, field: str, max_length: int) -> str:
    """The value without surrounding whitespace, refused (INVALID) when longer than `max_length`."""
    stripped = value.strip()
    if len(stripped) > max_length:
        raise Invalid(f"{field} must be at most {max_length} characters", [field])
    return stripped


def optional_text(value: str | None, field: str, max_length: int) -> str | None:
    """Like `text`; absent, null and blank all mean "not given"."""
    return (text(value, field, max_length) or None) if value else None


def key(value: str, kind: str, field: str) -> int:
    """The key of a global ID of `kind` (a GraphQL type name); anything else is NOT_FOUND."""
    found = key_of(value, kind)
    if found is None:
        raise NotFound(f"no {kind} has this ID", [field])
    return found


def optional_key(value: str | None, kind: str, field: str) -> int | None:
    return None if value is None or value is strawberry.UNSET else key(value, kind, field)


def keys(values: Sequence[str] | None, kind: str, field: str) -> list[int] | None:
    """The keys of a list of IDs; left out or null stays None (e.g. "the entire organization")."""
    if values is None or values is strawberry.UNSET:
        return None
    return [key(value, kind, field) for value in values]
