"""The planned read's own lane: a query the planned read already answers goes from the request's
body to its plan, its SQL and its JSON, past Strawberry's HTTP view, parser, validator and
extensions (each of which ran once for this document, when its plan was made).

    lane = Lane(plans)                        # the Plans the schema's PlannedReads fills
    body = await lane.answer(request, parsed_body, principal, services)
    if body is None: ...                      # Strawberry's view answers, as for any request

A plan exists only for a document that was parsed, validated (the shape limits included) and
answered by the planned read before: what the lane skips cannot refuse it. What depends on the
request is decided by the same functions as in Strawberry's view: the admission (cost, refusal,
charge: `api.graphql.admission.admit`, with the plan's remembered costs) and what the client sees
of the errors (`api.graphql.errors.show`).

The lane answers with status 200, and only what its own read gave without an error the view would
mask or tell as UNAVAILABLE. Strawberry's view answers the rest, as for any request:

- a refusal, from the lane's admission (left in the request's state, `admission.ADMITTED`, so it is
  not costed or charged again): its status is the view's (QUERY_TOO_COMPLEX is 400 as
  graphql-response+json, THROTTLED 429 with Retry-After);
- bad variables, and a document the plan cannot answer for these variables;
- a read that failed, or holds such an error: the view reads it again through a session of its
  own, and shows what it finds (`errors.show`, through its `process_errors`). On PostgreSQL the
  lane reads through the driver, on connections it keeps (`adapters.driver_reads`); when the
  database goes away or restarts, asyncpg fails on those in ways only SQLAlchemy's session takes
  for the database's absence ("connection is closed", "cannot switch to state ..."), which
  answered here would reach the client as masked errors instead of 503 UNAVAILABLE
  (tests/e2e/test_database_outage.py). Such answers are rare (a bug, an outage); only they are
  read twice.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson
from graphql.execution.values import VariableValues, get_variable_values
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from adapters.driver_reads import DriverReads, driver_reads
from api import observed
from api.graphql import errors
from api.graphql.admission import ADMITTED, admit
from api.graphql.context import Context
from api.read.collect import Plan
from api.read.engine import Run
from api.read.extension import Plans, executed
from api.read.versions import carried, version_on
from api.tracing import name_operation, recording
from auth.authenticate import Unconfirmed
from auth.principal import Principal
from domain.caller_versions import version_of

if TYPE_CHECKING:
    from api.composition import Services

# Where a request's remembered caller waits in its state for confirmation (`auth.authenticate.
# Unconfirmed`; the view's `Context.unconfirmed`), until their tenant's version is read.
UNCONFIRMED = "unconfirmed"


class Lane:
    def __init__(self, plans: Plans) -> None:
        self._plans = plans

    async def answer(
        self,
        request: Request,
        body: Any,
        principal: Principal,
        services: Services,
        unconfirmed: Unconfirmed | None = None,
    ) -> bytes | None:
        """The JSON answer (status 200) to a POSTed query that has a plan; None for Strawberry's
        view to answer.

        A remembered caller (`unconfirmed`) is confirmed by the version of their tenant's callers
        read with the first statement that brings a row (`DriverReads.carry`), else by one statement
        after the read: an answer given to a caller who no longer holds is never sent (None)."""
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
        if recording():
            name_operation(plan.operation, query)  # the request's server span
        admitted = await admit(
            plan.schema, plan.document, plan.operation, coerced, principal, services, memo=plan
        )
        state = request.state
        setattr(state, ADMITTED, admitted)
        if admitted.refusal is not None:
            return None  # the view answers with it (its status: 400 as graphql-response+json, 429)
        context = Context(
            request_id=state.request_id,
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
                if driver is not None and unconfirmed is not None:
                    driver.carry(*carried(unconfirmed))
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
                if unconfirmed is not None:
                    if not await _holds(services, unconfirmed, driver):
                        return None  # read afresh; Strawberry's view answers for who the caller is now
                    setattr(state, UNCONFIRMED, None)  # confirmed: the view, should it answer, need not
        except Exception:
            return None  # read again by the view (the module's docstring says why)
        if data is None:
            return None
        found = run.errors
        if found:
            if not errors.all_expected(found):
                return None  # read again by the view (the module's docstring says why)
            errors.show(found, request_id=state.request_id, suggestions=services.suggestions)
        self._plans.answered += 1
        observed.planned()
        answer: dict[str, Any] = {"data": data}
        if found:
            answer["errors"] = [error.formatted for error in found]
        answer["extensions"] = admitted.extensions()
        return orjson.dumps(answer)


async def _holds(services: Services, unconfirmed: Unconfirmed, driver: DriverReads | None) -> bool:
    """Whether the remembered caller holds: at the version the read carried, else one read now
    (on the read's own connection when it has one)."""
    authenticator = services.authenticator
    if driver is None:
        return await authenticator.confirm(unconfirmed)
    if driver.carried is None:  # no statement brought a row (or none ran)
        return await authenticator.confirm(unconfirmed, await version_on(driver, unconfirmed.tenant_id))
    return await authenticator.confirm(unconfirmed, version_of(driver.carried[0]))
