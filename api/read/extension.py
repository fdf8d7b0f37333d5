"""The planned read, plugged into Strawberry: after parsing and validation, a query the read model
answers is executed by it, and graphql-core is not called.

    plans = Plans()                                   # one per schema, shared by its requests
    Schema(..., extensions=[..., lambda: PlannedReads(plans)])

Strawberry skips its executor when an extension has set the execution context's result, so the
rest of the request (errors masked and logged, the HTTP answer) is as for any other operation.

A remembered caller (`Context.unconfirmed`) is confirmed by their tenant's version carried in the
read's first statement that brings a row (`api.read.versions.CarryingRows`); when it moved, the
caller is read afresh and the read done again for them.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

from graphql import ExecutionResult, GraphQLError, GraphQLSchema, OperationType, get_operation_ast
from graphql.execution.values import VariableValues, get_variable_values
from strawberry.extensions import SchemaExtension

from api import observed
from api.graphql.context import Context
from api.kept import Kept
from api.read.collect import Plan
from api.read.derived import read_model
from api.read.engine import ReadModel, Run, Unplannable
from api.read.versions import CarryingRows
from domain.database import is_unavailable

logger = logging.getLogger("incentives.read")

MAX_PLANS = 1000
# A document the read model cannot answer whatever the variables (a field it has no handler for).
UNANSWERABLE = object()


class Plans:
    """Plans by document text and operation name, least recently used first out; the trusted
    documents' plans (`pin`, made at start-up) are kept for good."""

    def __init__(self, capacity: int = MAX_PLANS) -> None:
        self._plans: Kept[tuple[str, str | None], Plan | object] = Kept(capacity)
        self._model: ReadModel | None = None
        self.answered = 0  # queries answered by the planned path (the rest went to graphql-core)

    def model(self, schema: GraphQLSchema) -> ReadModel:
        """The read model of the schema (the plans'), derived at the first plan."""
        if self._model is None:
            self._model = read_model(schema)
        return self._model

    def get(self, key: tuple[str, str | None]) -> Plan | object | None:
        return self._plans.get(key)

    def pin(self, key: tuple[str, str | None], plan: Plan) -> None:
        self._plans.pin(key, plan)

    def put(self, key: tuple[str, str | None], plan: Plan | object) -> None:
        # A trusted plan found unanswerable (`executed`) stays pinned, as UNANSWERABLE.
        self._plans.put(key, plan)


class PlannedReads(SchemaExtension):
    """Answers the queries the read model can answer; leaves everything else to graphql-core."""

    def __init__(self, plans: Plans) -> None:
        super().__init__()
        self._plans = plans

    async def on_execute(self) -> AsyncIterator[None]:
        execution = self.execution_context
        if execution.result is None and isinstance(execution.query, str):
            try:
                result = await answer(self._plans, execution.query, execution)
            except Exception as error:
                if not is_unavailable(error):
                    raise
                # As a resolver's failure would be: an error for the schema to tell (UNAVAILABLE).
                result = ExecutionResult(None, [GraphQLError(str(error), original_error=error)])
            if result is not None:
                execution.result = result
        yield


async def answer(plans: Plans, query: str, execution: Any) -> ExecutionResult | None:
    """The planned answer to a validated query, or None when graphql-core should answer."""
    document = execution.graphql_document
    context = execution.context
    if document is None or not isinstance(context, Context):
        return None
    # Keyed as the request named it (None when it did not): as the lane looks plans up.
    key = (query, getattr(execution, "_provided_operation_name", execution.operation_name))
    plan = plans.get(key)
    if plan is UNANSWERABLE:
        return None
    if plan is None:
        operation = get_operation_ast(document, execution.operation_name)
        if operation is None or operation.operation is not OperationType.QUERY:
            plans.put(key, UNANSWERABLE)
            return None
        plan = Plan.of(execution.schema._schema, document, operation)
        plans.put(key, plan)
    assert isinstance(plan, Plan)
    variables = get_variable_values(
        plan.schema, plan.operation.variable_definitions or (), execution.variables or {}
    )
    if not isinstance(variables, VariableValues):
        return None  # graphql-core reports the variables' errors
    model = plans.model(plan.schema)
    async with context.services.reads() as session:
        unconfirmed = context.unconfirmed
        carrying = None if unconfirmed is None else CarryingRows(lambda: session, unconfirmed)
        run = Run(plan, variables, context, lambda: session, model, rows=carrying)
        data = await executed(plans, key, run)
        if data is not None and carrying is not None and not await context.confirm(carrying.version()):
            # The caller was remembered at an older version: read again for who they are now.
            run = Run(plan, variables, context, lambda: session, model)
            data = await executed(plans, key, run)
    if data is None:
        return None
    plans.answered += 1
    observed.planned()
    return ExecutionResult(data=data, errors=run.errors or None)


async def executed(plans: Plans, key: tuple[str, str | None], run: Run) -> dict[str, Any] | None:
    """The run's data, or None when graphql-core must answer (the document then remembered as one
    the read model cannot answer, when that holds whatever the variables)."""
    try:
        return await run.execute()
    except Unplannable as why:
        if why.lasting:
            plans.put(key, UNANSWERABLE)
        return None
