"""The planned read path answers as graphql-core does on worlds hypothesis draws, on both databases.

Each example is a world drawn as plain data (`tests/api/world_plans.py`: organizations with
locations of mixed partner types, agreements and designation; programs with and without criteria,
some discontinued; role holders with scopes; enrollments of every stored status and of three fiscal
years; valid, lapsed and missing tax profiles), built on a database of its own
(`tests/api/random_worlds.py`) and compared (`tests/api/differential.py`) for every caller it has:
the curated corpus, reads of what these worlds vary and a handful of operations drawn from the
SDL, each with a few values of each kind of variable (`few_cases`: the edge world tries them all),
ids of every object in the world included.

The examples are the same on every run (`derandomize`; they change when `one_world` does), and
the same on both databases. INCENTIVES_WORLD_EXAMPLES runs more of them, e.g.
`INCENTIVES_WORLD_EXAMPLES=200 .venv/bin/python -m pytest tests/api/test_random_worlds.py -n 0`.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.access import Role
from domain.database import session_factory
from domain.vocabulary import AgreementKind, CriterionKind, PartnerType
from tests.api.differential import (
    CURATED,
    ENROLLMENT_FIELDS,
    Compared,
    EdgeWorld,
    compare,
    drawn_reads,
    planned_answer,
    variable_sets,
    with_ids,
)
from tests.api.random_worlds import build, operator
from tests.api.world_plans import (
    AssignmentPlan,
    EnrollmentPlan,
    InvitationPlan,
    LocationPlan,
    OrganizationPlan,
    PersonPlan,
    ProgramPlan,
    SubmissionPlan,
    Tax,
    WorldPlan,
    describe,
    worlds,
)
from tests.support.databases import copy_sqlite_database, empty_postgres_database, run_async
from tests.support.pgbouncer import engine_for
from tests.support.world import FISCAL_YEAR, World

# Four worlds per database (1,344 runs): on this machine 27 s on SQLite and 20 s on PostgreSQL when
# quiet, 45-47 s each while other engineers' tests ran (load average 6); a developer runs more.
EXAMPLES = int(os.environ.get("INCENTIVES_WORLD_EXAMPLES", "4"))
GENERATED = 4  # and a quarter more: 5 operations drawn from the SDL, asked in every world

# What the drawn worlds vary, read in one operation each: every object by id (a group of ids at a
# time), the operators' view of every organization and enrollment, and the people (roles, scopes,
# notices, contacts: graphql-core answers this one for the planned schema too, until the planned
# read reads people).
WORLD_READS = [
    """query($ids: [ID!]!) { nodes(ids: $ids) { id __typename
      ... on Organization { legalName migrationCompleted hasSolutionsPartnerDesignation
        agreements { kind active } paymentProfiles { name bankAccountLast4 } }
      ... on Location { name partnerType taxProfile { taxId expiresOn }
        enrollments { totalCount edges { node { status actionRequiredReason fiscalYear } } } }
      ... on IncentiveProgram { code programStatus: status openToAllPartners criteria }
      ... on Enrollment { """
    + ENROLLMENT_FIELDS
    + """ }
      ... on PaymentProfile { name currency bankAccountLast4 }
      ... on TaxProfile { taxId country expiresOn } } }""",
    """{ organizations(first: 3) { totalCount edges { node { legalName agreements { kind active }
        paymentProfiles { name } locations(first: 5) { edges { node { name partnerType
          enrollments(first: 10) { edges { node { status fiscalYear actionRequiredReason
            paymentProfile { name } } } } } } } } } }
      enrollments(first: 50) { totalCount edges { node { status fiscalYear actionRequiredReason
        earningsStartDate program { code status } location { name } } } } }""",
    """{ viewer { roles roleAssignments { role locations { name } programs { code } }
      invitations { fiscalYear channel program { code } location { name } }
      organization { adminContacts { displayName role }
        roleAssignments { totalCount edges { node { id role user { id objectId displayName }
          locations { name } programs { code } } } }
        locations { edges { node { name incentiveAdmins { displayName } } } } } } }""",
]


# One of everything, for the check that the world reads ask what they mean to.
SAMPLE = WorldPlan(
    organizations=(
        OrganizationPlan(
            locations=(
                LocationPlan(
                    tax_profiles=(Tax.VALID, Tax.EXPIRED),
                    enrollments=(EnrollmentPlan(1, payment_profile=True), EnrollmentPlan(2)),
                ),
                LocationPlan(PartnerType.INDIRECT_PROVIDER, (Tax.TOMORROW,)),
            ),
            agreements=((AgreementKind.PARTNER_PROGRAM, True),),
            payment_profiles=1,
            people=(
                PersonPlan((AssignmentPlan(Role.INCENTIVES_ADMIN),), global_admin=True),
                PersonPlan((AssignmentPlan(Role.INCENTIVES_USER, (1,), (1,)),)),
            ),
        ),
    ),
    programs=(ProgramPlan(invited=True), ProgramPlan((CriterionKind.PARTNER_PROGRAM_AGREEMENT,), True, True)),
    invitations=(InvitationPlan((1, 2), 2, FISCAL_YEAR - 1),),
    submissions=(SubmissionPlan((1, 2), 1, payment_profile=True, review=True),),
)
# Who may read each of WORLD_READS whole: an Incentives admin of everything who is Global admin too.
READERS = ("person 1.1", "operator", "person 1.1")


async def test_the_world_reads_are_answered_whole_without_errors(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """An answer that is an error (invalid, too costly, forbidden) would be the same on both paths
    and compare nothing: each world read is answered in full, for a caller who may read it all."""
    edge = await build(SAMPLE, World(sessions, operator=operator()))
    for document, reader in zip(WORLD_READS, READERS, strict=True):
        for variables in variable_sets(document, edge, every_case=False):
            answer = await planned_answer(edge, reader, document, variables)
            assert "errors" not in answer, (document, variables, answer)


@pytest.fixture(scope="module")
def drawn() -> list[str]:
    """Drawn before any world is (hypothesis-graphql's @given must not run inside another)."""
    return drawn_reads(GENERATED)


@pytest.fixture
def fresh_database(database_url: str, request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], str]:
    """A clean, migrated database for each example: the SQLite file copied again from the migrated
    template, or the session's PostgreSQL database emptied."""
    if not database_url.startswith("sqlite"):
        return lambda: _emptied(database_url)
    template: Path = request.getfixturevalue("sqlite_template")
    return lambda: _copied(template, tmp_path / "world.db")


