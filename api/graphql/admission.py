"""Whether an operation may run at all, and what it costs: one decision, `admit`, for both of a
request's paths (Strawberry's view, through the `Admission` extension, and the planned read's lane,
`api.read.lane`), made before anything of the operation executes:

1. introspection (`__schema`, `__type`) is for members of a partner organization and operators,
   unless `INCENTIVES_INTROSPECTION=everyone`;
2. every root mutation field must be one the caller may run somewhere (`domain.access.permits`
   with no scope), so a request of several mutations runs none when one is forbidden;
3. its cost (`api.graphql.limits.cost_of`; remembered by the plan the lane passes, `CostMemo`) must
   be within `INCENTIVES_MAX_QUERY_COST`;
4. the cost is charged to the caller's budget of points (THROTTLED, HTTP 429 and `Retry-After`
   when spent); a refused operation is not charged.

`extensions.cost { requested limit remaining resetAt }` is on every answer that got that far.

    admitted = await admit(schema, document, operation, variables, principal, services, memo=plan)
    admitted.refusal        # None, or the answer's one error: nothing runs
    Schema(..., extensions=[..., Admission, PlannedReads])   # before anything that executes

A request the lane admitted and then hands to Strawberry's view (a refusal, whose status the view
decides; a read the view does again) carries its admission in the request's state (`ADMITTED`):
`Admission` uses it, refusal included, instead of admitting the request again, so it is costed and
charged once.

Time is bounded outside: `api.guard.guarded` runs whichever path answers a request to /graphql
(`api.app.AuthenticatedGraphQL` wraps the lane and Strawberry's view alike), with the deadline
`INCENTIVES_REQUEST_TIMEOUT` (504 TIMEOUT) and the watch for a client that leaves. Both paths share
it already; nothing here measures time.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from datetime import UTC, datetime
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

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
from strawberry.types import ExecutionContext

from adapters.budgets import Charge
from api import observed
from api.graphql.context import Context
from api.graphql.declared import declaration
from api.graphql.errors import ExpectedError, ForbiddenError
from api.graphql.limits import TOO_COMPLEX, asks_introspection, cost_of, root_selections, too_complex
from api.tracing import name_operation, recording
from auth.principal import Principal
from domain.access import Action, permits

if TYPE_CHECKING:
    from api.composition import Services

THROTTLED = "THROTTLED"
# Where the planned read's lane leaves its admission (`Admitted`) of a request it then hands to
# Strawberry's view, in the request's state.
ADMITTED = "admitted"
MAX_COSTS = 64  # remembered per plan (one for most documents: their page sizes are written in them)


class CostMemo(Protocol):
    """Costs of one document remembered by what they depend on in the variables (a plan's:
    `api.read.collect.Plan`)."""

    costs: dict[Hashable, int]

    def cost_key(self, variables: VariableValues) -> Hashable | None: ...


class Admitted(NamedTuple):  # a tuple: made for every request the lane answers
    """An operation's admission: its cost, the caller's budget after it, and its refusal (FORBIDDEN,
    QUERY_TOO_COMPLEX or THROTTLED) when it may not run."""

    cost: int
    charge: Charge
    refusal: GraphQLError | None = None

    @property
    def throttled(self) -> bool:
        """Refused by the budget: HTTP 429, `Retry-After` (`retry_after`)."""
        return not self.charge.allowed

    def retry_after(self) -> str:
        return str(self.charge.retry_after(time.time()))

    def extensions(self) -> dict[str, Any]:
        """The answer's `extensions` (`cost`)."""
        return cost_extension(self.cost, self.charge)


async def admit(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: VariableValues,
    principal: Principal,
    services: Services,
    *,
    memo: CostMemo | None = None,
    confirm: Callable[[], Awaitable[Principal]] | None = None,
) -> Admitted:
    """The operation's admission for these (coerced) variables: refused, or charged to the caller.

    `confirm` gives the caller confirmed (a remembered one read at their tenant's version): asked
    only when the cost is within the limit, so that a request refused for its cost runs no SQL."""
    cost = _cost(schema, document, operation, variables, memo)
    observed.admitted(operation.operation.value, operation.name.value if operation.name else None, cost)
    if confirm is not None and cost <= services.limits.cost:
        principal = await confirm()
    caller = caller_of(principal)
    refusal = _refusal(schema, document, operation, cost, principal, services)
    if refusal is not None:
        return Admitted(cost, await services.budgets.charge(caller, 0), refusal)  # told what is left
    charge = await services.budgets.charge(caller, cost)
    return Admitted(cost, charge, None if charge.allowed else _throttled(charge, cost))


