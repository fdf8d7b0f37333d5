"""The schema: Query, Mutation, Subscription; errors masked (logged with the request id), size limits."""

from __future__ import annotations

import strawberry
from graphql import GraphQLError, specified_rules
from strawberry.extensions import AddValidationRules
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from api.graphql import errors
from api.graphql.admission import Admission, ConfirmedCaller
from api.graphql.limits import Limits, shape_rule
from api.graphql.mutations import Mutation
from api.graphql.query import Query
from api.graphql.scalars import SCALARS
from api.graphql.subscription import Subscription
from api.read.extension import PlannedReads, Plans
from api.trusted.parsed import Documents, KnownDocuments, Rules

MAX_TOKENS = 2000


# Made once, so that it is the same rule for every request (validation is kept by its rules).
SHAPE = shape_rule(Limits())


class Schema(strawberry.Schema):
    """Shows every result's errors as `errors.show` does (masking and logging the unexpected ones)."""

    def process_errors(
        self, errors_: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # Strawberry calls this on every result's errors before they are sent (parse and validation
        # errors, refusals, execution errors, an extension's failure, each subscription event), so
        # masking here replaces its MaskErrors extension, which an extension's failure bypassed.
        context = getattr(execution_context, "context", None)
        suggestions = getattr(getattr(context, "services", None), "suggestions", False)
        if errors.show(errors_, request_id=getattr(context, "request_id", None), suggestions=suggestions):
            response = getattr(context, "response", None)
            if response is not None:
                response.status_code = 503
                response.headers["Retry-After"] = str(errors.RETRY_AFTER_SECONDS)


def build_schema(
    *, planned: bool = True, plans: Plans | None = None, documents: Documents | None = None
) -> strawberry.Schema:
    """The schema; `planned=False` leaves every query to graphql-core (the differential tests).
    `documents` keeps the documents parsed and validated (the trusted ones pinned at start-up)."""
    plans = plans or Plans()
    documents = documents or Documents(max_tokens=MAX_TOKENS)
    return Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        config=StrawberryConfig(scalar_map=SCALARS),
        extensions=[
            lambda: AddValidationRules([SHAPE]),
            lambda: KnownDocuments(documents),  # parsed (at most MAX_TOKENS) and validated once
            Admission,
            *([lambda: PlannedReads(plans)] if planned else []),
            ConfirmedCaller,  # last: a remembered caller is confirmed before graphql-core executes
        ],
    )


def validation_rules() -> Rules:
    """The rules every request's document is validated with (Strawberry's and `AddValidationRules`')."""
    return (*specified_rules, SHAPE)


def print_sdl() -> str:
    """The SDL for `incentives export-schema` (the committed schema.graphql)."""
    return build_schema().as_str() + "\n"