def _copied(template: Path, target: Path) -> str:
    # The last example's engine is disposed: its file, WAL and shared memory can go.
    for suffix in ("", "-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    return copy_sqlite_database(template, target)


def _emptied(url: str) -> str:
    run_async(lambda: empty_postgres_database(url))
    return url


@dataclass
class Suspect:
    """Once a world differs, the document that differed there on the fewest runs. The worlds
    hypothesis shrinks that one to are compared on this document alone: each costs a few runs
    instead of the corpus's hundreds, so the shrinking gets far (a smaller world that differs on
    the same document is the same failure, told more plainly)."""

    document: str | None = None
    first_seen: int = 0  # the number of the world it was first seen in


def test_drawn_worlds_answer_as_graphql_core_does_for_every_caller(
    fresh_database: Callable[[], str], drawn: list[str]
) -> None:
    totals, numbers, suspect = Compared(), itertools.count(1), Suspect()

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.generate, Phase.shrink],  # no explain phase: it builds more worlds still
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(worlds())
    def one_world(plan: WorldPlan) -> None:
        number = next(numbers)
        only = None if suspect.document is None else {suspect.document}
        results = run_async(lambda: _compared(fresh_database(), plan, drawn, only=only))
        differing = {name: compared for name, compared in results.items() if compared.differences}
        if differing and suspect.document is None:
            suspect.document = min(differing, key=lambda name: differing[name].runs)
            suspect.first_seen = number
        _add(totals, results.values())
        differences = [line for compared in differing.values() for line in compared.differences]
        assert differences == [], (
            f"{len(differences)} differences (first in world {suspect.first_seen} drawn; {number} "
            f"worlds built by now) in\n{describe(plan)}\n\n"
            + "\n\n".join(differences[:3])
            + f"\n\nthe world as data: {plan!r}"
        )
        lane_missed = [name for name, compared in results.items() if compared.lane != compared.planned]
        assert lane_missed == [], f"the lane did not answer every planned read again: {lane_missed}"

    one_world()

    print(
        f"{EXAMPLES} worlds: {totals.runs} runs of {totals.operations} operations compared; "
        f"{totals.planned} answered by the planned path, {totals.lane} by the lane"
    )
    assert totals.planned >= totals.runs // 2, "the planned path answered few of the worlds' reads"


def _add(totals: Compared, results: Iterable[Compared]) -> None:
    for compared in results:
        totals.operations += compared.operations
        totals.runs += compared.runs
        totals.planned += compared.planned
        totals.lane += compared.lane


def corpus(edge: EdgeWorld, drawn: list[str]) -> dict[str, str]:
    """The documents asked in a world, by name: what the worlds vary, the curated corpus, and the
    operations drawn from the SDL with the world's ids and cursors."""
    named = {f"world read {number}": document for number, document in enumerate(WORLD_READS, 1)}
    named |= {f"curated {number}": document for number, document in enumerate(CURATED, 1)}
    for number, document in enumerate(drawn, 1):
        named[f"drawn {number}"] = with_ids([document], edge)[0]
    return named


async def _compared(
    url: str, plan: WorldPlan, drawn: list[str], *, only: set[str] | None
) -> dict[str, Compared]:
    """Each document of the corpus (or those named in `only`) compared in the plan's world, built
    on the database at `url`."""
    engine = engine_for(url)
    try:
        edge = await build(plan, World(session_factory(engine), operator=operator()))
        documents = corpus(edge, drawn)
        return {
            name: await compare(edge, [document], every_case=False)
            for name, document in documents.items()
            if only is None or name in only
        }
    finally:
        await engine.dispose()