def _cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: VariableValues,
    memo: CostMemo | None,
) -> int:
    key = None if memo is None else memo.cost_key(variables)
    if key is None:
        return cost_of(schema, document, operation, variables.coerced)
    assert memo is not None
    cost = memo.costs.get(key)
    if cost is None:
        cost = cost_of(schema, document, operation, variables.coerced)
        if len(memo.costs) < MAX_COSTS:
            memo.costs[key] = cost
    return cost


def _refusal(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    cost: int,
    principal: Principal,
    services: Services,
) -> GraphQLError | None:
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
    """`admit` in Strawberry's view: a refused operation's answer is its refusal (429 and
    `Retry-After` when throttled); a request the lane admitted is not admitted again.

    A remembered caller (`Context.unconfirmed`) is confirmed here before a mutation is admitted or
    refused (what they may write is decided for who they are now), and before a refusal that
    depends on who they are is told; a query's reads confirm them later (`ConfirmedCaller`)."""

    def __init__(self) -> None:
        super().__init__()
        self._admitted: Admitted | None = None

    async def on_execute(self) -> AsyncIterator[None]:
        execution = self.execution_context
        context = execution.context
        if execution.result is None and isinstance(context, Context):
            if recording() and execution.graphql_document is not None and isinstance(execution.query, str):
                operation = get_operation_ast(execution.graphql_document, execution.operation_name)
                name_operation(operation, execution.query)  # the request's server span
            admitted = getattr(getattr(context.request, "state", None), ADMITTED, None)
            if not isinstance(admitted, Admitted):
                admitted = await _admitted(execution, context)
            if admitted is not None and _hinges_on_the_caller(admitted) and not await context.confirm():
                # Refused (at no charge) for who the caller was: admitted for who they are now.
                admitted = await _admitted(execution, context)
            self._admitted = admitted
            if admitted is not None and admitted.refusal is not None:
                execution.result = ExecutionResult(None, [admitted.refusal])
                if admitted.throttled and context.response is not None:
                    context.response.status_code = 429
                    context.response.headers["Retry-After"] = admitted.retry_after()
        yield

    async def get_results(self) -> dict[str, Any]:
        if self._admitted is not None:
            return self._admitted.extensions()
        context = self.execution_context.context  # refused before admission: invalid, bad variables
        if not isinstance(context, Context):
            return {}
        return cost_extension(0, await context.services.budgets.charge(caller_of(context.principal), 0))


async def _admitted(execution: ExecutionContext, context: Context) -> Admitted | None:
    """The admission of the operation Strawberry is about to execute; None for the client's bad
    variables (graphql-core tells them: BAD_USER_INPUT)."""
    document = execution.graphql_document
    operation = None if document is None else get_operation_ast(document, execution.operation_name)
    if document is None or operation is None:
        return None
    schema = execution.schema._schema
    variables = get_variable_values(
        schema, operation.variable_definitions or (), dict(execution.variables or {})
    )
    if not isinstance(variables, VariableValues):
        return None
    confirm: Callable[[], Awaitable[Principal]] | None = None
    if context.unconfirmed is not None and (
        operation.operation is not OperationType.QUERY or asks_introspection(document, operation)
    ):
        confirm = context.confirmed
    return await admit(
        schema, document, operation, variables, context.principal, context.services, confirm=confirm
    )


def _hinges_on_the_caller(admitted: Admitted) -> bool:
    """Whether the refusal depends on who the caller is (FORBIDDEN), not on the request's cost or the
    caller's budget alone."""
    refusal = admitted.refusal
    code = None if refusal is None else (refusal.extensions or {}).get("code")
    return refusal is not None and code not in (TOO_COMPLEX, THROTTLED)


class ConfirmedCaller(SchemaExtension):
    """The last step before graphql-core executes an operation: a remembered caller not confirmed yet
    (`Context.unconfirmed`; a query the planned read did not answer) is confirmed at their
    tenant's version, read afresh when it moved, so no resolver acts for who they were."""

    async def on_execute(self) -> AsyncIterator[None]:
        execution = self.execution_context
        context = execution.context
        if execution.result is None and isinstance(context, Context) and context.unconfirmed is not None:
            await context.confirm()
        yield


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
