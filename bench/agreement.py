"""Benchmark of rule 18: the operator records the agreement of one organization of many locations.

    python -m bench.agreement [--locations 10000] [--programs 3]

On a SQLite file in a temporary directory: one organization with `--locations` direct resellers and
`--programs` active programs asking for the reseller agreement. Recording the agreement invites
every location for every program in the same transaction; lapsing it sets those enrollments
INELIGIBLE; recording it again brings them back to INVITED. Prints, for each step and for a small
organization of 10 beside it, the SQL statements it took and its time: the statements do not grow
with the number of locations.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import insert

import migrations
from adapters.driver_reads import every_statement
from auth.principal import GLOBAL_ADMINISTRATOR_WID, Identity, Principal, system_principal
from domain.database import create_engine, session_factory
from domain.model import Location
from domain.services import organizations, programs
from domain.uow import UnitOfWork
from domain.vocabulary import AgreementKind, CriterionKind, PartnerType

OPERATOR_TENANT = "00000000-0000-4000-8000-000000000001"
STEPS = (("record", True), ("lapse", False), ("record again", True))


async def organization_of(uow: UnitOfWork, size: int, name: str) -> int:
    org = await organizations.register_organization(
        uow,
        _global_admin(size),
        legal_name=name,
        country="SE",
        global_partner_id=None,
        migration_completed=True,
    )
    rows = [
        {
            "organization_id": org.id,
            "partner_id": f"9{size:03d}{n:07d}",
            "name": f"Site {n}",
            "country": "SE",
            "partner_type": PartnerType.DIRECT_RESELLER,
        }
        for n in range(size)
    ]
    async with uow.sessions() as session, session.begin():
        await session.execute(insert(Location), rows)
    return org.id


def _global_admin(size: int) -> Principal:
    identity = Identity(
        tenant_id=f"00000000-0000-4000-8000-{size:012d}",
        object_id=f"00000000-0000-4000-9000-{size:012d}",
        wids=frozenset({GLOBAL_ADMINISTRATOR_WID}),
    )
    return Principal(identity=identity)


async def run(locations: int, program_count: int) -> list[tuple[str, int, int, float]]:
    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite+aiosqlite:///{Path(directory) / 'agreement.db'}"
        await migrations.upgrade_async(url)
        engine = create_engine(url)
        try:
            uow = UnitOfWork(session_factory(engine))
            operator = system_principal(OPERATOR_TENANT)
            for n in range(program_count):
                await programs.create_program(
                    uow,
                    operator,
                    code=f"P{n}",
                    name=f"Program {n}",
                    criteria=[CriterionKind.RESELLER_AGREEMENT],
                )
            rows = []
            for size in (10, locations):
                organization_id = await organization_of(uow, size, f"Org of {size}")
                for step, active in STEPS:
                    with every_statement(engine) as statements:
                        started = time.perf_counter()
                        await organizations.record_agreement(
                            uow,
                            operator,
                            organization_id=organization_id,
                            kind=AgreementKind.RESELLER,
                            active=active,
                        )
                        elapsed = time.perf_counter() - started
                    rows.append((step, size, len(statements), elapsed))
            return rows
        finally:
            await engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--locations", type=int, default=10_000)
    parser.add_argument("--programs", type=int, default=3)
    args = parser.parse_args(argv)
    rows = asyncio.run(run(args.locations, args.programs))
    print(f"recordAgreement on SQLite, {args.programs} programs with criteria\n")
    print("| step | locations | SQL statements | seconds |")
    print("|---|---:|---:|---:|")
    for step, size, statements, seconds in rows:
        print(f"| {step} | {size:,} | {statements} | {seconds:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
