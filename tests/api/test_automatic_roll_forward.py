"""Rule 15: a running server rolls fiscal year N forward by itself on July 1 of N+1; nobody acts."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime

from domain.model import Enrollment
from domain.vocabulary import AgreementKind, EnrollmentStatus
from tests.support.configured_api import configured_api
from tests.support.databases import run_async
from tests.support.entra import RunningEntra
from tests.support.personas import operator
from tests.support.world import FISCAL_YEAR, world_on

ROLL = """mutation($input: RollOverFiscalYearInput!) {
  rollOverFiscalYear(input: $input) { carried actionRequired ineligible inactive userErrors { code } } }"""


def test_crossing_june_30_the_server_carries_the_enrolled_enrollments_by_itself(
    entra: RunningEntra, sqlite_url: str
) -> None:
    async def seed() -> int:
        async with world_on(sqlite_url) as world:
            org = await world.organization()
            await world.agree(org, AgreementKind.PARTNER_PROGRAM)
            location_id = await world.location(org)
            program_id = await world.program()
            return await world.enrolled(org, location_id, program_id, tax_expires=date(2028, 1, 1))

    async def next_year() -> list[tuple[EnrollmentStatus, int | None]]:
        async with world_on(sqlite_url) as world:
            rows = await world.rows(Enrollment, Enrollment.fiscal_year == FISCAL_YEAR + 1)
            return [(row.status, row.carried_from_id) for row in rows]

    enrolled_id = run_async(seed)
    with configured_api(sqlite_url, authority=entra.base_url, rollover_interval=0.1) as api:
        api.clock.at = datetime(2027, 6, 30, 23, 59, 59, tzinfo=UTC)  # the last second of FY 2027
        time.sleep(0.5)
        assert run_async(next_year) == []

        api.clock.at = datetime(2027, 7, 1, 0, 0, 1, tzinfo=UTC)  # FY 2028 has begun
        deadline = time.monotonic() + 15
        while not (carried := run_async(next_year)) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert carried == [(EnrollmentStatus.ENROLLED, enrolled_id)]

        # The operator's mutation (and any later round) finds nothing left to do.
        answer = api.graphql(ROLL, {"input": {"fromFiscalYear": FISCAL_YEAR}}, token=operator(entra).token)
        assert answer["data"]["rollOverFiscalYear"] == {
            "carried": 0,
            "actionRequired": 0,
            "ineligible": 0,
            "inactive": 0,
            "userErrors": [],
        }
        time.sleep(0.3)
        assert run_async(next_year) == [(EnrollmentStatus.ENROLLED, enrolled_id)]
