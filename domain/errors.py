"""What the domain reports when a use case cannot proceed.

    DomainError
     ├── Forbidden            the actor lacks the role for this action (API: FORBIDDEN error)
     └── UserInputError       an expected failure, shown to the caller as userErrors
          ├── Invalid         malformed or out-of-range input          (code INVALID)
          ├── NotFound        absent, or belongs to another organization (code NOT_FOUND)
          ├── Conflict        clashes with what exists                 (code CONFLICT)
          ├── NotEligible     the location does not meet the program   (code NOT_ELIGIBLE)
          ├── PrerequisiteMissing  something must be done first        (code PREREQUISITE_MISSING)
          └── FiscalYearEnded  the enrollment's fiscal year is over          (code FISCAL_YEAR_ENDED)

A use case raises before it commits, so nothing is written when any of these is raised.

What the adapters raise through the domain's protocols (`domain.directory`, `domain.mail.delivery`):

    OutsideServiceError       an outside service (the directory, a mail server) refused or was away
     └── NotConfigured        the service has no credentials for it: the feature is off
    DeliveryError             a mail transport did not hand a message over; `str()` is the reply
     ├── TemporaryDeliveryError   retry later with back-off (connection, timeout, 4xx, configuration)
     └── PermanentDeliveryError   give up now: the message or its recipient was refused for good
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from domain.access import Action


class DomainError(Exception):
    """Base of everything the domain raises on purpose."""


class Forbidden(DomainError):
    """The actor may not take `action`, whatever the input; `domain.access.requirement` says who may."""

    def __init__(self, action: Action, reason: str | None = None) -> None:
        super().__init__(reason or f"not allowed to {action.name.lower().replace('_', ' ')}")
        self.action = action


@dataclass(frozen=True)
class FieldProblem:
    """One thing wrong with the input: where (a path into the input) and why."""

    field: tuple[str, ...] | None
    message: str


class UserInputError(DomainError):
    code = "INVALID"

    def __init__(self, message: str, field: Sequence[str] | None = None) -> None:
        super().__init__(message)
        self.problems: tuple[FieldProblem, ...] = (
            FieldProblem(tuple(field) if field is not None else None, message),
        )

    @classmethod
    def many(cls, problems: Sequence[FieldProblem]) -> UserInputError:
        error = cls(problems[0].message, problems[0].field)
        error.problems = tuple(problems)
        return error


class Invalid(UserInputError):
    code = "INVALID"


class NotFound(UserInputError):
    code = "NOT_FOUND"


class Conflict(UserInputError):
    code = "CONFLICT"


class NotEligible(UserInputError):
    code = "NOT_ELIGIBLE"


class PrerequisiteMissing(UserInputError):
    code = "PREREQUISITE_MISSING"


class FiscalYearEnded(UserInputError):
    code = "FISCAL_YEAR_ENDED"


class OutsideServiceError(Exception):
    """An outside service (Microsoft Graph, a mail server) refused the call or could not be reached."""


class NotConfigured(OutsideServiceError):
    """The service has no credentials for that outside service: the features using it are off."""


class DeliveryError(Exception):
    """A message was not accepted by the mail server (or Graph)."""


class TemporaryDeliveryError(DeliveryError):
    """Worth trying again later: the server was unreachable, slow, or asked us to come back."""


class PermanentDeliveryError(DeliveryError):
    """Not worth trying again: the server refused the message or its recipient for good."""
