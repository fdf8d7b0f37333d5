"""The planned read's own lane: a query the planned read already answers goes from the request's
body to its plan, its SQL and its JSON, past Strawberry's HTTP view, parser, validator and
extensions (each of which ran once for this document, when its plan was made).

    lane = Lane(plans)                        # the Plans the schema's PlannedReads fills
    body = await lane.answer(request, parsed_body, principal, services)
    if body is None: ...                      # Strawberry's view answers, as for any request

A plan exists only for a document that was parsed, validated (the shape limits included) and
answered by the planned read before: what the lane skips cannot refuse it. What depends on the
request is done here as Strawberry's extensions do it: the variables coerced, the cost costed,
checked against the limit and charged to the caller (`api.graphql.admission`), errors formatted
as the masking extension leaves expected ones. Anything else (bad variables, a refusal, the
rate limit, an error that would be masked, the database away, a document the plan cannot answer
for these variables) goes to Strawberry's view; what was charged here is left in the request's
state so that it is not charged twice.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson
from graphql import GraphQLError
from graphql.execution.values import VariableValues, get_variable_values
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from adapters.driver_reads import driver_reads
from api.graphql import errors
from api.graphql.admission import ADMITTED, Admitted, caller_of, cost_extension
from api.graphql.context import Context
from api.graphql.limits import cost_of
from api.read.collect import Plan
from api.read.engine import Run
from api.read.extension import Plans, executed
from auth.principal import Principal
from domain.database import is_unavailable

if TYPE_CHECKING:
    from api.composition import Services

MAX_COSTS = 64  # remembered per plan (one for most documents: their page sizes are written in them)


class Lane:
    def __init__(self, plans: Plans) -> None:
        self._plans = plans

    async def answer(
        self, request: Request, body: Any, principal: Principal, services: Services
    ) -> bytes | None:
        """The JSON answer (status 200) to a POSTed query that has a plan; None for Strawberry's
        view to answer."""
        if request.method != "POST" or not isinstance(body, dict):
            return None
        query, name, variables = body.get("query"), body.get("operationName"), body.get("variables")
        extensions = body.get("extensions")
        well_formed = (
            isinstance(name, str | None)
            and isinstance(variables, dict | None)
            and isinstance(extensions, dict | None)  # else 400, as Strawberry's view says
        )
        if not isinstance(query, str) or not well_formed:
            return None
        key = (query, name)
        plan = self._plans.get(key)
        if not isinstance(plan, Plan):
            return None
        coerced = get_variable_values(plan.schema, plan.operation.variable_definitions or (), variables or {})
        if not isinstance(coerced, VariableValues):
            return None  # the client's bad variables: Strawberry tells it
        cost_key = plan.cost_key(coerced)
        cost = plan.costs.get(cost_key) if cost_key is not None else None
        if cost is None:
            cost = cost_of(plan.schema, plan.document, plan.operation, coerced.coerced)
            if cost_key is not None and len(plan.costs) < MAX_COSTS:
                plan.costs[cost_key] = cost
        if cost > services.limits.cost:
            return None
        charge = await services.budgets.charge(caller_of(principal), cost)
        if not charge.allowed:
            return None  # refused, so not charged: Strawberry refuses it again and says why
        setattr(request.state, ADMITTED, Admitted(cost, charge))
        context = Context(
            request_id=request.state.request_id,
            principal=principal,
            services=services,
            request=request,
        )
        made: list[AsyncSession] = []

        def session() -> AsyncSession:
            if not made:
                made.append(services.reads())
            return made[0]

        try:
            async with driver_reads(services.engine) as driver:
                run = Run(
                    plan,
                    coerced,
                    context,
                    session,
                    self._plans.model(plan.schema),
                    rows=driver,
                    writes_json=True,
                )
                try:
                    data = await executed(self._plans, key, run)
                finally:
                    if made:
                        await made[0].close()
        except Exception as failure:
            if is_unavailable(failure):
                return None  # Strawberry's view says UNAVAILABLE, with its status and Retry-After
            raise
        if data is None:
            return None
        found = run.errors
        if any(errors.should_mask(error) or _unavailable(error) for error in found):
            # Strawberry's view masks it and logs the original with the request id, or says
            # UNAVAILABLE with its status and Retry-After.
            return None
        if not services.suggestions:
            for error in found:
                errors.hide_suggestions(error)
        self._plans.answered += 1
        answer: dict[str, Any] = {"data": data}
        if found:
            answer["errors"] = [error.formatted for error in found]
        answer["extensions"] = cost_extension(cost, charge)
        return orjson.dumps(answer)


def _unavailable(error: GraphQLError) -> bool:
    return error.original_error is not None and is_unavailable(error.original_error)
