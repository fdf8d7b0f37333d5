"""Errors as the API shows them.

userErrors (in payloads)  expected failures: UserErrorCode INVALID, NOT_FOUND, CONFLICT,
                          NOT_ELIGIBLE, PREREQUISITE_MISSING (from domain.errors.UserInputError)
ForbiddenError            a GraphQL error, extensions.code FORBIDDEN, null at its path
everything else           masked as "Unexpected error." and logged with the request id
"""

from __future__ import annotations

import enum

import strawberry
from graphql import GraphQLError

from domain.access import Action, requirement
from domain.errors import UserInputError


@strawberry.enum(description="Why a mutation did not do what was asked.")
class UserErrorCode(enum.Enum):
    INVALID = "INVALID"
    NOT_FOUND = "NOT_FOUND"
    CONFLICT = "CONFLICT"
    NOT_ELIGIBLE = "NOT_ELIGIBLE"
    PREREQUISITE_MISSING = "PREREQUISITE_MISSING"


@strawberry.type(description="An expected failure of a mutation; nothing was written.")
class UserError:
    field: list[str] | None = strawberry.field(
        description='Path to the input field at fault, e.g. ["input", "country"].'
    )
    message: str
    code: UserErrorCode


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


class ExpectedError(GraphQLError):
    """A GraphQL error we raise on purpose; never masked."""


class ForbiddenError(ExpectedError):
    """`Forbidden. Requires one of: GLOBAL_ADMIN, ACCOUNT_ADMIN.`, from the access policy."""

    def __init__(self, action: Action) -> None:
        super().__init__(f"Forbidden. {requirement(action)}", extensions={"code": "FORBIDDEN"})


class UnauthenticatedError(ExpectedError):
    def __init__(self) -> None:
        super().__init__("A valid Entra ID access token is required.", extensions={"code": "UNAUTHENTICATED"})


def should_mask(error: GraphQLError) -> bool:
    """Mask everything but our expected errors and GraphQL's own validation errors."""
    original = error.original_error
    if original is None:
        return False
    return not isinstance(original, ExpectedError)
