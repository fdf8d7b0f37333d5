"""Each status rule and its SQL twin agree on every input, on SQLite and PostgreSQL. Truth tables:
the status each caller is shown (rule 8) and the lists filtered by it, over every stored status x
caller kind x program state x tax profile validity; the lapse of a tax profile over every stored
status x tax profile (none, valid, expired) x fiscal year (past, current, next); the roll-forward's
next-year status over every input."""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import Boolean, Date, Integer, literal, null, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.access import Coverage, Grant, Role
from domain.fiscal import fiscal_year_of
from domain.model import Enrollment, Program
from domain.queries.enrollments import covered
from domain.rollover import next_year_status, next_year_status_sql, still_eligible, still_eligible_sql
from domain.shown_status import (
    STORED,
    can_show,
    shown_as_sql,
    shown_status,
    shown_status_sql,
    tax_profile_lapsed,
    tax_profile_lapsed_sql,
)
from domain.vocabulary import EnrollmentStatus, ProgramStatus

TODAY = date(2027, 3, 15)  # in FY2027
LOCATION, PROGRAM = 7, 70
# Who is calling, as what they see of one enrollment's (location, program): everything (an
# operator), nothing in progress (a Global admin, an Incentives user), an assignment covering it,
# and one covering another location only.
CALLERS = {
    "operator": Coverage(everything=True),
    "global admin": Coverage.none(),
    "incentives admin covering it": Coverage(
        False, (Grant(Role.INCENTIVES_ADMIN, frozenset({LOCATION}), frozenset({PROGRAM})),)
    ),
    "incentives admin elsewhere": Coverage(
        False, (Grant(Role.INCENTIVES_ADMIN, frozenset({LOCATION + 1}), None),)
    ),
}
EXPIRIES = {"no tax profile": None, "valid": TODAY + timedelta(days=30), "expired": TODAY}
YEARS = (fiscal_year_of(TODAY) - 1, fiscal_year_of(TODAY), fiscal_year_of(TODAY) + 1)


def _stored(status: EnrollmentStatus) -> Any:
    return literal(status, Enrollment.status.type)


async def test_the_status_each_caller_is_shown_is_the_same_in_sql(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    cases = itertools.product(sorted(STORED), CALLERS, ProgramStatus, (True, False))
    disagreements = []
    async with sessions() as session:
        for stored, caller, program, tax_valid in cases:
            coverage = CALLERS[caller]
            expected = shown_status(
                stored,
                program_active=program is ProgramStatus.ACTIVE,
                sees_detail=coverage.covers(LOCATION, PROGRAM),
                tax_profile_valid=tax_valid,
            )
            inputs: dict[str, Any] = {
                "program_active": literal(program, Program.status.type) == ProgramStatus.ACTIVE,
                "sees_detail": covered(coverage, literal(LOCATION, Integer), literal(PROGRAM, Integer)),
                "tax_profile_valid": literal(tax_valid, Boolean),
            }
            status = _stored(stored)
            shown_as = [shown_as_sql(s, status, **inputs).label(s.value) for s in EnrollmentStatus]
            if caller == "operator":  # an operator's list knows in Python that it sees the detail
                operator_inputs: dict[str, Any] = {**inputs, "sees_detail": True}
                shown_as = [
                    shown_as_sql(s, status, **operator_inputs).label(s.value) for s in EnrollmentStatus
                ]
            row = (
                await session.execute(select(shown_status_sql(status, **inputs).label("shown"), *shown_as))
            ).one()
            listed_as = {s for s in EnrollmentStatus if row._mapping[s.value]}
            if (row.shown, listed_as) != (expected.value, {expected}):
                disagreements.append(
                    f"{stored} {caller} {program} tax valid={tax_valid}: Python {expected}; "
                    f"SQL {row.shown}, listed as {sorted(listed_as)}"
                )
    assert disagreements == [], "\n".join(disagreements)


async def test_a_lapsed_tax_profile_is_the_same_in_sql(sessions: async_sessionmaker[AsyncSession]) -> None:
    cases = itertools.product(sorted(STORED), EXPIRIES, YEARS)
    disagreements = []
    async with sessions() as session:
        for stored, expiry, year in cases:
            expires = EXPIRIES[expiry]
            expected = tax_profile_lapsed(stored, year, expires, today=TODAY)
            lapsed = tax_profile_lapsed_sql(
                _stored(stored),
                literal(year, Integer),
                null() if expires is None else literal(expires, Date),
                today=literal(TODAY, Date),
                current_year=literal(fiscal_year_of(TODAY), Integer),
            )
            found = bool((await session.execute(select(lapsed))).scalar_one())
            if found is not expected:
                disagreements.append(f"{stored} {expiry} FY{year}: Python {expected}, SQL {found}")
    assert disagreements == [], "\n".join(disagreements)


@pytest.mark.parametrize("status", list(EnrollmentStatus))
def test_the_operators_filter_narrows_to_the_stored_statuses_that_can_show_so(
    status: EnrollmentStatus,
) -> None:
    # The filter may use an index on the stored status only when it names the right ones.
    shown_somewhere = {
        stored
        for stored, program, valid in itertools.product(STORED, (True, False), (True, False))
        if shown_status(stored, program_active=program, sees_detail=True, tax_profile_valid=valid) is status
    }
    assert can_show(status) == shown_somewhere


async def test_the_next_year_status_is_the_same_in_sql(sessions: async_sessionmaker[AsyncSession]) -> None:
    cases = list(itertools.product((True, False), (True, False), (True, False, None)))
    async with sessions() as session:
        for eligible, active, tax_valid in cases:
            statement = select(
                next_year_status_sql(
                    eligible=literal(eligible, Boolean),
                    program_active=literal(active, Boolean),
                    tax_valid=literal(tax_valid, Boolean),
                )
            )
            found = (await session.execute(statement)).scalar_one()
            # NULL: the location has no tax profile at all, which is not valid either.
            expected = next_year_status(eligible=eligible, program_active=active, tax_valid=bool(tax_valid))
            assert found is expected, (eligible, active, tax_valid)


async def test_who_is_still_eligible_is_the_same_in_sql(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as session:
        for meets, agreement, open_to_all in itertools.product((True, False), repeat=3):
            condition = still_eligible_sql(
                meets_criteria=literal(meets, Boolean),
                partner_agreement=literal(agreement, Boolean),
                open_to_all=literal(open_to_all, Boolean),
            )
            found = bool((await session.execute(select(condition))).scalar_one())
            expected = still_eligible(
                meets_criteria=meets, partner_agreement=agreement, open_to_all=open_to_all
            )
            assert found is expected, (meets, agreement, open_to_all)
