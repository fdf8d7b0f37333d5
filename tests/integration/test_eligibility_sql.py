"""The SQL form of eligibility (used by the batch jobs) agrees with the rule as written in Python."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import TypeVar

from sqlalchemy import insert, literal, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.eligibility import Standing, is_eligible
from domain.eligibility_sql import meets_criteria, meets_criteria_of
from domain.model import Agreement, Location, Organization, Program, ProgramCriterion
from domain.vocabulary import AgreementKind, CriterionKind, PartnerType, ProgramStatus
from tests.support.world import TODAY

K = TypeVar("K", AgreementKind, CriterionKind)


def subsets(items: list[K]) -> Iterator[frozenset[K]]:
    for size in range(len(items) + 1):
        for chosen in itertools.combinations(items, size):
            yield frozenset(chosen)


async def every_standing(session: AsyncSession) -> dict[int, Standing]:
    """A location for each partner type x agreements x designation (48), by location id."""
    standings: dict[int, Standing] = {}
    combinations = itertools.product(subsets(list(AgreementKind)), [False, True])
    for n, (agreements, designated) in enumerate(combinations):
        org_id = (
            await session.execute(
                insert(Organization)
                .values(
                    global_partner_id=f"9{n:05}",
                    legal_name=f"Org {n}",
                    country="US",
                    migration_completed=True,
                    solutions_partner_designated=designated,
                    created_at=TODAY,
                )
                .returning(Organization.id)
            )
        ).scalar_one()
        for kind in AgreementKind:  # inactive agreements count for nothing
            await session.execute(
                insert(Agreement).values(
                    organization_id=org_id, kind=kind, active=kind in agreements, updated_at=TODAY
                )
            )
        for partner_type in PartnerType:
            location_id = (
                await session.execute(
                    insert(Location)
                    .values(
                        organization_id=org_id,
                        partner_id=f"8{n:03}{len(standings):03}",
                        name=partner_type.value,
                        country="US",
                        partner_type=partner_type,
                        created_at=TODAY,
                    )
                    .returning(Location.id)
                )
            ).scalar_one()
            standings[location_id] = Standing(partner_type, frozenset(agreements), designated)
    return standings


async def every_program(session: AsyncSession) -> dict[int, frozenset[CriterionKind]]:
    """A program for each set of criteria (16), by program id."""
    programs: dict[int, frozenset[CriterionKind]] = {}
    for n, criteria in enumerate(subsets(list(CriterionKind))):
        program_id = (
            await session.execute(
                insert(Program)
                .values(code=f"P{n}", name=f"P{n}", status=ProgramStatus.ACTIVE, created_at=TODAY)
                .returning(Program.id)
            )
        ).scalar_one()
        for kind in criteria:
            await session.execute(insert(ProgramCriterion).values(program_id=program_id, kind=kind))
        programs[program_id] = frozenset(criteria)
    return programs


async def test_sql_eligibility_matches_the_rule_for_every_combination(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session:
        standings = await every_standing(session)
        programs = await every_program(session)
        await session.commit()
        pairs = (
            select(Location.id, Program.id, meets_criteria_of(Program.id))
            .join(Organization, Organization.id == Location.organization_id)
            .join(Program, literal(True))
        )
        found = {(location, program): bool(met) for location, program, met in await session.execute(pairs)}
        for program_id, criteria in programs.items():
            known = select(Location.id, meets_criteria(criteria)).join(
                Organization, Organization.id == Location.organization_id
            )
            for location_id, met in await session.execute(known):
                assert bool(met) == found[(location_id, program_id)]
    expected = {
        (location, program): is_eligible(criteria, standing)
        for location, standing in standings.items()
        for program, criteria in programs.items()
    }
    assert len(expected) == 48 * 16
    assert found == expected
