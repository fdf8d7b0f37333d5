"""Errors as the API shows them.

userErrors (in payloads)  expected failures: UserErrorCode INVALID, NOT_FOUND, CONFLICT,
                          NOT_ELIGIBLE, PREREQUISITE_MISSING, FISCAL_YEAR_ENDED
                          (from domain.errors.UserInputError)
ForbiddenError            a GraphQL error, extensions.code FORBIDDEN, null at its path
everything else           masked as "Unexpected error." and logged with the request id

`show` makes an answer's errors what the client sees, for both of a request's paths: Strawberry's
(`api.graphql.schema.Schema.process_errors`) and the planned read's lane (`api.read.lane`).
"""

from __future__ import annotations

import enum
import logging
from typing import Any

from graphql import GraphQLError

from api import observed
from api.graphql.enums import described_enum
from domain.access import Action, requirement
from domain.database import is_unavailable


class UserErrorCode(enum.Enum):
    INVALID = "INVALID"
    NOT_FOUND = "NOT_FOUND"
    CONFLICT = "CONFLICT"
    NOT_ELIGIBLE = "NOT_ELIGIBLE"
    PREREQUISITE_MISSING = "PREREQUISITE_MISSING"
    FISCAL_YEAR_ENDED = "FISCAL_YEAR_ENDED"


described_enum(
    UserErrorCode,
    "Why a mutation did not do what was asked.",
    {
        "INVALID": "A value is malformed, too long or out of range.",
        "NOT_FOUND": "An ID names nothing the caller may see.",
        "CONFLICT": "It clashes with what exists (e.g. a duplicate).",
        "NOT_ELIGIBLE": "The location does not meet the program's eligibility criteria.",
        "PREREQUISITE_MISSING": "Something must be done first (e.g. a payment or tax profile).",
        "FISCAL_YEAR_ENDED": "The enrollment's fiscal year has ended (June 30): it can no longer change.",
    },
)


class ExpectedError(GraphQLError):
    """A GraphQL error we raise on purpose; never masked."""


class ForbiddenError(ExpectedError):
    """`Forbidden. Requires one of: GLOBAL_ADMIN, ACCOUNT_ADMIN.`, from the access policy."""

    def __init__(self, action: Action, nodes: Any = None, path: list[str | int] | None = None) -> None:
        super().__init__(
            f"Forbidden. {requirement(action)}", nodes, path=path, extensions={"code": "FORBIDDEN"}
        )


class UnauthenticatedError(ExpectedError):
    def __init__(self) -> None:
        super().__init__("A valid Entra ID access token is required.", extensions={"code": "UNAUTHENTICATED"})


def is_bad_variable(error: GraphQLError) -> bool:
    """graphql-core's refusal of a variable's value (an unknown enum value, an Int past 32 bits, a
    Date that is not one): the client's mistake, told to the client as BAD_USER_INPUT."""
    return error.path is None and error.message.startswith("Variable '$")


logger = logging.getLogger("incentives.graphql")

UNAVAILABLE = "UNAVAILABLE"
UNAVAILABLE_MESSAGE = "The service cannot reach its database just now; try again shortly."
RETRY_AFTER_SECONDS = 5


MASKED_MESSAGE = "Unexpected error."  # what a masked error says


def should_mask(error: GraphQLError) -> bool:
    """Mask everything but our expected errors, GraphQL's own validation errors, the client's
    bad variables and the database's absence (told as UNAVAILABLE)."""
    original = error.original_error
    if original is None or is_bad_variable(error) or is_unavailable(original):
        return False
    return not isinstance(original, ExpectedError)


def show(errors: list[GraphQLError], *, request_id: str | None, suggestions: bool) -> bool:
    """Make an answer's errors what the client sees, in place: expected ones as they are, the
    client's bad variables tagged BAD_USER_INPUT, the database's absence told as UNAVAILABLE (and
    logged), "Did you mean ...?" cut off unless `suggestions`, every other error masked as
    "Unexpected error." (its path and locations kept) and its original logged with `request_id`.
    Whether the database could not be reached: the answer is then HTTP 503 with
    `Retry-After: RETRY_AFTER_SECONDS`."""
    unavailable_ = False
    for error in errors:
        if is_bad_variable(error):
            error.extensions = {**(error.extensions or {}), "code": "BAD_USER_INPUT"}
        if _is_unavailable(error):
            error.message = UNAVAILABLE_MESSAGE  # no detail of the driver's
            error.extensions = {**(error.extensions or {}), "code": UNAVAILABLE}
            unavailable_ = True
        if not suggestions:
            _hide_suggestions(error)
    if unavailable_:
        logger.warning("the database is unavailable", extra={"request_id": request_id})
    for at, error in enumerate(errors):
        if should_mask(error):
            logger.error(
                "unexpected error at %s",
                ".".join(str(part) for part in error.path or ()),
                exc_info=error.original_error,
                extra={"request_id": request_id},
            )
            errors[at] = masked(error)
    observed.errors(errors)
    return unavailable_


def all_expected(errors: list[GraphQLError]) -> bool:
    """Whether `show` leaves every one of the errors as it is (but for suggestions): none masked,
    none the database's absence."""
    return not any(should_mask(error) or _is_unavailable(error) for error in errors)


def _is_unavailable(error: GraphQLError) -> bool:
    return error.original_error is not None and is_unavailable(error.original_error)


def masked(error: GraphQLError) -> GraphQLError:
    """The error as a client sees it masked: "Unexpected error." at its path and locations."""
    return GraphQLError(
        MASKED_MESSAGE,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=None,
    )


def _hide_suggestions(error: GraphQLError) -> None:
    # graphql-core's "Did you mean ...?" tells a stranger the schema's names: cut it off.
    at = error.message.find(" Did you mean")
    if at != -1:
        error.message = error.message[:at]
