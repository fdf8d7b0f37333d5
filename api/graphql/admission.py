"""Whether an operation may run at all, decided before anything of it executes:

1. introspection (`__schema`, `__type`) is for members of a partner organization and operators,
   unless `INCENTIVES_INTROSPECTION=everyone`;
2. every root mutation field must be one the caller may run somewhere (`domain.access.permits`
   with no scope), so a request of several mutations runs none when one is forbidden;
3. its cost (`api.graphql.limits.cost_of`) must be within `INCENTIVES_MAX_QUERY_COST`;
4. the cost is charged to the caller's budget of points (HTTP 429 and `Retry-After` when spent).

`extensions.cost { requested limit remaining resetAt }` is on every answer that got that far.

    Schema(..., extensions=[..., Admission, PlannedReads])   # before anything that executes
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache, lru_cache
from typing import Any

from graphql import (
    DocumentNode,
    ExecutionResult,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    get_operation_ast,
)
from graphql.execution.values import VariableValues, get_variable_values
from strawberry.extensions import SchemaExtension

from adapters.budgets import Charge
from api.graphql.context import Context
from api.graphql.declared import declaration
from api.graphql.errors import ExpectedError, ForbiddenError
from api.graphql.limits import asks_introspection, cost_of, root_selections, too_complex
from auth.principal import Principal
from domain.access import Action, permits

THROTTLED = "THROTTLED"
# Where the planned read's lane (api/read/lane.py) leaves what it charged a request that it then
# hands to Strawberry: the request is not charged twice.
ADMITTED = "admitted"


@dataclass(frozen=True)
class Admitted:
    """A request already costed and charged (by the lane)."""

    cost: int
    charge: Charge


def caller_of(principal: Principal) -> str:
    """The key of the caller's budget."""
    return f"{principal.tenant_id}:{principal.object_id}"


def cost_extension(cost: int, charge: Charge) -> dict[str, Any]:
    """`extensions.cost` of an answer."""
    return {
        "cost": {
            "requested": cost,
            "limit": charge.limit,
            "remaining": charge.remaining,
            "resetAt": _instant(charge.reset_at),
        }
    }


@lru_cache(maxsize=4)
def _instant(unix_time: float) -> str:
    # A window ends once a minute: every answer in it says the same instant.
    return datetime.fromtimestamp(unix_time, UTC).isoformat().replace("+00:00", "Z")


class Refused(ExpectedError):
    def __init__(self, message: str) -> None:
        super().__init__(message, extensions={"code": "FORBIDDEN"})


class Admission(SchemaExtension):
    def __init__(self) -> None:
        super().__init__()
        self._cost: int | None = None
        self._charge: Charge | None = None

    async def on_execute(self) -> AsyncIterator[None]:
        execution = self.execution_context
        context = execution.context
        document = execution.graphql_document
        operation = None if document is None else get_operation_ast(document, execution.operation_name)
        admitted = _admitted_already(context)
        if admitted is not None:
            self._cost, self._charge = admitted.cost, admitted.charge
        elif (
            execution.result is None
            and document is not None
            and operation is not None
            and isinstance(context, Context)
        ):
            schema, variables = execution.schema._schema, execution.variables
            result = await self._admit(context, schema, document, operation, variables)
            if result is not None:
                execution.result = result
        yield

    async def _admit(
        self,
        context: Context,
        schema: GraphQLSchema,
        document: DocumentNode,
        operation: OperationDefinitionNode,
        variables: Mapping[str, Any] | None,
    ) -> ExecutionResult | None:
        coerced = get_variable_values(schema, operation.variable_definitions or (), dict(variables or {}))
        if not isinstance(coerced, VariableValues):
            return None  # the client's bad variables: graphql-core tells it (BAD_USER_INPUT)
        services, principal = context.services, context.principal
        cost = self._cost = cost_of(schema, document, operation, coerced.coerced)
        caller = caller_of(principal)
        refusal = self._refusal(context, schema, document, operation, cost)
        if refusal is not None:
            self._charge = await services.budgets.charge(caller, 0)  # told what is left, not charged
            return ExecutionResult(None, [refusal])
        charge = self._charge = await services.budgets.charge(caller, cost)
        if charge.allowed:
            return None
        if context.response is not None:
            context.response.status_code = 429
            context.response.headers["Retry-After"] = str(charge.retry_after(time.time()))
        return ExecutionResult(None, [_throttled(charge, cost)])

    @staticmethod
    def _refusal(
        context: Context,
        schema: GraphQLSchema,
        document: DocumentNode,
        operation: OperationDefinitionNode,
        cost: int,
    ) -> GraphQLError | None:
        services, principal = context.services, context.principal
        if (
            not services.introspection_for_everyone
            and principal.organization_id is None
            and not principal.is_operator
            and asks_introspection(document, operation)
        ):
            return Refused("Forbidden. Introspection is for members of a partner organization and operators.")
        if operation.operation is OperationType.MUTATION:
            # Several writes in one request: none runs when one of them is forbidden. (One alone
            # is refused by its resolver, before it writes, with the same error.)
            fields = root_selections(document, operation)
            actions = mutation_actions(schema)
            for field in fields if len(fields) > 1 else ():
                action = actions.get(field.name.value)
                if action is not None and not permits(principal, action):
                    key = (field.alias or field.name).value
                    return ForbiddenError(action, nodes=[field], path=[key])
        if cost > services.limits.cost:
            message = f"This request would cost {cost:,} points; the limit is {services.limits.cost:,}."
            return too_complex(message, [operation])
        return None

    async def get_results(self) -> dict[str, Any]:
        if self._charge is None:  # refused before admission (invalid document, bad variables)
            context = self.execution_context.context
            if not isinstance(context, Context):
                return {}
            self._charge = await context.services.budgets.charge(caller_of(context.principal), 0)
        return cost_extension(self._cost or 0, self._charge)


def _admitted_already(context: object) -> Admitted | None:
    request = getattr(context, "request", None)
    if request is None:
        return None
    admitted = getattr(request.state, ADMITTED, None)
    return admitted if isinstance(admitted, Admitted) else None


@cache
def mutation_actions(schema: GraphQLSchema) -> dict[str, Action]:
    """Each root mutation field's action (from its `mutation(..., action)` declaration)."""
    mutation = schema.mutation_type
    found: dict[str, Action] = {}
    for name, field in (mutation.fields if mutation else {}).items():
        declared = declaration((field.extensions or {}).get("strawberry-definition"))
        if declared is not None and isinstance(declared.access, Action):
            found[name] = declared.access
    return found


def _throttled(charge: Charge, cost: int) -> GraphQLError:
    return GraphQLError(
        f"Rate limit: this request costs {cost:,} points and {charge.remaining:,} of {charge.limit:,} "
        f"are left until {datetime.fromtimestamp(charge.reset_at, UTC):%H:%M:%S} UTC.",
        extensions={"code": THROTTLED},
    )
