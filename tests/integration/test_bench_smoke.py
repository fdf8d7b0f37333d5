"""The benchmark's code paths, at a tiny scale, so that it cannot rot (the real run is not a test)."""

from __future__ import annotations

import bench.agreement
from bench.fiscal_year import measure, table
from bench.seed import Scale
from tests.support.world import FISCAL_YEAR


async def test_the_benchmark_seeds_rolls_forward_and_invites_200_locations(sqlite_url: str) -> None:
    timings = await measure(sqlite_url, Scale(200, 2, FISCAL_YEAR), "sqlite")
    assert [(t.operation, t.rows) for t in timings] == [
        ("seed", 400),
        ("roll-forward", 400),
        # N+1: the invitation program's 200; every enrolled location was carried (rules 16, 24).
        ("new-year invitations", 200),
        ("invitations", 200),
    ]
    assert "| sqlite | roll-forward | 400 |" in table(timings)


async def test_the_agreement_benchmark_takes_as_many_statements_for_200_locations_as_for_10() -> None:
    rows = await bench.agreement.run(locations=200, program_count=1)
    by_size = {(step, size): statements for step, size, statements, _ in rows}
    for step, _ in bench.agreement.STEPS:
        assert by_size[(step, 10)] == by_size[(step, 200)], step
